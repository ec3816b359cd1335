"""Signed webhooks, in process, against a real receiver on 127.0.0.1 (tests/webhook_receiver.py).

The server runs in this process on the test Clock with nothing in the background: a test sends the outbox's due
rows itself (`Deliverer.send_all_due`, what each receiver's background task runs), so back-off is measured on the
injected clock, not by waiting. The signature is checked with hmac here, not with the server's own helper.
"""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import yaml

from inproc import InProcessServer
from queue_server.cli.commands import main as qms
from queue_server.config import ConfigError, parse_config
from queue_server.webhooks import verify
from server_util import server_config
from webhook_receiver import Receiver

SECRET = "bí-mật-của-cổng-tỉnh-0123456789"
KIOSK = {"Authorization": "Bearer test-kiosk-token-1"}


@pytest.fixture
def receiver():
    made = []

    def start(port: int = 0, mode: str = "ok") -> Receiver:
        r = Receiver(port, mode).start()
        made.append(r)
        return r

    yield start
    for r in made:
        r.stop()


@pytest.fixture
def hooked(tmp_path, clock):
    """hooked(url, **webhook keys) -> the test centre in process with one webhook receiver, `portal`."""
    made = []

    def make(url: str, **hook) -> InProcessServer:
        path = server_config(tmp_path, now=clock())
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["integrations"] = {"webhooks": [{"id": "portal", "url": url, "secret": SECRET, "timeout": 2,
                                              "events": ["ticket.issued"], **hook}]}
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        site = InProcessServer(path, tmp_path / "qms.sqlite3", clock)
        made.append(site)
        return site

    yield make
    for site in made:
        site.close()


def deliver(site) -> int:
    return site.app.extensions["qms_webhooks"].send_all_due()


def issue(site) -> dict:
    r = site.post("/api/v1/tickets", {"service": "cccd"}, headers=KIOSK)
    assert r.status_code == 201, r.text
    return r.json()


def seqs(site, etype: str) -> list[int]:
    return [r[0] for r in site.ctx.store.conn.execute("SELECT id FROM events WHERE type = ? ORDER BY id", (etype,))]


def state(site) -> dict:
    if not hasattr(site, "admin_headers"):
        site.admin_headers = site.login("admin", "test-admin")  # a sign-in costs a password hash: once per site
    r = site.get("/api/v1/admin/webhooks", headers=site.admin_headers)
    assert r.status_code == 200, r.text
    [portal] = r.json()["webhooks"]
    return portal


def outbox_counts(site) -> dict:
    from queue_server.store import webhooks as outbox

    return outbox.delivery_state(site.ctx.store, "portal")["counts"]


def signed_right(request: dict) -> bool:
    ts = request["headers"]["x-qms-timestamp"]
    mac = hmac.new(SECRET.encode(), ts.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return request["headers"]["x-qms-signature"] == "sha256=" + mac


def test_events_reach_the_receiver_signed_with_their_seq_and_only_those_asked_for(hooked, receiver, clock):
    rec = receiver()
    site = hooked(rec.url, events=["ticket.issued", "ticket.called", "day.closed"])
    sup = site.login("super", "test-super")
    assert site.post("/api/v1/counters/1/open", headers=sup).status_code == 200  # counter.state: not asked for
    ticket = issue(site)
    assert site.post("/api/v1/counters/1/next", {"current": None}, headers=sup).status_code == 200
    refused = site.post("/api/v1/tickets", {"service": "no-such-service"}, headers=KIOSK)
    assert 400 <= refused.status_code < 500

    # Committed with the events, before anything is sent; the refused issue left no row.
    assert rec.got == [] and state(site)["counts"] == {"pending": 2, "delivered": 0, "dead": 0}
    assert deliver(site) == 2
    issued, called = seqs(site, "ticket.issued") + seqs(site, "ticket.called")
    assert rec.ids() == [issued, called]
    for request in rec.got:
        assert request["path"] == "/hooks/qms"
        assert request["headers"]["x-qms-timestamp"] == str(int(clock().timestamp()))
        assert signed_right(request)
        assert json.loads(request["body"])["id"] == int(request["headers"]["x-qms-event-id"])
    body = json.loads(rec.got[0]["body"])
    assert (body["type"], body["ticket"]["code"], body["service"]) == ("ticket.issued", ticket["code"], "cccd")
    assert json.loads(rec.got[1]["body"])["counter"] == "1"
    assert body["centre"] == site.ctx.config.centre.name and "\\u" not in rec.got[0]["body"].decode()  # diacritics kept
    # The signature covers every byte of the body and depends on the secret.
    first = rec.got[0]
    ts, sig, raw = first["headers"]["x-qms-timestamp"], first["headers"]["x-qms-signature"], first["body"]
    now_s = clock().timestamp()
    assert verify(SECRET, ts, raw, sig, now_s=now_s)
    assert not verify(SECRET, ts, raw.replace(b'"cccd"', b'"land"'), sig, now_s=now_s)
    assert not verify(SECRET + "x", ts, raw, sig, now_s=now_s)
    assert not verify(SECRET, ts, raw, sig, now_s=now_s + 301)  # an old request replayed is refused
    after = state(site)
    assert after["counts"] == {"pending": 0, "delivered": 2, "dead": 0}
    assert after["last_delivered"]["seq"] == called and deliver(site) == 0
    assert SECRET not in json.dumps(after)

    # The close of the day is an event too.
    site.ctx.store.close_day(actor="schedule")
    assert deliver(site) == 1
    closed = json.loads(rec.got[-1]["body"])
    assert closed["type"] == "day.closed" and closed["data"] == {"day": site.ctx.store.today(), "unserved": 1}  # the ticket at counter 1
    assert signed_right(rec.got[-1])

    # The delivery state is for admins only.
    assert site.get("/api/v1/admin/webhooks").status_code == 401
    assert site.get("/api/v1/admin/webhooks", headers=sup).status_code == 403


def test_a_receiver_restarted_mid_request_gets_the_same_event_again(hooked, receiver, clock):
    rec = receiver(mode="drop")  # takes the event, then dies without answering
    site = hooked(rec.url, retry_seconds=10)
    issue(site)
    assert deliver(site) == 1
    head = state(site)["first_pending"]
    assert head["attempts"] == 1 and head["last_error"]
    rec.stop()
    again = receiver(port=rec.port)  # the receiver is back, on the same address
    assert deliver(site) == 0  # backing off
    clock.advance(10)
    assert deliver(site) == 1
    assert again.ids() == rec.ids() == seqs(site, "ticket.issued")  # receivers drop it by X-QMS-Event-Id
    assert again.got[0]["body"] == rec.got[0]["body"]  # byte for byte
    assert signed_right(again.got[0]) and again.got[0]["headers"]["x-qms-timestamp"] == str(int(clock().timestamp()))
    assert state(site)["counts"] == {"pending": 0, "delivered": 1, "dead": 0}


def test_failures_back_off_doubling_up_to_the_cap_and_later_events_wait_in_order(hooked, receiver, clock):
    rec = receiver(mode="hang")
    site = hooked(rec.url, retry_seconds=10, retry_max_seconds=40, max_attempts=20, timeout=0.3)
    issue(site), issue(site)
    first, second = seqs(site, "ticket.issued")
    assert deliver(site) == 1  # the first times out; the second waits behind it
    assert "timed out" in state(site)["first_pending"]["last_error"]
    rec.mode = "fail"
    for delay in (10, 20, 40, 40):
        clock.advance(delay - 1)
        assert deliver(site) == 0, f"tried again before {delay} s"
        clock.advance(1)
        assert deliver(site) == 1, f"not tried again after {delay} s"
    assert rec.ids() == [first] * 5
    head = state(site)["first_pending"]
    assert (head["seq"], head["attempts"], head["last_status"], head["last_error"]) == (first, 5, 500, "HTTP 500")
    assert head["next_ms"] == int(clock().timestamp() * 1000) + 40_000
    rec.mode = "ok"
    clock.advance(40)
    assert deliver(site) == 2
    assert rec.ids()[-2:] == [first, second]


def test_a_dead_letter_after_max_attempts_lets_the_next_event_go_and_replay_sends_it_again(hooked, receiver, clock,
                                                                                       capsys):
    rec = receiver()
    site = hooked(rec.url, retry_seconds=5, max_attempts=3)
    issue(site), issue(site)
    first, second = seqs(site, "ticket.issued")
    rec.fail_ids = {first}  # this receiver refuses the first event, whatever happens
    assert deliver(site) == 1
    clock.advance(5)
    assert deliver(site) == 1
    clock.advance(10)
    assert deliver(site) == 2  # the third failure makes it a dead letter; the second event goes
    assert rec.ids() == [first, first, first, second]
    clock.advance(3600)
    assert deliver(site) == 0  # a dead letter is not tried again
    sender = site.app.extensions["qms_webhooks"]
    assert sender.forget_delivered() == 0  # delivered an hour ago: kept
    st = state(site)
    assert st["counts"] == {"pending": 0, "delivered": 1, "dead": 1}
    [dead] = st["dead_letters"]
    assert (dead["seq"], dead["type"], dead["attempts"], dead["last_status"]) == (first, "ticket.issued", 3, 500)
    assert SECRET not in json.dumps(st)

    rec.fail_ids = set()
    cfg, db = str(site.config_path), str(site.db)
    assert qms(["webhooks", "replay", "--since", str(first - 1), "--config", cfg, "--db", db]) == 0
    assert "portal: 2 events after seq" in capsys.readouterr().out
    assert state(site)["counts"] == {"pending": 2, "delivered": 0, "dead": 0}
    assert deliver(site) == 2
    assert rec.ids()[-2:] == [first, second]
    assert qms(["webhooks", "replay", "--since", "0", "--endpoint", "nope", "--config", cfg, "--db", db]) == 2
    assert qms(["webhooks", "status", "--config", cfg, "--db", db]) == 0
    assert "0 pending, 2 delivered, 0 dead" in capsys.readouterr().out

    # A receiver switched off by a config reload gets no new rows, and nothing is sent to it.
    data = yaml.safe_load(site.config_path.read_text(encoding="utf-8"))
    data["integrations"]["webhooks"][0]["enabled"] = False
    site.config_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert site.post("/api/v1/admin/reload", {}, headers=site.admin_headers).status_code == 200
    issue(site)
    assert deliver(site) == 0 and state(site)["counts"] == {"pending": 0, "delivered": 2, "dead": 0}
    assert state(site)["enabled"] is False

    clock.advance(days=30, seconds=1)
    assert sender.forget_delivered() == 2  # a month later the delivered rows go; the event log keeps the events
    assert outbox_counts(site) == {"pending": 0, "delivered": 0, "dead": 0}


@pytest.mark.parametrize("hook, problem", [
    ({"events": ["ticket.issue"]}, "unknown events"),
    ({"events": []}, "events"),
    ({"secret": "short"}, "secret"),
    ({"url": "ftp://portal.example/x"}, "url"),
    ({"url": "portal.example.gov.vn"}, "url"),
    ({"retry_seconds": 60, "retry_max_seconds": 30}, "retry_max_seconds"),
    ({"timeout": 0}, "timeout"),
])
def test_a_bad_webhook_is_a_config_error(hook, problem):
    data = yaml.safe_load(open(server_config.__globals__["FIXTURES"] / "centre.yaml", encoding="utf-8"))
    good = {"id": "portal", "url": "https://portal.example.gov.vn/qms", "secret": SECRET, "events": ["booking.*"]}
    data["integrations"] = {"webhooks": [{**good, **hook}]}
    with pytest.raises(ConfigError, match=problem):
        parse_config(yaml.safe_dump(data, allow_unicode=True))
    data["integrations"] = {"webhooks": [good, good]}
    with pytest.raises(ConfigError, match="twice"):
        parse_config(yaml.safe_dump(data, allow_unicode=True))
    data["integrations"] = {"webhooks": [good]}
    assert parse_config(yaml.safe_dump(data, allow_unicode=True)).integrations.webhooks[0].wants("booking.created")


def test_the_outbox_row_commits_or_rolls_back_with_its_event(tmp_path, config, clock):
    from queue_server.config.integrations import Integrations, Webhook
    from queue_server.store import Store, event_log
    from queue_server.store import webhooks as outbox

    hook = Webhook(id="portal", url="http://127.0.0.1:9/x", secret=SECRET, events=["day.*", "ticket.issued"])
    store = Store(tmp_path / "qms.sqlite3", config.model_copy(update={"integrations": Integrations(webhooks=[hook])}),
                  clock=clock)
    try:
        with pytest.raises(RuntimeError):
            with store.writer.transaction() as c:
                event_log.log(store, c, "day.closed", data={"day": store.today(), "unserved": 0})
                raise RuntimeError("the change fails after its event was written")
        assert outbox.delivery_state(store, "portal")["counts"]["pending"] == 0
        with store.writer.transaction() as c:
            seq = event_log.log(store, c, "day.closed", data={"day": store.today(), "unserved": 0})
            event_log.log(store, c, "admin.notice", data={})  # not asked for
        assert outbox.delivery_state(store, "portal")["first_pending"]["seq"] == seq
        assert outbox.delivery_state(store, "portal")["counts"]["pending"] == 1
    finally:
        store.close()
