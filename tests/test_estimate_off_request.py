"""The wait estimates are made on the push tick, never inside a write's request: an issue is told the "one ticket
more" of its service from the board made before the write (exactly its own estimate), and the tick makes the
board again, once, when the queue changed. In process; the replay is counted, not replaced."""
from __future__ import annotations

import pytest

from queue_server.core import estimate


@pytest.fixture
def replays(monkeypatch):
    """The queue sizes of every replay of the calling order (core/estimate.py, run for real)."""
    sizes: list[int] = []
    real = estimate.replay

    def counted(waiting, *args, **kw):
        sizes.append(len(waiting))
        return real(waiting, *args, **kw)

    monkeypatch.setattr(estimate, "replay", counted)
    return sizes


def open_counter_1(site):
    staff = site.login("canbo1", "test-staff")
    assert site.post("/api/v1/counters/1/open", None, staff).status_code == 200
    return staff


def issue(site, staff, **kw):
    r = site.post("/api/v1/tickets", {"service": "cccd", **kw}, staff)
    assert r.status_code == 201, r.text
    return r.json()


def told(site, ticket_id: int) -> tuple:
    row = site.ctx.store.conn.execute("SELECT state, minutes, low, high FROM wait_estimates WHERE ticket_id = ?",
                                      (ticket_id,)).fetchone()
    return tuple(row)


def check_told(site, answer: dict) -> None:
    """What the ticket was told at issue is its estimate once the board counts it, and what was kept."""
    status = site.get(f"/api/v1/tickets/{answer['id']}").json()
    assert status["wait"] == answer["wait"] and status["waiting_ahead"] == answer["waiting_ahead"]
    w = answer["wait"]
    assert told(site, answer["id"]) == (w["state"], w["minutes"], w["low"], w["high"])


def test_an_issue_never_replays_the_queue_and_the_tick_does_it_once(site, replays):
    staff = open_counter_1(site)
    for _ in range(5):
        issue(site, staff)
    site.tick()
    replays.clear()
    answers = [issue(site, staff) for _ in range(10)]
    assert replays == [], "no write's request replays the queue"
    assert all(a["wait"]["state"] == "estimate" for a in answers)
    site.tick()
    assert replays == [15], "the tick makes the board again, once, over the whole queue"
    site.tick()
    site.get("/api/v1/services")
    assert replays == [15], "an unchanged queue is not replayed again"


def test_the_new_ticket_is_told_exactly_the_estimate_it_then_has(site, sio):
    staff = open_counter_1(site)
    for _ in range(6):
        issue(site, staff)
    site.tick()
    counter = sio({"room": "counter:1", "token": staff["Authorization"][7:]})
    plain = issue(site, staff)
    assert plain["waiting_ahead"] == 6 and plain["wait"]["ahead"] == 6 and plain["wait"]["state"] == "estimate"
    before_tick = site.get(f"/api/v1/tickets/{plain['id']}").json()
    assert before_tick["wait"] == plain["wait"], "before the next tick its status shows what it was told"
    site.tick()
    check_told(site, plain)
    urgent = issue(site, staff, priority=True)  # a priority ticket: the priority "one more", ahead of the line
    assert urgent["wait"]["ahead"] == 0 and urgent["wait"]["state"] == "next"
    site.tick()
    check_told(site, urgent)
    assert site.get(f"/api/v1/tickets/{plain['id']}").json()["wait"]["ahead"] == 7, "the priority ticket went ahead"
    counts = [m["services"]["cccd"] for m in counter.of("queue.updated") if "cccd" in m["services"]]
    assert counts[-1]["waiting"] == 8 and counts[-1]["wait"]["state"] == "estimate"
    one_more = site.ctx.read.wait_for_new("cccd")
    assert one_more["ahead"] == 8 and counts[-1]["wait"]["minutes"] == one_more["minutes"]
