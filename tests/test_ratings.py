"""Ratings: the attribution rules (tables), against the real store, and end to end through a real server with a
keypad on a pseudo-terminal, read by the agent process and by the server itself."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from queue_server.core import rating as R
from feedback_buttons.agent.decoders import qms_frame
from feedback_buttons.server.recorder import RatingIn, RatingRecorder
from keypad_util import FakeKeypad, Listener, keypad_config, wait_until
from queue_server.config import parse_config
from queue_server.core.errors import DomainError
from server_util import KIOSK, ROOT, ServerProcess

W = 60_000
C = R.Candidate


# ------------------------------------------------------------------ the rules, as a table
def cand(tid, status="done", called=0, started=None, finished=None, rated=False, presses=0):
    return C(tid, status, called, started, finished, rated, presses)


ATTRIBUTION = [
    # label, press at (ms), candidates, expected (status, ticket, flags)
    ("nothing at the counter", 100_000, [], (R.UNATTRIBUTED, None, ())),
    ("finished 10 s ago", 100_000, [cand(1, finished=90_000)], (R.ATTRIBUTED, 1, ())),
    ("finished 10 s ago, already rated", 100_000, [cand(1, finished=90_000, rated=True, presses=1)], (R.REPEAT, 1, ())),
    ("finished 70 s ago: too late", 100_000, [cand(1, finished=30_000)], (R.UNATTRIBUTED, None, ())),
    ("finished exactly a window ago", 100_000, [cand(1, finished=40_000)], (R.ATTRIBUTED, 1, ())),
    ("finished just after the press (pressed while served)", 100_000, [cand(1, started=50_000, finished=100_400)],
     (R.ATTRIBUTED, 1, ("near_finish",))),
    ("finished 0.5 s before", 100_000, [cand(1, finished=99_500)], (R.ATTRIBUTED, 1, ("near_finish",))),
    ("finished 1.5 s before", 100_000, [cand(1, finished=98_500)], (R.ATTRIBUTED, 1, ())),
    ("called, never started, no finish nearby", 100_000, [cand(2, "called", called=20_000)], (R.ATTRIBUTED, 2, ())),
    ("being served", 100_000, [cand(2, "serving", called=20_000, started=30_000)], (R.ATTRIBUTED, 2, ())),
    ("being served, already rated", 100_000, [cand(2, "serving", called=20_000, started=30_000, rated=True, presses=1)],
     (R.REPEAT, 2, ())),
    ("just finished beats the next one being served", 100_000,
     [cand(1, finished=95_000), cand(2, "serving", called=96_000, started=97_000)], (R.ATTRIBUTED, 1, ())),
    ("finished and rated: the next one being served gets it", 100_000,
     [cand(1, finished=95_000, rated=True, presses=1), cand(2, "serving", called=96_000, started=97_000)],
     (R.ATTRIBUTED, 2, ())),
    ("finished and rated, next only called: a repeat of the finished", 100_000,
     [cand(1, finished=95_000, rated=True, presses=1), cand(2, "called", called=96_000)], (R.REPEAT, 1, ())),
    ("called after the press does not count", 100_000, [cand(1, finished=80_000), cand(2, "called", called=100_500)],
     (R.ATTRIBUTED, 1, ())),
    ("the later of two finished", 100_000, [cand(1, finished=70_000), cand(2, finished=90_000)], (R.ATTRIBUTED, 2, ())),
    ("third press of a ticket", 100_000, [cand(1, finished=90_000, rated=True, presses=2)],
     (R.REPEAT, 1, ("many_presses",))),
    ("no-show tickets are not rated", 100_000, [cand(1, "no_show", finished=90_000)], (R.UNATTRIBUTED, None, ())),
]


@pytest.mark.parametrize("label,at,cands,expected", ATTRIBUTION, ids=[a[0] for a in ATTRIBUTION])
def test_attribution_table(label, at, cands, expected):
    d = R.attribute(at, cands, R.Thresholds(window_ms=W))
    assert (d.status, d.ticket_id, d.flags) == expected


@pytest.mark.parametrize("ticket,cands,expected", [
    (1, [cand(1, finished=90_000)], (R.ATTRIBUTED, 1)),
    (1, [cand(1, finished=90_000, rated=True, presses=1)], (R.REPEAT, 1)),
    (1, [cand(1, finished=30_000)], None),  # too late
    (2, [cand(1, finished=90_000), cand(2, finished=80_000)], None),  # not the last one finished
    (3, [cand(1, finished=90_000)], None),  # not at this counter
    (4, [cand(4, "serving", called=50_000, started=60_000)], (R.ATTRIBUTED, 4)),
])
def test_attribution_to_a_named_ticket(ticket, cands, expected):
    d = R.attribute_to(ticket, 100_000, cands, R.Thresholds(window_ms=W))
    assert (None if d is None else (d.status, d.ticket_id)) == expected


@pytest.mark.parametrize("buttons,kw,level", [
    ({"1": 3, "2": 2, "3": 1}, {"button": "1"}, 3), ({"1": 3, "2": 2, "3": 1}, {"button": "3"}, 1),
    ({"1": 3, "2": 2, "3": 1}, {"button": "4"}, None), ({}, {"button": "2"}, 2), ({}, {"button": "5"}, None),
    ({}, {"button": "x"}, None), ({"1": 3}, {"level": 2}, 2), ({"1": 3}, {"level": 7}, None), ({}, {}, None),
])
def test_button_to_level(buttons, kw, level):
    assert R.level_for(buttons, [3, 2, 1], **kw) == level


def _r(tid, counter="3", status=R.ATTRIBUTED, level=3, flags=(), source="keypad:kp3", staff=7, service="civil"):
    return {"ticket_id": tid, "counter_id": counter, "status": status, "level": level, "flags": list(flags),
            "source": source, "staff_id": staff, "service_id": service}


def test_summary_figures_and_flags():
    ratings = [_r(i, flags=["near_finish"]) for i in range(1, 6)]  # counter 3: every rating at the finish
    ratings += [_r(10, counter="4", level=1), _r(10, counter="4", status=R.REPEAT, level=1),
                _r(10, counter="4", status=R.REPEAT, level=3), _r(None, counter="4", status=R.UNATTRIBUTED)]
    s = R.summarize(ratings, positive_levels={3, 2}, finished={"3": 5, "4": 2, "5": 12},
                    keypads=[("kp3", "3"), ("kp5", "5")], rules=R.FlagRules(min_ratings=5, near_finish_share=0.8))
    assert (s["total"], s["counted"], s["positive"], s["repeats"], s["unattributed"]) == (9, 6, 5, 2, 1)
    assert s["satisfied_rate"] == round(5 / 6, 4) and s["levels"] == {"3": 5, "1": 1}
    by = {c["counter"]: c for c in s["counters"]}
    assert by["3"]["flags"] == ["ratings_at_finish"] and by["3"]["rated_share"] == 1.0
    assert by["4"]["flags"] == ["many_presses"] and by["4"]["satisfied_rate"] == 0.0
    assert by["5"]["counted"] == 0 and by["5"]["rated_share"] == 0.0
    assert {(f["flag"], f["counter"]) for f in s["flags"]} == {("ratings_at_finish", "3"), ("many_presses", "4"),
                                                               ("keypad_silent", "5")}
    assert [k["flags"] for k in s["keypads"]] == [[], ["keypad_silent"]]


def test_summary_needs_enough_ratings_before_judging():
    s = R.summarize([_r(i, flags=["near_finish"]) for i in range(4)], positive_levels={3}, finished={"3": 4},
                    keypads=[], rules=R.FlagRules(min_ratings=5))
    assert s["flags"] == []


# ------------------------------------------------------------------ against the store
@pytest.fixture
def rstore(tmp_path, clock):
    from queue_server.store import Store

    data = yaml.safe_load((Path(__file__).parent / "fixtures" / "centre.yaml").read_text(encoding="utf-8"))
    data["rating"]["low_reasons"] = ["Thời gian chờ lâu", "Khác"]
    data["devices"]["keypads"] = [{"id": "kp3", "counter": "3", "port": "loop://", "device_id": "K03"}]
    s = Store(tmp_path / "r.sqlite3", parse_config(yaml.safe_dump(data, allow_unicode=True)), clock=clock)
    for c in s.config.counters:
        s.set_counter_state(c.id, "open")
    yield s
    s.close()


def served(store, clock, counter="3", service="civil", staff_id=None):
    t = store.issue(service).ticket
    clock.advance(5)
    store.call_next(counter, staff_id=staff_id)
    clock.advance(60)
    store.finish(t["id"], counter)
    return t


def press(rec, rid, button="1", age_ms=0, **kw):
    return rec.record(RatingIn(rid, kw.pop("counter", "3"), kw.pop("source", "keypad:kp3"), button=button,
                               age_ms=age_ms, **kw))


def test_rating_is_stored_with_its_event_once(rstore, clock):
    rec = RatingRecorder(rstore)
    t = served(rstore, clock)
    clock.advance(5)
    view, created = press(rec, "r-0000001", "1")
    assert created and view["status"] == "attributed" and view["ticket"] == t["id"] and view["level"] == 3
    assert (view["service"], view["department"], view["counter"]["id"]) == ("civil", "justice", "3")
    again, created = press(rec, "r-0000001", "3")  # a retry of the same rating: the stored one, unchanged
    assert not created and again == view
    events = [e for e in rstore.events_since(0) if e["type"] == "rating.recorded"]
    assert len(events) == 1 and events[0]["ticket_id"] == t["id"] and events[0]["data"]["rating"] == "r-0000001"
    row = rstore.conn.execute("SELECT pressed_ms, received_ms, day FROM ratings").fetchone()
    assert row["pressed_ms"] == row["received_ms"] == rstore.now_ms() and row["day"] == rstore.today()


def test_one_counted_rating_per_ticket_even_in_the_database(rstore, clock):
    rec = RatingRecorder(rstore)
    t = served(rstore, clock)
    press(rec, "r-0000001")
    second, _ = press(rec, "r-0000002", "3")
    assert second["status"] == "repeat" and second["ticket"] == t["id"]
    assert rec.of_ticket(t["id"])["rating"]["id"] == "r-0000001"
    with pytest.raises(sqlite3.IntegrityError):
        with rstore.writer.transaction() as c:
            c.execute("UPDATE ratings SET status = 'attributed' WHERE id = 'r-0000002'")
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        with rstore.writer.transaction() as c:
            c.execute("DELETE FROM ratings")


def test_unattributed_and_too_late(rstore, clock):
    rec = RatingRecorder(rstore)
    view, _ = press(rec, "r-0000001")
    assert view["status"] == "unattributed" and view["ticket"] is None
    served(rstore, clock)
    clock.advance(61)
    view, _ = press(rec, "r-0000002")
    assert view["status"] == "unattributed"


def test_a_late_delivery_is_dated_by_its_age(rstore, clock):
    """An agent that was cut off delivers 10 minutes later: the press is dated received - age_ms."""
    rec = RatingRecorder(rstore)
    t = served(rstore, clock)
    clock.advance(600)
    view, _ = press(rec, "r-0000001", "2", age_ms=595_000)
    assert view["status"] == "attributed" and view["ticket"] == t["id"] and view["flags"] == ["delayed"]
    assert view["pressed_ms"] == rstore.now_ms() - 595_000


def test_flags_stored_and_presses_capped(rstore, clock):
    rec = RatingRecorder(rstore)
    t = served(rstore, clock)
    first, _ = press(rec, "r-0000000")
    assert first["flags"] == ["near_finish"]
    cap = rstore.config.rating.flags.max_presses_recorded
    for i in range(1, cap):
        v, _ = press(rec, f"r-{i:07d}")
        assert v["status"] == "repeat" and ("many_presses" in v["flags"]) == (i + 1 >= 3)
    with pytest.raises(DomainError) as err:
        press(rec, "r-9999999")
    assert err.value.code == "too_many_presses"
    assert rec.of_ticket(t["id"])["presses"] == cap


@pytest.mark.parametrize("kw,code", [
    ({"button": "9"}, "rating_button_unknown"), ({"button": None, "level": 7}, "rating_level_unknown"),
    ({"counter": "99"}, "counter_unknown"), ({"age_ms": -1}, "bad_request"),
])
def test_bad_ratings_change_nothing(rstore, clock, kw, code):
    rec = RatingRecorder(rstore)
    with pytest.raises(DomainError) as err:
        press(rec, "r-0000001", **kw)
    assert err.value.code == code
    assert rstore.conn.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0


def test_anonymous_page_rates_only_the_ticket_just_finished(rstore, clock):
    rec = RatingRecorder(rstore)
    page = {"source": "tablet:3", "anonymous": True}
    with pytest.raises(DomainError, match="no service waiting"):
        press(rec, "r-0000001", **page)  # nothing finished: refused, not stored
    t1 = served(rstore, clock)
    t2 = served(rstore, clock, service="records")
    with pytest.raises(DomainError):
        press(rec, "r-0000002", ticket=t1["id"], **page)  # not the last one finished
    with pytest.raises(DomainError):
        press(rec, "r-0000003", ticket=t2["id"], age_ms=61_000, **page)  # back-dated beyond the window
    view, _ = press(rec, "r-0000004", ticket=t2["id"], **page)
    assert view["status"] == "attributed" and view["ticket"] == t2["id"]
    assert rstore.conn.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 1


def test_reason_for_a_low_rating(rstore, clock):
    rec = RatingRecorder(rstore)
    served(rstore, clock)
    low, _ = press(rec, "r-0000001", "3", source="tablet:3")
    with pytest.raises(DomainError, match="rating.low_reasons"):
        rec.set_reason("r-0000001", "Vì sao?", anonymous=True, actor=None)
    got = rec.set_reason("r-0000001", "Thời gian chờ lâu", anonymous=True, actor=None)
    assert got["reason"] == "Thời gian chờ lâu" and not got["positive"]
    with pytest.raises(DomainError, match="already"):
        rec.set_reason("r-0000001", "Khác", anonymous=True, actor=None)
    served(rstore, clock)
    press(rec, "r-0000002", "1", source="tablet:3")
    with pytest.raises(DomainError, match="low ratings only"):
        rec.set_reason("r-0000002", "Khác", anonymous=True, actor=None)
    served(rstore, clock)
    press(rec, "r-0000003", "3")  # a keypad's rating: the anonymous page may not give its reason
    with pytest.raises(DomainError) as err:
        rec.set_reason("r-0000003", "Khác", anonymous=True, actor=None)
    assert err.value.code == "forbidden"
    clock.advance(61)
    with pytest.raises(DomainError, match="too late"):
        rec.set_reason("r-0000003", "Khác", anonymous=False, actor="agent:a")
    assert [e["data"]["reason"] for e in rstore.events_since(0) if e["type"] == "rating.reason"] == ["Thời gian chờ lâu"]


def test_day_summary_from_the_store(rstore, clock):
    rec = RatingRecorder(rstore)
    for i in range(5):
        served(rstore, clock)
        press(rec, f"r-{i:07d}", "1")  # every one within a second of the finish
    out = rec.day(rstore.today())
    assert out["summary"]["counted"] == 5 and out["summary"]["satisfied_rate"] == 1.0
    assert {f["flag"] for f in out["summary"]["flags"]} == {"ratings_at_finish"}
    assert [r["code"] for r in out["ratings"]] == [t["code"] for t in rstore.tickets()]


# ------------------------------------------------------------------ end to end: a real server, a keypad on a pty
KP3 = {"id": "kp3", "counter": "3", "decoder": "qms-line", "device_id": "K03", "debounce_ms": 0}


def serve_and_rate(server, keypad: FakeKeypad, canbo3: dict, seq: int) -> dict:
    t = server.post("/api/v1/tickets", {"service": "civil"}, KIOSK).json()
    assert server.post("/api/v1/counters/3/next", None, canbo3).status_code == 200
    assert server.post(f"/api/v1/tickets/{t['id']}/finish", None, canbo3).status_code == 200
    frame = qms_frame("P", "K03", seq, "B1")
    keypad.write(frame[:7])  # split across writes
    keypad.write(frame[7:])
    assert qms_frame("A", "K03", seq) in keypad.read(5, until=qms_frame("A", "K03", seq))
    return t


def check_counted_once(server, canbo3, t, sup):
    got = wait_until(lambda: server.get(f"/api/v1/tickets/{t['id']}/rating", canbo3).json()["rating"], 10,
                     what="the rating on the ticket")
    assert got["level"] == 3 and got["label"] == "Rất hài lòng" and got["counter"]["id"] == "3"
    assert (got["service"], got["department"], got["status"]) == ("civil", "justice", "attributed")
    staff = server.get("/api/v1/me", canbo3).json()["id"]
    assert got["staff_id"] == staff
    summary = server.get("/api/v1/ratings", sup).json()["summary"]
    assert summary["counted"] == 1
    return got


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One server for the agent end to end and the HTTP rules: kp3 on a pty at counter 3, kp5 on loop://."""
    tmp = tmp_path_factory.mktemp("site")
    keypad = FakeKeypad(tmp / "ttyKEYPAD3")
    cfg = keypad_config(tmp, [{**KP3, "port": str(keypad.path), "agent": "agent-1"},
                              {"id": "kp5", "counter": "5", "port": "loop://", "device_id": "K05", "agent": "agent-1"}])
    server = ServerProcess(cfg, tmp / "qms.sqlite3", "gevent").start()
    yield {"tmp": tmp, "keypad": keypad, "server": server}
    server.stop()
    keypad.close()


@pytest.fixture
def e2e(tmp_path):
    parts = {}
    yield parts
    for name in ("agent", "server"):
        obj = parts.get(name)
        if isinstance(obj, subprocess.Popen):
            obj.terminate()
            obj.wait(10)
        elif obj is not None:
            obj.stop()
    if parts.get("keypad"):
        parts["keypad"].close()


def test_end_to_end_keypad_agent_rates_the_ticket_once(tmp_path, site, e2e):
    """Issue, call, finish at counter 3; press a key on counter 3's keypad (a pty read by the agent process);
    the rating appears on the ticket, counted once, and reaches the counter's room."""
    keypad, server = site["keypad"], site["server"]
    canbo3 = server.login("canbo3", "test-staff")
    sup = server.login("super", "test-super")
    assert server.post("/api/v1/counters/3/open", None, canbo3).status_code == 200
    room = Listener(server.url, {"room": "counter:3", "token": "test-agent-token-1"})
    log = open(tmp_path / "agent.log", "wb")
    e2e["agent"] = subprocess.Popen(
        [sys.executable, "-m", "feedback_buttons", "--server", server.url, "--token", "test-agent-token-1",
         "--outbox", str(tmp_path / "outbox"), "--backoff-max", "1", "--refresh", "1", "--keypad", "kp3"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    devices = lambda: {d["device_id"]: d for d in server.get("/api/v1/devices", sup).json()["devices"]}  # noqa: E731
    wait_until(lambda: devices()["kp3"]["state"] == "connected", 15, what="the keypad connected")
    try:
        t = serve_and_rate(server, keypad, canbo3, seq=100)
        first = check_counted_once(server, canbo3, t, sup)
        keypad.write(qms_frame("P", "K03", 100, "B1"))  # the keypad missed our ack and sends it again
        assert qms_frame("A", "K03", 100) in keypad.read(3, until=qms_frame("A", "K03", 100))
        keypad.write(qms_frame("P", "K03", 101, "B3"))  # the citizen presses again: a repeat, not counted
        keypad.read(3, until=qms_frame("A", "K03", 101))
        got = wait_until(lambda: (lambda r: r if r["repeats"] == 1 else None)(
            server.get(f"/api/v1/tickets/{t['id']}/rating", canbo3).json()), 10, what="the repeat")
        assert got["rating"]["id"] == first["id"] and got["presses"] == 2
        assert server.get("/api/v1/ratings", sup).json()["summary"]["counted"] == 1
        pushed = wait_until(lambda: room.of("rating.recorded") if len(room.of("rating.recorded")) >= 2 else None, 5,
                            what="rating.recorded in the counter room")
        assert [p["rating"]["status"] for p in pushed] == ["attributed", "repeat"]
        assert all(p["seq"] > 0 for p in pushed)
    finally:
        room.close()
        log.close()
        print((tmp_path / "agent.log").read_text(errors="replace")[-3000:])


def test_end_to_end_keypad_read_by_the_server_itself(tmp_path, e2e):
    """run_in: server: the server process reads counter 3's keypad (a pty) with the same reader (eventlet mode)."""
    port = tmp_path / "ttyKEYPAD3"
    keypad = e2e["keypad"] = FakeKeypad(port)
    cfg = keypad_config(tmp_path, [{**KP3, "port": str(port), "run_in": "server"}],
                        timeouts={"serial_reconnect_max_seconds": 1})
    server = e2e["server"] = ServerProcess(cfg, tmp_path / "qms.sqlite3", "eventlet").start()
    canbo3 = server.login("canbo3", "test-staff")
    sup = server.login("super", "test-super")
    assert server.post("/api/v1/counters/3/open", None, canbo3).status_code == 200
    devices = lambda: {d["device_id"]: d for d in server.get("/api/v1/devices", sup).json()["devices"]}  # noqa: E731
    wait_until(lambda: devices()["kp3"]["state"] == "connected", 15, what="the keypad connected")
    t = serve_and_rate(server, keypad, canbo3, seq=7)
    check_counted_once(server, canbo3, t, sup)
    # The agent route does not hand this keypad to agents: the server reads it.
    assert server.get("/api/v1/keypads", {"Authorization": "Bearer test-agent-token-1"}).json()["keypads"] == []
    keypad.unplug()
    wait_until(lambda: devices()["kp3"]["state"] == "missing", 10, what="the keypad reported missing")
    keypad.plug()
    wait_until(lambda: devices()["kp3"]["state"] == "connected", 10, what="the keypad back")
    t2 = serve_and_rate(server, keypad, canbo3, seq=8)  # the reader works again after the replug
    assert wait_until(lambda: server.get(f"/api/v1/tickets/{t2['id']}/rating", canbo3).json()["rating"], 10,
                      what="a rating after the replug")["ticket"] == t2["id"]


# ------------------------------------------------------------------ HTTP rules
def test_http_rules_for_ratings(site):
    server = site["server"]
    agent = {"Authorization": "Bearer test-agent-token-1"}
    led = {"Authorization": "Bearer test-agent-led-token"}
    canbo3 = server.login("canbo3", "test-staff")
    ok = {"id": "abcdefgh01", "keypad": "kp5", "button": "1", "age_ms": 10}
    cases = [
        (ok, {}, 401, "unauthenticated"),
        (ok, led, 403, "forbidden"),
        (ok, canbo3, 403, "forbidden"),
        ({**ok, "keypad": "kp9"}, agent, 404, "keypad_unknown"),
        ({**ok, "button": "7"}, agent, 400, "rating_button_unknown"),
        ({**ok, "level": 3}, agent, 400, "bad_request"),
        ({**ok, "counter": "3"}, agent, 400, "bad_request"),
        ({**ok, "id": "short"}, agent, 400, "bad_request"),
        ({**ok, "age_ms": "10"}, agent, 400, "bad_request"),
        ({"id": "abcdefgh02", "counter": "5", "level": 3}, {}, 400, "bad_request"),  # the page must name the ticket
        ({"id": "abcdefgh03", "counter": "5", "level": 3, "ticket": 1}, {}, 409, "nothing_to_rate"),
        ({"id": "abcdefgh04", "counter": "5", "level": 3}, canbo3, 403, "forbidden"),
        ({"id": "abcdefgh05", "counter": "5", "level": 3, "ticket_token": "not-a-token"}, {}, 404, "ticket_unknown"),
    ]
    for payload, headers, status, code in cases:
        r = server.post("/api/v1/ratings", payload, headers)
        assert (r.status_code, r.json()["error"]) == (status, code), (payload, r.text)
        assert r.json()["message"]
    r = server.post("/api/v1/ratings", ok, agent)
    assert r.status_code == 201 and r.json()["rating"]["status"] == "unattributed"
    r = server.post("/api/v1/ratings", ok, agent)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    assert server.get("/api/v1/ratings", canbo3).status_code == 403
    assert server.get("/api/v1/ratings?day=yesterday", server.login("super", "test-super")).status_code == 400
    assert server.get("/api/v1/keypads", led).status_code == 403
    assert [k["id"] for k in server.get("/api/v1/keypads", agent).json()["keypads"]] == ["kp3", "kp5"]
    assert requests.get(server.url + "/api/v1/rate/99", timeout=5).status_code == 404
    assert requests.get(server.url + "/rate/99", timeout=5).status_code == 404


def test_rating_page_with_a_required_token(tmp_path):
    """rating.tablet_token_required: the page needs an agent token or the counter's own counter-display token."""
    from queue_server.web.app import create_app

    cfg = keypad_config(tmp_path, [], rating={"tablet_token_required": True})
    app = create_app(cfg, db_path=tmp_path / "t.sqlite3", async_mode="threading", start_background=False)
    try:
        c = app.test_client()
        staff = {"Authorization": "Bearer " + c.post("/api/v1/login", json={"username": "canbo3",
                                                                           "password": "test-staff"}).json["token"]}
        c.post("/api/v1/counters/3/open", headers=staff)
        t = c.post("/api/v1/tickets", json={"service": "civil"}, headers=staff).json  # no slip to print
        c.post("/api/v1/counters/3/next", headers=staff)
        c.post(f"/api/v1/tickets/{t['id']}/finish", headers=staff)
        body = {"id": "page-000001", "counter": "3", "ticket": t["id"], "level": 1}
        display3 = {"Authorization": "Bearer test-display-counter-3"}
        assert c.post("/api/v1/ratings", json=body).status_code == 401
        assert c.post("/api/v1/ratings", json={**body, "counter": "2"}, headers=display3).status_code == 403
        r = c.post("/api/v1/ratings", json=body, headers=display3)
        assert r.status_code == 201 and r.json["rating"]["status"] == "attributed"
        reason = {"reason": "Khác"}
        assert c.post("/api/v1/ratings/page-000001/reason", json=reason).status_code == 401
        assert c.post("/api/v1/ratings/page-000001/reason", json=reason, headers=staff).status_code == 403
        r = c.post("/api/v1/ratings/page-000001/reason", json=reason, headers=display3)
        assert r.status_code == 200 and r.json["rating"]["reason"] == "Khác"
        assert c.get("/rate/3").status_code == 200
    finally:
        app.extensions["qms"].store.close()
