"""The server as a real process on 127.0.0.1, with real Socket.IO clients, in both async modes (health, latency,
concurrent presses, kill -9); and what its sockets mean (zones, catch-up, actions, ticket rooms, refusals)
on the in-process test clients."""
from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio

from server_util import Listener, KIOSK, ServerProcess, server_config

MODES = ["eventlet", "gevent"]


@pytest.fixture(params=MODES)
def server(request, tmp_path):
    """A fresh server for a test that counts from the first ticket of the day."""
    srv = ServerProcess(server_config(tmp_path), tmp_path / "qms.sqlite3", request.param).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module", params=MODES)
def shared_server(request, tmp_path_factory):
    """One server per mode for the module's tests that leave nothing behind that the next would see."""
    tmp = tmp_path_factory.mktemp(f"server-{request.param}")
    srv = ServerProcess(server_config(tmp), tmp / "qms.sqlite3", request.param).start()
    yield srv
    srv.stop()


@pytest.fixture
def sup(server):
    return server.login("super", "test-super")


def issue(server, service="cccd", headers=KIOSK) -> dict:
    r = server.post("/api/v1/tickets", {"service": service}, headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_health_and_services(shared_server):
    server = shared_server
    h = server.get("/healthz").json()
    assert h["ok"] and h["store"]["journal_mode"] == "wal" and h["async_mode"] == server.mode
    services = server.get("/api/v1/services").json()["services"]
    assert {s["id"] for s in services} == {"cccd", "passport", "civil", "records", "land"}
    assert all(s["state"] == "open" for s in services)


def test_issue_reaches_display_and_call_within_a_second(shared_server):
    server = shared_server
    sup = server.login("super", "test-super")
    display = Listener(server.url, {"room": "display:hall-a"})
    try:
        display.wait_for(lambda e, d: e == "snapshot")
        t = issue(server)
        assert t["code"] == "1001" and t["waiting_ahead"] == 0 and "/t/" in t["status_url"]
        # issuing changes the queue counts the display shows (coalesced)
        display.wait_for(lambda e, d: e == "queue.updated" and d["services"].get("cccd", {}).get("waiting") == 1, 2)
        assert server.post("/api/v1/counters/1/open", headers=sup).status_code == 200
        sent = time.monotonic()
        r = server.post("/api/v1/counters/1/next", headers=sup)
        assert r.status_code == 200 and r.json()["ticket"]["code"] == "1001"
        _, call, at = display.wait_for(lambda e, d: e == "ticket.called", 1.0)
        assert at - sent < 1.0
        assert call["call"]["code"] == "1001" and call["call"]["counter"]["number"] == 1 and call["recall"] is False
        assert call["seq"] > 0
    finally:
        display.close()


def test_display_filtered_by_zone(site, sio):
    sup = site.login("super", "test-super")
    a = sio({"room": "display:hall-a"})
    b = sio({"room": "display:hall-b"})
    issue(site, "civil")
    site.post("/api/v1/counters/5/open", headers=sup)
    site.post("/api/v1/counters/5/next", headers=sup)
    b.wait_for(lambda e, d: e == "ticket.called" and d["call"]["code"] == "A001")
    # a later zone A call reaches a: had the zone B call reached it, it would be there before this one
    issue(site, "cccd")
    site.post("/api/v1/counters/1/open", headers=sup)
    site.post("/api/v1/counters/1/next", headers=sup)
    a.wait_for(lambda e, d: e == "ticket.called" and d["call"]["code"] == "1001")
    assert [c["call"]["code"] for c in a.of("ticket.called")] == ["1001"], "a zone A display never hears zone B calls"


def test_reconnect_with_last_seq_gets_missed_calls(site, sio):
    sup = site.login("super", "test-super")
    display = sio({"room": "display:hall-a"})
    snap = display.wait_for(lambda e, d: e == "snapshot")[1]
    last = snap["seq"]
    display.close()
    for _ in range(3):
        issue(site)
    site.post("/api/v1/counters/1/open", headers=sup)
    site.post("/api/v1/counters/2/open", headers=sup)
    site.post("/api/v1/counters/1/next", headers=sup)
    site.post("/api/v1/counters/2/next", headers=sup)
    again = sio({"room": "display:hall-a", "last_seq": last})
    again.wait_for(lambda e, d: e == "hello")
    again.wait_for(lambda e, d: e == "ticket.called" and d["call"]["code"] == "1002")
    calls = again.of("ticket.called")
    assert [c["call"]["code"] for c in calls] == ["1001", "1002"]
    assert all(c["replayed"] for c in calls), "missed calls are marked, so a display does not say them aloud"
    assert again.of("snapshot") == []


def test_twenty_counters_at_once_call_twenty_distinct_tickets(server, sup):
    for _ in range(25):
        issue(server)
    counters = [str(i) for i in range(6, 26)]
    for c in counters:
        assert server.post(f"/api/v1/counters/{c}/open", headers=sup).status_code == 200
    barrier = threading.Barrier(len(counters))

    def press(c):
        barrier.wait(10)
        return server.post(f"/api/v1/counters/{c}/next", headers=sup).json()["ticket"]["code"]

    with ThreadPoolExecutor(len(counters)) as pool:
        codes = list(pool.map(press, counters))
    assert len(set(codes)) == 20
    assert sorted(codes) == [str(1001 + i) for i in range(20)]


@pytest.mark.parametrize("with_current", [True, False])
def test_five_simultaneous_presses_call_exactly_one(server, sup, with_current):
    for _ in range(6):
        issue(server)
    server.post("/api/v1/counters/1/open", headers=sup)
    barrier = threading.Barrier(5)

    def press(_):
        barrier.wait(10)
        body = {"current": None} if with_current else None
        return server.post("/api/v1/counters/1/next", body, sup).json()

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(press, range(5)))
    assert {a["ticket"]["code"] for a in answers} == {"1001"}
    assert sum(not a["repeated"] for a in answers) == 1
    events = server.get("/api/v1/events?since=0", sup).json()["events"]
    assert sum(e["type"] == "ticket.called" for e in events) == 1


def test_socket_actions_mirror_rest_with_acks(site, sio):
    staff = site.login("canbo1", "test-staff")
    terminal = sio({"room": "counter:1", "token": staff["Authorization"][7:]})
    terminal.wait_for(lambda e, d: e == "snapshot")
    issue(site)
    issue(site)
    ack = terminal.call("action", {"op": "next", "counter": "1"})
    assert ack["ok"] is False and ack["error"] == "not_signed_in"
    assert terminal.call("action", {"op": "open", "counter": "1"})["ok"]
    ack = terminal.call("action", {"op": "next", "counter": "1", "current": None})
    assert ack["ok"] and ack["ticket"]["code"] == "1001"
    t1 = ack["ticket"]["id"]
    assert terminal.call("action", {"op": "recall", "counter": "1"})["ok"]
    terminal.wait_for(lambda e, d: e == "ticket.called" and d["recall"])
    assert terminal.call("action", {"op": "start", "counter": "1", "ticket": t1})["ok"]
    assert terminal.call("action", {"op": "finish", "counter": "1", "ticket": t1})["ok"]
    terminal.wait_for(lambda e, d: e == "ticket.updated" and d["change"] == "finished")
    ack = terminal.call("action", {"op": "next", "counter": "3"})
    assert ack["ok"] is False and ack["error"] == "forbidden"
    ack = terminal.call("action", {"op": "fly", "counter": "1"})
    assert ack["ok"] is False and ack["error"] == "bad_request"
    ack = terminal.call("action", "nonsense")
    assert ack["ok"] is False and ack["error"] == "bad_request"


def test_ticket_room_follows_its_ticket(site, sio, clock):
    sup = site.login("super", "test-super")
    t1 = issue(site)
    t2 = issue(site)
    token = t2["status_url"].rsplit("/", 1)[1]
    phone = sio({"room": f"ticket:{token}"})
    snap = phone.wait_for(lambda e, d: e == "snapshot")[1]
    assert snap["state"]["ticket"]["code"] == t2["code"] and snap["state"]["ticket"]["waiting_ahead"] == 1
    site.post("/api/v1/counters/1/open", headers=sup)
    site.post("/api/v1/counters/1/next", headers=sup)  # calls t1
    phone.wait_for(lambda e, d: e == "queue.updated" and d["position"] and d["position"]["waiting_ahead"] == 0)
    assert phone.of("ticket.called") == [], "another ticket's call does not reach this phone"
    clock.advance(2.1)  # past the repeat-press window
    site.post("/api/v1/counters/1/next", headers=sup)  # calls t2
    call = phone.wait_for(lambda e, d: e == "ticket.called")[1]
    assert call["ticket"]["code"] == t2["code"] and call["call"]["counter"]["number"] == 1
    assert t1["code"] != t2["code"]


REFUSALS = [
    ({"room": "supervisors"}, "unauthenticated"),
    ({"room": "counter:1"}, "unauthenticated"),
    ({"room": "display:nope"}, "display_unknown"),
    ({"room": "ticket:not-a-token"}, "ticket_unknown"),
    ({"room": "bogus"}, "bad_request"),
    ({"room": "display:hall-a", "token": "wrong"}, "unauthenticated"),
    ({"room": "supervisors", "token": "test-kiosk-token-1"}, "forbidden"),
    ({"room": "display:hall-a", "last_seq": "x"}, "bad_request"),
]


def test_socket_connect_refusals(site):
    for auth, error in REFUSALS:
        c = site.socket(auth)
        assert not c.connected, auth
        seen = c.refusal
        assert seen and seen["data"]["error"] == error, (auth, seen)
        assert seen["message"] == seen["data"]["message"]


def test_kill9_under_load_keeps_every_acknowledged_ticket(tmp_path):
    cfg = server_config(tmp_path)
    db = tmp_path / "crash.sqlite3"
    srv = ServerProcess(cfg, db, "eventlet").start()
    acked: list[tuple[int, str]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def issuer(service):
        s = requests.Session()
        for _ in range(400):
            if stop.is_set():
                return
            try:
                r = s.post(srv.url + "/api/v1/tickets", json={"service": service}, headers=KIOSK, timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 201:
                with lock:
                    acked.append((r.json()["id"], r.json()["code"]))

    threads = [threading.Thread(target=issuer, args=(s,)) for s in ("cccd", "passport", "civil", "cccd")]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 15
    while len(acked) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    srv.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acked) >= 150
    again = ServerProcess(cfg, db, "eventlet").start()
    try:
        conn = sqlite3.connect(db)
        rows = dict(conn.execute("SELECT id, code FROM tickets"))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for tid, code in acked:
            assert rows.get(tid) == code
        codes = [c for (c,) in conn.execute("SELECT code FROM tickets WHERE seq_key = 'department:police' ORDER BY seq_index")]
        assert codes == [str(1001 + i) for i in range(len(codes))], "gap-free, no duplicates"
        conn.close()
        nxt = issue(again, "civil")
        assert nxt["code"] == f"A{len([c for _, c in acked if c.startswith('A')]) + 1:03d}" or nxt["code"].startswith("A")
    finally:
        again.stop()
