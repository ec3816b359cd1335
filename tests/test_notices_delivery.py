"""Notices to phones leave through one gateway adapter (issue 13 item 6): against a fake gateway on 127.0.0.1
that fails (500), hangs (longer than the timeout) and recovers, every message is retried with a capped,
jittered back-off, none is lost, none is accepted twice, and each one's status (attempts, last error, sent time)
is kept; two senders on one database never send one message twice; the adapter's body template, success rule
and environment variables; the presets of docs/notifications.md load and make the request they document."""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
import yaml

from notice_gateway import FakeGateway
from queue_server.config.notifications import Gateway, Notifications, Retry
from queue_server.notices import MessageSender
from queue_server.notices.gateway import build_request, message_values
from queue_server.store import Store
from queue_server.store import notifications as outbox

DOCS = Path(__file__).parent.parent / "docs" / "notifications.md"


@pytest.fixture
def gateway():
    gw = FakeGateway(hang_seconds=1.0)
    yield gw
    gw.close()


def http_config(config, url: str, **gw):
    fields = {"url": url, "timeout": 0.3, "body": {"to": "{phone_intl}", "text": "{text}", "ref": "{id}"},
              "success_field": "error", "success_value": 0, **gw}
    notes = Notifications(backend="http", gateway=Gateway(**fields),
                          retry=Retry(max_attempts=4, first_seconds=10, max_seconds=25, jitter=0.2))
    return config.model_copy(update={"notifications": notes})


def queue(store, n: int, kind: str = "otp") -> list[int]:
    return [outbox.queue_message(store, kind=kind, to_phone=f"09123456{i:02d}", body=f"Mã xác nhận đặt lịch: 4{i:05d}",
                                 dedupe=f"test:{kind}:{i}") for i in range(n)]


def row(store, mid: int) -> dict:
    return outbox.message(store, mid)


def test_fails_hangs_recovers_with_back_off_none_lost_none_twice(tmp_path, config, clock, gateway):
    store = Store(tmp_path / "q.sqlite3", http_config(config, gateway.url), clock=clock)
    sender = MessageSender(store)
    ids = queue(store, 2)
    start = store.now_ms()

    gateway.mode = "fail"  # 1st attempt: HTTP 500
    assert sender.send_all_due() == 2
    for mid in ids:
        r = row(store, mid)
        assert (r["state"], r["attempts"], r["last_status"], r["last_error"]) == ("pending", 1, 500, "HTTP 500")
        assert start + 8_000 <= r["next_ms"] <= start + 12_000  # 10 s ± 20 %
    assert sender.send_all_due() == 0  # backing off: nothing is due, nothing is sent

    clock.advance(13)
    gateway.mode = "hang"  # 2nd attempt: no answer within the 0.3 s timeout
    assert sender.send_all_due() == 2
    now = store.now_ms()
    for mid in ids:
        r = row(store, mid)
        assert (r["state"], r["attempts"], r["last_status"]) == ("pending", 2, None)
        assert "timed out" in r["last_error"]
        assert now + 16_000 <= r["next_ms"] <= now + 24_000  # doubled: 20 s ± 20 %

    clock.advance(25)
    gateway.mode = "ok"  # recovered
    assert sender.send_all_due() == 2
    sent_at = store.now_ms()
    for mid in ids:
        r = row(store, mid)
        assert (r["state"], r["attempts"], r["last_status"], r["last_error"], r["sent_ms"], r["via"]) == (
            "sent", 3, 200, "", sent_at, "http")
    refs = sorted(int(a["body"]["ref"]) for a in gateway.accepted)
    assert refs == sorted(ids)  # none lost, none accepted twice
    assert [r["mode"] for r in gateway.requests] == ["fail"] * 2 + ["hang"] * 2 + ["ok"] * 2
    accepted = {a["body"]["ref"]: a["body"] for a in gateway.accepted}
    assert accepted[str(ids[0])] == {"to": "84912345600", "text": "Mã xác nhận đặt lịch: 400000", "ref": str(ids[0])}
    clock.advance(3600)
    assert sender.send_all_due() == 0 and len(gateway.requests) == 6


def test_the_back_off_is_capped_and_a_message_dies_after_max_attempts_then_an_admin_retry_sends_it(
        tmp_path, config, clock, gateway):
    store = Store(tmp_path / "q.sqlite3", http_config(config, gateway.url), clock=clock)
    sender = MessageSender(store)
    (mid,) = queue(store, 1)
    gateway.mode = "refuse"  # a 200 whose answer says no: {"error": 1}
    waits = []
    for attempt in range(1, 5):
        assert sender.send_all_due() == 1
        r = row(store, mid)
        assert r["attempts"] == attempt and r["last_error"] == "error = 1"
        waits.append(r["next_ms"] - store.now_ms())
        clock.advance(60)
    assert row(store, mid)["state"] == "dead" and waits[-1] == 0
    assert 8_000 <= waits[0] <= 12_000 and 16_000 <= waits[1] <= 24_000 and 20_000 <= waits[2] <= 30_000  # cap 25 s
    assert sender.send_all_due() == 0  # dead stays dead
    assert outbox.retry_dead(store, mid, now=store.now_ms()) and not outbox.retry_dead(store, mid, now=store.now_ms())
    gateway.mode = "ok"
    assert sender.send_all_due() == 1
    r = row(store, mid)
    assert (r["state"], r["attempts"]) == ("sent", 1) and len(gateway.accepted) == 1


def test_two_senders_on_one_database_never_send_one_message_twice(tmp_path, config, clock):
    gw = FakeGateway(delay=0.01)
    try:
        cfg = http_config(config, gw.url)
        stores = [Store(tmp_path / "q.sqlite3", cfg, clock=clock) for _ in range(2)]
        ids = queue(stores[0], 40, kind="booking")
        senders = [MessageSender(s, batch=3) for s in stores]
        counts = [0, 0]

        def run(i):
            counts[i] = senders[i].send_all_due()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        refs = [int(a["body"]["ref"]) for a in gw.accepted]
        assert sorted(refs) == sorted(ids), "every message once, and only once"
        assert len(gw.requests) == 40 and sum(counts) == 40 and min(counts) > 0  # both took part
        assert outbox.counts(stores[1]) == {"dead": 0, "pending": 0, "sent": 40}
    finally:
        gw.close()


def test_the_adapter_fills_templates_reads_secrets_from_the_environment_and_fails_clearly_without_them(
        tmp_path, config, clock, gateway, monkeypatch):
    cfg = http_config(config, gateway.url, body_format="form", headers={"Authorization": "Bearer ${QMS_TEST_SMS_TOKEN}"},
                      body={"msisdn": "{phone}", "message": "{text}", "kind": "{kind}", "ref": "{id}"},
                      success_field=None, success_value=None)
    store = Store(tmp_path / "q.sqlite3", cfg, clock=clock)
    sender = MessageSender(store)
    monkeypatch.delenv("QMS_TEST_SMS_TOKEN", raising=False)
    (mid,) = queue(store, 1, kind="near")
    assert sender.send_all_due() == 1
    r = row(store, mid)
    assert r["state"] == "pending" and r["last_error"] == "environment variable QMS_TEST_SMS_TOKEN is not set"
    assert gateway.requests == []  # no request with an empty secret
    monkeypatch.setenv("QMS_TEST_SMS_TOKEN", "bi-mat-42")
    clock.advance(30)
    assert sender.send_all_due() == 1 and row(store, mid)["state"] == "sent"
    (got,) = gateway.requests
    assert got["headers"]["Authorization"] == "Bearer bi-mat-42"
    assert got["body"] == {"msisdn": "0912345600", "message": "Mã xác nhận đặt lịch: 400000", "kind": "near", "ref": str(mid)}


@pytest.mark.parametrize("bad, why", [
    ({"backend": "http"}, "needs a gateway"),
    ({"backend": "http", "gateway": {"url": "sms.example.vn/send"}}, "full http"),
    ({"backend": "http", "gateway": {"url": "https://sms.example.vn/send", "body": {"to": "{phone_number}"}}}, "unknown placeholders"),
    ({"backend": "http", "gateway": {"url": "https://x.vn/a", "body_format": "form", "body": {"a": {"b": "{text}"}}}}, "form body"),
    ({"backend": "http", "gateway": {"url": "https://x.vn/a", "success_value": 0}}, "needs success_field"),
    ({"retry": {"first_seconds": 60, "max_seconds": 10}}, "at least retry.first_seconds"),
    ({"near_ahead": -1}, "greater than or equal"),
])
def test_a_bad_notifications_section_is_refused(bad, why):
    with pytest.raises(ValueError, match=why):
        Notifications(**bad)


def presets() -> dict[str, dict]:
    """Each ```yaml block under a '### Preset: <name>' heading of docs/notifications.md."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.findall(r"^### Preset: ([^\n]+)\n.*?```yaml\n(.*?)```", text, re.S | re.M)
    return {name.strip(): yaml.safe_load(block)["notifications"] for name, block in found}


def test_the_documented_presets_load_and_make_the_request_they_document(monkeypatch):
    found = presets()
    assert {"generic HTTP SMS gateway", "Zalo ZNS"} <= set(found)
    monkeypatch.setenv("SMS_TOKEN", "t-123")
    monkeypatch.setenv("ZALO_ACCESS_TOKEN", "z-456")
    msg = {"id": 7, "to_phone": "0912345678", "body": "Mời công dân số A001 đến quầy 3", "kind": "called", "lang": "vi"}
    sms = build_request(Notifications(**found["generic HTTP SMS gateway"]).gateway, message_values(msg, "A001", "3"))
    assert sms.get_header("Authorization") == "Bearer t-123"
    assert json.loads(sms.data)["text"] == "Mời công dân số A001 đến quầy 3"
    zalo = Notifications(**found["Zalo ZNS"])
    req = build_request(zalo.gateway, message_values(msg, "A001", "3"))
    sent = json.loads(req.data)
    assert req.get_header("Access_token") == "z-456" and sent["phone"] == "84912345678"
    assert sent["template_data"] == {"ticket": "A001", "counter": "3", "message": "Mời công dân số A001 đến quầy 3"}
    assert re.fullmatch(r"\d+", str(sent["template_id"])) and sent["tracking_id"] == "7"
    assert zalo.channel == "zalo" and zalo.gateway.success_field == "error" and zalo.gateway.success_value == 0


def test_a_one_time_code_that_expires_before_the_gateway_takes_it_is_never_sent(tmp_path, config, clock, gateway):
    store = Store(tmp_path / "q.sqlite3", http_config(config, gateway.url), clock=clock)
    sender = MessageSender(store)
    (otp,), (near,) = queue(store, 1, "otp"), queue(store, 1, "near")
    gateway.mode = "fail"
    assert sender.send_all_due() == 2
    clock.advance(config.booking.otp.ttl_seconds)  # the code's lifetime is over while the gateway was down
    gateway.mode = "ok"
    assert sender.send_all_due() == 2
    assert (row(store, otp)["state"], row(store, otp)["attempts"]) == ("dead", 2)
    assert "expired" in row(store, otp)["last_error"]
    assert row(store, near)["state"] == "sent"
    assert [a["body"]["ref"] for a in gateway.accepted] == [str(near)]
