"""The admin's outbox (issue 13 item 6): GET /api/v1/notifications/outbox is for admins only, filters by state
and kind, masks phone numbers but their last 3 digits and the digits of a one-time code's text (whole texts only
on a demo centre that asks for them), refuses a bad filter with a 400; a dead message can be retried (audited),
anything else is a clear 404/409 that changes nothing."""
from __future__ import annotations

import pytest

from queue_server.store import notifications as outbox


@pytest.fixture
def filled(site):
    store = site.ctx.store
    otp = outbox.queue_message(store, kind="otp", to_phone="0912345678", body="Mã xác nhận đặt lịch: 482913")
    near = outbox.queue_message(store, kind="near", to_phone="0987654321", body="Sắp đến lượt: số A002", lang="vi")
    with store.writer.transaction() as c:  # a message given up on (as the sender leaves it after max_attempts)
        c.execute("UPDATE messages SET state = 'dead', attempts = 6, last_status = 500, last_error = 'HTTP 500' WHERE id = ?", (near,))
    return store, otp, near


def test_the_outbox_is_masked_filtered_and_for_admins_only(site, filled):
    store, otp, near = filled
    admin, sup = site.login("admin", "test-admin"), site.login("super", "test-super")
    assert site.get("/api/v1/notifications/outbox").status_code == 401
    assert site.get("/api/v1/notifications/outbox", headers=sup).status_code == 403
    r = site.get("/api/v1/notifications/outbox", headers=admin).json()
    assert r["backend"] == "outbox" and r["counts"] == {"dead": 1, "pending": 1, "sent": 0} and not r["unmasked"]
    shown = {m["id"]: m for m in r["messages"]}
    assert shown[otp]["to"] == "•••••••678" and shown[otp]["body"] == "Mã xác nhận đặt lịch: ••••••"
    assert shown[near]["to"] == "•••••••321" and shown[near]["body"] == "Sắp đến lượt: số A002"
    assert (shown[near]["state"], shown[near]["attempts"], shown[near]["last_error"]) == ("dead", 6, "HTTP 500")
    assert "to_phone" not in shown[otp] and "0912345678" not in str(r) and "482913" not in str(r)
    assert [m["id"] for m in site.get("/api/v1/notifications/outbox?state=dead", headers=admin).json()["messages"]] == [near]
    assert [m["id"] for m in site.get("/api/v1/notifications/outbox?kind=otp", headers=admin).json()["messages"]] == [otp]
    for bad in ("state=lost", "kind=email", "limit=0", "limit=abc", "limit=100000"):
        r = site.get("/api/v1/notifications/outbox?" + bad, headers=admin)
        assert r.status_code == 400 and r.json()["error"] == "bad_request", bad

    cfg = store.config
    demo = cfg.model_copy(update={"centre": cfg.centre.model_copy(update={"demo": True}),
                                  "notifications": cfg.notifications.model_copy(update={"demo_show_bodies": True})})
    store.reload_config(demo.model_copy(update={"centre": cfg.centre}))  # the switch alone: still masked
    assert "482913" not in str(site.get("/api/v1/notifications/outbox", headers=admin).json())
    store.reload_config(demo)
    whole = site.get("/api/v1/notifications/outbox?kind=otp", headers=admin).json()
    assert whole["unmasked"] and whole["messages"][0]["body"] == "Mã xác nhận đặt lịch: 482913"
    assert whole["messages"][0]["to"] == "0912345678"


def test_an_admin_retries_a_dead_message_and_nothing_else(site, filled):
    store, otp, near = filled
    admin, sup = site.login("admin", "test-admin"), site.login("super", "test-super")
    url = f"/api/v1/notifications/outbox/{near}/retry"
    assert site.post(url, {}).status_code == 401 and site.post(url, {}, headers=sup).status_code == 403
    before = len(store.events_since(0))
    for bad, status, code in ((f"/api/v1/notifications/outbox/{otp}/retry", 409, "message_not_dead"),
                              ("/api/v1/notifications/outbox/999/retry", 404, "message_unknown"),
                              ("/api/v1/notifications/outbox/abc/retry", 404, "message_unknown"),
                              (f"/api/v1/notifications/outbox/{2**70}/retry", 404, "message_unknown")):
        r = site.post(bad, {}, headers=admin)
        assert (r.status_code, r.json()["error"]) == (status, code), bad
    assert len(store.events_since(0)) == before and outbox.message(store, near)["state"] == "dead"
    r = site.post(url, {}, headers=admin)
    assert r.status_code == 200 and (r.json()["state"], r.json()["attempts"], r.json()["to"]) == ("pending", 0, "•••••••321")
    assert site.post(url, {}, headers=admin).status_code == 409
    (event,) = [e for e in store.events_since(before)]
    assert event["type"] == "admin.message_retried" and event["data"] == {"message": near, "kind": "near"}
    site.app.extensions["qms_notices"].sender.send_all_due()
    assert outbox.message(store, near)["state"] == "sent"


def test_0016_adds_to_a_database_in_use_and_the_audit_log_keeps_its_index(tmp_path, config, clock):
    import sqlite3

    from sqlite_utils import Database

    from queue_server.store import Store
    from queue_server.store.schema import migrations

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    migrations.apply(Database(conn), stop_before="0016_notices")
    conn.execute("""INSERT INTO messages (created_ms, day, kind, to_phone, body, next_ms, state, attempts, sent_ms)
                    VALUES (1, '2026-11-24', 'otp', '0912345678', 'Mã: 123456', 1, 'sent', 1, 2)""")
    conn.commit()
    conn.close()
    store = Store(path, config, clock=clock)
    try:
        assert "0016_notices" in store.migrated
        (old,) = outbox.outbox(store)
        assert (old["state"], old["via"], old["last_attempt_ms"], old["body"]) == ("sent", "", None, "Mã: 123456")
        plan = " ".join(r[3] for r in store.conn.execute(
            """EXPLAIN QUERY PLAN SELECT id FROM events WHERE type GLOB 'admin.*'
               OR type IN ('service.updated', 'counter.services', 'service.broadcast') ORDER BY id DESC LIMIT 5"""))
        assert "events_audit" in plan
    finally:
        store.close()
