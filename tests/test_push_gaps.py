"""A lost live message is noticed and mended by the client itself (issue 16, item 2): every queue message sent
live carries `prev` (per room, the seq of the message sent there before it), `live.beat` carries each room's
last seq, and a client that has not applied a `prev` asks `catch_up` with its last seq in that room; the server
replays what the room was sent since, marked `replayed`, and the client applies each message once.

In process: the message is lost on purpose by dropping it on its way to one socket. The client's side of the
rule is `Follower` here and QMS.live in common.js (checked in a browser in test_shared_front_page.py)."""
from __future__ import annotations

import time

import pytest
from socketio import packet

from inproc import InProcessServer

def lose(site, sock, event: str, times: int = 1) -> dict:
    """The next `times` messages `event` to `sock` are dropped on their way out (the rest go through)."""
    server = site.ctx.socketio.server
    send = server._send_eio_packet
    lost = {"left": times, "seqs": []}

    def filtered(eio_sid, eio_pkt):
        if eio_sid == sock.client.eio_sid and lost["left"] and isinstance(eio_pkt.data, str):
            pkt = packet.Packet(encoded_packet=eio_pkt.data)
            if pkt.packet_type == packet.EVENT and pkt.data and pkt.data[0] == event:
                lost["left"] -= 1
                lost["seqs"].append(pkt.data[1].get("seq"))
                return None
        return send(eio_sid, eio_pkt)

    server._send_eio_packet = filtered
    return lost


class Follower:
    """The client's rule, as QMS.live keeps it: the rooms and the seq covered from `hello`; each message applied
    once (event, seq and what it is about); a live `prev` (or a beat's) for one of its rooms that is above the
    seq covered and was never applied is a gap, and it asks catch_up with its last seq in that room."""

    def __init__(self, sock):
        self.sock = sock
        self.done = 0
        self.floor = None
        self.rooms: list[str] = []
        self.room_last: dict[str, int] = {}
        self.applied_seqs: set[int] = set()
        self.keys: set[tuple] = set()
        self.applied: list[tuple[str, dict]] = []
        self.twice = 0
        self.asked: list[int] = []
        self.answers: list[dict] = []

    def _gap(self, prev: dict | None) -> int | None:
        since = None
        for room, p in (prev or {}).items():
            if room in self.rooms and p is not None and p > self.floor and p not in self.applied_seqs:
                mine = min(self.room_last.get(room, self.floor), p - 1)
                since = mine if since is None else min(since, mine)
        return since

    def follow(self) -> None:
        """Apply what arrived; ask for the catch-up while a gap shows."""
        for _ in range(3):
            since = None
            events = self.sock.of_all()
            for name, m in events[self.done:]:
                gap = None
                if name == "hello":
                    self.floor, self.rooms = m["as_of"], m["rooms"]
                    self.room_last = {r: self.floor for r in self.rooms}
                elif name == "live.beat":
                    gap = self._gap(m["prev"])
                elif isinstance(m, dict) and "seq" in m and name != "snapshot":
                    key = (name, m["seq"], (m.get("counter") or {}).get("id"), (m.get("ticket") or {}).get("id"))
                    if key in self.keys:
                        self.twice += 1
                        continue
                    if not m.get("replayed"):
                        gap = self._gap(m.get("prev"))
                        for room in m.get("prev") or {}:
                            if room in self.rooms:
                                self.room_last[room] = max(self.room_last.get(room, self.floor), m["seq"])
                    self.keys.add(key)
                    self.applied_seqs.add(m["seq"])
                    self.applied.append((name, m))
                if gap is not None:
                    since = gap if since is None else min(since, gap)
            self.done = len(events)
            if since is None:
                return
            self.asked.append(since)
            ack = self.sock.call("catch_up", {"last_seq": since})
            assert ack["ok"], ack
            self.answers.append(ack)
            self.floor = max(self.floor, ack["as_of"])

    def calls(self) -> list[tuple[int, str, bool]]:
        return [(m["seq"], m["call"]["code"], bool(m["replayed"])) for n, m in self.applied if n == "ticket.called"]


@pytest.fixture
def of_all(monkeypatch):
    """SocketClient.of_all(): every event received so far, in order."""
    from inproc import SocketClient

    def of_all(self):
        self._pump()
        return list(self.events)

    monkeypatch.setattr(SocketClient, "of_all", of_all, raising=False)


def open_counter(site):
    staff = site.login("canbo1", "test-staff")
    assert site.post("/api/v1/counters/1/open", None, staff).status_code == 200
    return staff


def issue(site, n=1):
    """Tickets issued at the counter (no slip to print)."""
    staff = site.login("canbo1", "test-staff")
    return [site.post("/api/v1/tickets", {"service": "cccd"}, staff).json() for _ in range(n)]


def next_at_1(site, staff, current):
    r = site.post("/api/v1/counters/1/next", {"current": current}, staff)
    assert r.status_code == 200, r.text
    return r.json()["ticket"]


def test_a_display_that_lost_a_call_sees_the_gap_in_prev_and_mends_it_itself(site, sio, of_all):
    staff = open_counter(site)
    issue(site, 3)
    lossy, steady = sio({"room": "display:hall"}), sio({"room": "display:hall"})
    a, b = Follower(lossy), Follower(steady)
    a.follow(), b.follow()
    assert a.rooms and all(r.startswith("dept:") for r in a.rooms) and a.floor == site.ctx.store.last_seq()

    first = next_at_1(site, staff, None)
    lost = lose(site, lossy, "ticket.called")
    second = next_at_1(site, staff, first["id"])  # its call never reaches the lossy display
    a.follow()
    assert lost["seqs"] and [c[1] for c in a.calls()] == [first["code"]] and a.asked == []  # nothing shows yet

    r = site.post(f"/api/v1/tickets/{second['id']}/finish", None, staff)  # the next message to its room...
    assert r.status_code == 200
    finished = lossy.of("ticket.updated")[-1]
    dept = next(iter(finished["prev"]))
    assert finished["prev"][dept] == lost["seqs"][0]  # ...names the lost call as the one before it
    a.follow(), b.follow()
    assert a.asked == [lossy.of("ticket.updated")[0]["seq"]]  # its last seq in that room: the first's finish
    assert a.calls() == [(b.calls()[0][0], first["code"], False), (lost["seqs"][0], second["code"], True)]
    assert b.calls() == [(c[0], c[1], False) for c in a.calls()] and b.asked == []
    assert a.twice == 1, "the finish it had applied came again in the catch-up and was not applied twice"
    strip = lambda pairs: [(n, {k: v for k, v in m.items() if k not in ("prev", "replayed")}) for n, m in pairs]
    assert sorted(strip(a.applied), key=lambda p: p[1]["seq"]) == sorted(strip(b.applied), key=lambda p: p[1]["seq"])
    replayed_call = next(m for n, m in a.applied if n == "ticket.called" and m["replayed"])
    assert replayed_call["call"]["voice"] and replayed_call["prev"] is None  # marked replayed: shown, not said aloud


def test_a_lost_last_message_shows_on_the_beat_and_the_beat_goes_only_to_rooms_with_sockets(site, sio, of_all):
    staff = open_counter(site)
    issue(site, 2)
    counter = sio({"room": "counter:1", "token": staff["Authorization"][7:]})
    lossy = sio({"room": "display:hall"})
    a, c = Follower(lossy), Follower(counter)
    a.follow(), c.follow()
    first = next_at_1(site, staff, None)
    lost = lose(site, lossy, "ticket.called")
    second = next_at_1(site, staff, first["id"])
    a.follow()
    assert a.asked == [] and len(lost["seqs"]) == 1

    push = site.ctx.push
    heard = push.beat()
    beats = lossy.of("live.beat")
    assert beats and all(list(bt["prev"].values()) == [lost["seqs"][0]] for bt in beats)
    a.follow(), c.follow()
    assert len(a.asked) == 1 and c.asked == [], "the counter had applied its last message: its beat asks nothing"
    assert [x[1:] for x in a.calls()] == [(first["code"], False), (second["code"], True)]
    assert counter.of("live.beat")[-1]["prev"] == {"counter:1": counter.of("counter.updated")[-1]["seq"]}
    rooms_heard = {r for bt in lossy.of("live.beat") + counter.of("live.beat") for r in bt["prev"]}
    assert heard == len(rooms_heard) and "supervisors" not in rooms_heard  # sent there, but nobody listens

    lossy.close(), counter.close()
    assert push.beat() == 0 and push.room_seq == {}, "rooms without sockets are forgotten, not beaten"
    back = sio({"room": "display:hall"})
    issue(site)
    next_at_1(site, staff, second["id"])
    done, call = back.of("ticket.updated")[-1], back.of("ticket.called")[-1]
    assert set(done["prev"].values()) == {None}, "after the rooms were forgotten, the first message has no prev"
    assert set(call["prev"].values()) == {done["seq"]}


BAD = [None, [], "5", {"last_seq": -1}, {"last_seq": "3"}, {"last_seq": True}, {"last_seq": 2**53 + 1},
       {"last_seq": 1.5}, {"last_seq": 1, "room": "supervisors"}, {}]


def test_a_bad_catch_up_is_refused_and_sends_nothing_and_the_credentials_are_checked_again(site, sio):
    staff = open_counter(site)
    counter = sio({"room": "counter:1", "token": staff["Authorization"][7:]})
    counter.of("hello")
    before = len(counter.events)
    for bad in BAD:
        ack = counter.call("catch_up", bad)
        assert ack["ok"] is False and ack["error"] == "bad_request", (bad, ack)
    assert len(counter.events) == before
    assert counter.call("catch_up", {"last_seq": 0})["ok"] is True
    assert any(d.get("replayed") for _, d in counter.events[before:] if isinstance(d, dict)), "the opening, replayed"
    counter.events.clear()
    site.clock.advance(hours=13)  # the sign-in expired (server.token_hours: 12), unnoticed while idle
    ack = counter.call("catch_up", {"last_seq": 0})
    assert ack["ok"] is False and ack["error"] == "unauthenticated"
    assert not any(d.get("replayed") for _, d in counter.events if isinstance(d, dict))
    deadline = time.monotonic() + 5
    while counter.client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)  # the socket is let go right after the answer
    assert not counter.client.is_connected()


def test_another_process_links_its_own_messages_and_those_it_delivers_from_the_log(site, sio, tmp_path):
    """Two server processes on one database: each sends its own writes and, from the log, the other's, and
    keeps its own chain per room; its first message to a room since it started has no prev."""
    other = InProcessServer(site.config_path, site.db, site.clock)
    try:
        staff = open_counter(site)
        issue(site, 2)
        there = other.socket({"room": "display:hall"})
        here = sio({"room": "display:hall"})
        t1 = next_at_1(site, staff, None)
        seq1 = here.of("ticket.called")[-1]["seq"]
        other.ctx.push.deliver_committed([seq1])  # the note from this process: the other sends it from the log
        call = there.of("ticket.called")[-1]
        assert call["seq"] == seq1 and set(call["prev"].values()) == {None}
        t2 = next_at_1(site, staff, t1["id"])
        seqs = [m["seq"] for m in here.of("ticket.updated") + here.of("ticket.called") if m["seq"] > seq1]
        other.ctx.push.deliver_committed(seqs)
        got = there.of("ticket.updated") + there.of("ticket.called")
        by_seq = {m["seq"]: m for m in got}
        assert sorted(by_seq) == sorted([seq1, *seqs])
        chain = [by_seq[s]["prev"] for s in sorted(by_seq)]
        assert [set(p.values()) for p in chain] == [{None}, {seq1}, {min(seqs)}]
        assert by_seq[max(seqs)]["call"]["code"] == t2["code"]
        there.close()
    finally:
        other.close()


def test_the_gap_rule_is_documented():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "api.md").read_text(encoding="utf-8")
    for word in ("`catch_up`", "`live.beat`", "`prev`", "`as_of`"):
        assert word in doc, word
