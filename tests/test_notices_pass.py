"""Which notices are queued (issue 13 item 6), in process on the injected clock: "Sắp đến lượt" once when a
ticket with a phone number has notifications.near_ahead or fewer ahead (the status page's count) and a counter
serving it is open; the call, again at a recall; nothing twice. The supervisor's broadcast reaches the
service's displays, its waiting tickets' status pages and the phones given for them, and is audited without a
phone number. The outbox backend keeps messages for admins; the retention purge deletes old numbers and texts."""
from __future__ import annotations

import json

import pytest

from queue_server.store import notifications as outbox

PHONES = {1: ("0911000001", "vi"), 3: ("0911000003", "en"), 4: ("0911000004", "vi"), 5: ("0911000005", "vi")}


def press(store, counter="5"):
    """ "Next" at a counter, a few seconds after the last press (a press within repeat_press_seconds repeats)."""
    store.clock.advance(3)
    return store.call_next(counter)


def messages(store, **kw) -> list[dict]:
    return sorted(outbox.outbox(store, **kw), key=lambda m: m["id"])


@pytest.fixture
def line(site):
    """Six Hộ tịch tickets (A001-A006); phones for the 2nd, 4th (English), 5th and 6th."""
    store = site.ctx.store
    tickets = [store.issue("civil", phone=PHONES[i][0] if i in PHONES else None,
                           lang=PHONES[i][1] if i in PHONES else "vi").ticket for i in range(6)]
    return store, site.app.extensions["qms_notices"], tickets


def test_near_once_at_n_ahead_then_the_call_and_again_at_a_recall(site, line):
    store, notices, t = line
    assert notices.finder.scan() == 0  # no counter serving Hộ tịch is open: nobody's turn is near
    store.set_counter_state("5", "open")  # counter 5 serves Hộ tịch only
    assert notices.finder.scan() == 2
    near = messages(store, kind="near")
    # ahead: A002 1, A004 3 (near_ahead 3: yes); A005 4, A006 5: not yet
    assert [(m["ticket_id"], m["to_phone"]) for m in near] == [(t[1]["id"], "0911000001"), (t[3]["id"], "0911000003")]
    assert near[0]["body"] == "Sắp đến lượt: số A002 (Hộ tịch), còn 1 người phía trước. Vui lòng đến gần khu vực quầy."
    assert near[1]["body"].startswith("Your turn is near: number A004 (Civil status), 3 ahead of you.")
    for m in near:  # the same count the status page shows
        ahead = int(m["body"].split("còn ")[1].split(" ")[0]) if m["lang"] == "vi" else int(m["body"].split(", ")[1].split(" ")[0])
        assert ahead == site.ctx.read.ticket_public(store.ticket(m["ticket_id"]))["waiting_ahead"]
    assert notices.finder.scan() == 0  # nothing twice

    press(store)  # A001 (no phone): A005 now has 3 ahead
    assert notices.finder.scan() == 1
    assert messages(store, kind="near")[-1]["ticket_id"] == t[4]["id"] and messages(store, kind="called") == []
    press(store)  # A002 is called (A001 finished): its call, and A006 has 3 ahead (A003, A004, A005)
    assert notices.finder.scan() == 2
    assert [m["ticket_id"] for m in messages(store, kind="near")] == [t[1]["id"], t[3]["id"], t[4]["id"], t[5]["id"]]
    (called,) = messages(store, kind="called")
    assert (called["ticket_id"], called["body"], called["to_phone"]) == (t[1]["id"], "Mời công dân số A002 đến quầy 5", "0911000001")
    store.recall(t[1]["id"], "5")  # a recall sends again: the công dân may have missed the first call
    assert notices.finder.scan() == 1 and notices.finder.scan() == 0
    assert [m["ticket_id"] for m in messages(store, kind="called")] == [t[1]["id"]] * 2
    assert len(messages(store, kind="near")) == 4 and notices.finder.scan() == 0


# (notifications.near_ahead, counter 5 open, the codes whose "near" is queued by this pass): people ahead
# A001 0, A002 1, A003 2, A004 3, A005 4, A006 5; each ticket's notice at most once
NEAR_TABLE = [
    (5, False, []),  # no counter serving Hộ tịch is open: nobody's turn is near
    (0, True, ["A001"]),
    (2, True, ["A002", "A003"]),
    (2, True, []),  # once only
    (4, True, ["A004", "A005"]),
    (100, True, ["A006"]),
]


def test_near_by_table(site, clock):
    store, notices = site.ctx.store, site.app.extensions["qms_notices"]
    for i in range(6):
        store.issue("civil", phone=f"09120000{i:02d}")
    base = store.config
    for near_ahead, open_, codes in NEAR_TABLE:
        store.reload_config(base.model_copy(update={"notifications": base.notifications.model_copy(update={"near_ahead": near_ahead})}))
        store.set_counter_state("5", "open" if open_ else "closed")
        before = {m["id"] for m in messages(store)}
        notices.finder.scan()
        got = [store.ticket(m["ticket_id"])["code"] for m in messages(store, kind="near") if m["id"] not in before]
        assert got == codes, (near_ahead, open_)


def test_no_call_notice_when_send_on_call_is_off_none_without_a_phone_and_none_stale(site, line, clock):
    store, notices, t = line
    cfg = store.config
    store.reload_config(cfg.model_copy(update={"notifications": cfg.notifications.model_copy(update={"send_on_call": False})}))
    store.set_counter_state("5", "open")
    press(store)  # A001: no phone
    press(store)  # A002
    notices.finder.scan()
    assert messages(store, kind="called") == []
    store.reload_config(cfg)
    store.recall(t[1]["id"], "5")  # on again: a later call is sent, the earlier ones were passed by
    notices.finder.scan()
    assert [m["ticket_id"] for m in messages(store, kind="called")] == [t[1]["id"]]
    store.recall(t[1]["id"], "5")  # recalled at 09:00:06 ...
    clock.advance(minutes=11)
    notices.finder.after_seq = None  # ... and a server started 11 minutes later does not send that stale call
    notices.finder.scan()
    assert len(messages(store, kind="called")) == 1


def test_the_outbox_backend_keeps_messages_for_admins_and_the_retention_purge_deletes_them(site, line, clock):
    store, notices, t = line
    store.set_counter_state("5", "open")
    assert notices.step() == 2  # the pass queued two, the sender took them
    assert {(m["state"], m["via"], m["attempts"]) for m in messages(store)} == {("sent", "outbox", 1)}
    assert notices.step() == 0
    clock.advance(days=29)
    fresh = store.issue("civil", phone="0911000099").ticket
    outbox.queue_message(store, kind="broadcast", to_phone="0911000099", body="Xin lỗi vì chậm trễ", ticket_id=fresh["id"])
    clock.advance(days=2)  # the first ones are 31 days old, retention_days is 30
    assert notices.purge() == {"messages": 2, "contacts": 4}
    assert [m["to_phone"] for m in messages(store)] == ["0911000099"]
    assert outbox.contact(store, fresh["id"]) is not None and outbox.contact(store, t[1]["id"]) is None


def test_a_broadcast_reaches_displays_status_pages_and_phones_and_is_audited_without_numbers(site, sio, line):
    store, notices, t = line
    sup, staff = site.login("super", "test-super"), site.login("canbo3", "test-staff")
    before = site.get("/api/v1/displays/hall-b").json()["state"]["display"]["notice"]
    phone = sio({"room": "ticket:" + t[3]["token"]})
    store.set_counter_state("5", "open")
    press(store)  # A001 (no phone) is called: A002-A006 wait
    text = "Quầy 5 tạm dừng 15 phút do sự cố mạng"
    r = site.post("/api/v1/services/civil/broadcast", {"text": text, "text_en": "Counter 5 paused for 15 minutes"}, headers=sup)
    assert r.status_code == 200, r.json()
    assert r.json()["messages"] == 4 and r.json()["pages"] == 5  # A001 was called: 5 wait, 4 of them gave a phone
    sent = messages(store, kind="broadcast")
    assert sorted(m["to_phone"] for m in sent) == ["0911000001", "0911000003", "0911000004", "0911000005"]
    by_phone = {m["to_phone"]: m["body"] for m in sent}
    assert by_phone["0911000001"] == f"Trung tâm Kiểm thử - số A002: {text}"
    assert by_phone["0911000003"] == "Test Centre - number A004: Counter 5 paused for 15 minutes"
    hall_b = site.get("/api/v1/displays/hall-b").json()["state"]["display"]
    assert hall_b["notice"] == " · ".join(x for x in (before, text) if x)
    assert text not in json.dumps(site.get("/api/v1/displays/hall-a").json(), ensure_ascii=False)  # police: not its service
    _, live, _ = phone.wait_for(lambda name, data: name == "service.notice")
    assert live == {"service": "civil", "text": text, "text_en": "Counter 5 paused for 15 minutes"}
    page = site.get("/t/" + t[3]["token"]).text
    assert text in page and "service-notice" in page and "status-notice.js" in page
    admin = site.login("admin", "test-admin")
    (event,) = [e for e in site.get("/api/v1/admin/audit", headers=admin).json()["events"] if e["type"] == "service.broadcast"]
    assert event["data"] == {"service": "civil", "text": text, "text_en": "Counter 5 paused for 15 minutes", "messages": 4}
    assert event["who"] == "super" and event["label"] == "Thông báo cho người đang chờ"
    assert "0911" not in json.dumps(store.events_since(0), ensure_ascii=False)  # no phone number in the log

    again = site.post("/api/v1/services/civil/broadcast", {"text": ""}, headers=sup)
    assert again.status_code == 200 and again.json()["messages"] == 0 and len(messages(store, kind="broadcast")) == 4
    assert site.get("/api/v1/displays/hall-b").json()["state"]["display"]["notice"] == before
    assert text not in site.get("/t/" + t[3]["token"]).text

    n = len(store.events_since(0))
    for headers, status in (({}, 401), (staff, 403)):
        assert site.post("/api/v1/services/civil/broadcast", {"text": "x"}, headers=headers).status_code == status
    assert site.post("/api/v1/services/nope/broadcast", {"text": "x"}, headers=sup).status_code == 404
    for bad in ({"text": "x" * 301}, {"text": 5}, {}, {"text": "x", "to": "all"}):
        r = site.post("/api/v1/services/civil/broadcast", bad, headers=sup)
        assert r.status_code == 400 and r.json()["error"] == "bad_request", bad
    assert len(store.events_since(0)) == n and len(messages(store, kind="broadcast")) == 4
