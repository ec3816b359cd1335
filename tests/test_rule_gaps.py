"""Rules that a small plausible bug used to slip past: each test here fails with that bug planted (see
tests/mutants.py, which keeps those bugs and checks they stay caught).

- a ticket sent to the back of the queue and then transferred again without go_last;
- a rating press exactly at the near-finish limit;
- a ticket finished automatically by "next" (started or never started), in the store and in the reports;
- the repeat-press rule, as a table.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from queue_server import reports as REPORTS
from queue_server.core import rating as R
from queue_server.core import rules as E
from queue_server.core.rules import Counter, CounterState, Status, Ticket
from queue_server.store import Store
from storecheck import check_invariants, config_variant

DAY = "2026-11-25"


def ticket(id=1, *, status=Status.SERVING, issued=100, queued=100, called=None, started=None, counter="1"):
    return Ticket(id=id, day=DAY, service_id="a", seq_key="s", seq_index=id, number=id, code=str(id), status=status,
                  issued_ms=issued, queued_ms=queued, counter_id=counter, called_ms=called, started_ms=started)


def counter(id="1", services=("a", "b"), current=1):
    return Counter(id=id, number=int(id), services=services, state=CounterState.OPEN, current_ticket_id=current)


# ------------------------------------------------------------------ go_last, then a plain transfer
@pytest.mark.parametrize("kw", [
    {"service_id": "b", "target": None},
    {"service_id": None, "target": counter("2", current=None)},
    {"service_id": "b", "target": counter("2", current=None)},
], ids=["to a service", "to a counter", "to a counter and a service"])
def test_a_plain_transfer_after_go_last_gives_the_place_by_issue_time_back(kw):
    once_last = ticket(queued=700)  # issued at 100, sent to the back at 700
    out = E.transfer(counter(), once_last, 900, go_last=False, **kw)
    assert out.tickets[0].queued_ms == 100
    again_last = E.transfer(counter(), once_last, 900, go_last=True, **kw)
    assert again_last.tickets[0].queued_ms == 900


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "gaps.sqlite3", config_variant(), clock=clock)
    for c in s.config.counters:
        s.set_counter_state(c.id, "open")
    yield s
    check_invariants(s.conn, s.config)
    s.close()


def test_go_last_then_a_plain_transfer_in_the_store(store, clock):
    """A (cccd) issued first, P (passport) a minute later; A goes to the back of cccd, is called again and is
    sent to passport without go_last: it is called there before P, by its issue time."""
    s = store
    a = s.issue("cccd").ticket
    clock.advance(60)
    p = s.issue("passport").ticket
    clock.advance(60)
    assert s.call_code("1", a["code"]).ticket["id"] == a["id"]
    clock.advance(60)
    s.transfer(a["id"], "1", service_id="cccd", go_last=True)
    assert s.ticket(a["id"])["queued_ms"] == s.now_ms()
    clock.advance(60)
    s.call_code("1", a["code"])
    clock.advance(60)
    s.transfer(a["id"], "1", service_id="passport")
    assert s.ticket(a["id"])["queued_ms"] == a["issued_ms"]
    assert s.position(s.ticket(a["id"])) == 0 and s.position(s.ticket(p["id"])) == 1
    clock.advance(10)
    assert s.call_next("2").ticket["id"] == a["id"]  # counter 2 takes cccd and passport: A is the head


# ------------------------------------------------------------------ the near-finish limit, exactly
NEAR = R.Thresholds(window_ms=60_000, near_finish_ms=1000)


@pytest.mark.parametrize("label, finished, flags", [
    ("finished exactly the limit before the press", 99_000, ("near_finish",)),
    ("finished a millisecond more before", 98_999, ()),
    ("finished exactly the limit after the press", 101_000, ("near_finish",)),
    ("finished a millisecond more after", 101_001, ()),
])
def test_near_finish_limit(label, finished, flags):
    started = 50_000
    cands = [R.Candidate(1, "done", 40_000, started, finished)]
    d = R.attribute(100_000, cands, NEAR)
    assert (d.status, d.ticket_id, d.flags) == (R.ATTRIBUTED, 1, flags)
    named = R.attribute_to(1, 100_000, cands, NEAR)
    assert (named.status, named.flags) == (R.ATTRIBUTED, flags)


# ------------------------------------------------------------------ finished by "next"
def test_finish_by_next_keeps_the_start_or_takes_the_call(store, clock):
    s = store
    never, started, last = (s.issue("cccd").ticket for _ in range(3))
    clock.advance(10)
    assert s.call_next("1").ticket["id"] == never["id"]
    called_at = s.now_ms()
    clock.advance(300)
    r = s.call_next("1")  # finishes `never`, calls `started`
    done = s.ticket(never["id"])
    assert (done["status"], done["started_ms"], done["finished_ms"]) == ("done", called_at, s.now_ms())
    assert r.events[0]["type"] == "ticket.finished" and r.events[0]["data"] == {"ticket": never["id"], "auto": True}
    clock.advance(60)
    s.start(started["id"], "1")
    started_at = s.now_ms()
    clock.advance(240)
    s.call_next("1")
    done = s.ticket(started["id"])
    assert (done["status"], done["started_ms"], done["finished_ms"]) == ("done", started_at, s.now_ms())
    assert s.ticket(last["id"])["status"] == "called"


def test_close_by_counter_state_also_finishes_with_the_call_as_start(store, clock):
    s = store
    t = s.issue("land").ticket
    s.call_next("4")
    called_at = s.now_ms()
    clock.advance(120)
    s.set_counter_state("4", "break")
    done = s.ticket(t["id"])
    assert (done["status"], done["started_ms"], done["finished_ms"]) == ("done", called_at, s.now_ms())


def test_reports_count_an_automatic_finish_as_an_explicit_one(store, clock):
    """The same times at two counters: counter 1 finishes by "next", counter 5 by "finish"; counter 4 starts
    service a minute after the call and finishes by "next". Serving times: 5 min, 5 min, 4 min."""
    s = store
    auto, explicit, started = s.issue("cccd").ticket, s.issue("civil").ticket, s.issue("land").ticket
    s.issue("cccd"), s.issue("land")
    clock.set_local(f"{DAY} 09:10")
    for c in ("1", "5", "4"):
        s.call_next(c)
    clock.set_local(f"{DAY} 09:11")
    s.start(started["id"], "4")
    clock.set_local(f"{DAY} 09:15")
    s.call_next("1")
    s.finish(explicit["id"], "5")
    s.call_next("4")
    assert {s.ticket(t["id"])["status"] for t in (auto, explicit, started)} == {"done"}
    rows = {r["key"]: r for r in REPORTS.build_report(s, DAY, DAY, "counter")["rows"]}
    assert (rows["1"]["served"], rows["1"]["serve_avg_s"]) == (1, 300)
    assert (rows["5"]["served"], rows["5"]["serve_avg_s"]) == (1, 300)
    assert (rows["4"]["served"], rows["4"]["serve_avg_s"]) == (1, 240)


# ------------------------------------------------------------------ the repeat-press rule, as a table
WINDOW = 2000
CALLED_AT = 10_000
CALLED = ticket(5, status=Status.CALLED, called=CALLED_AT)
SERVING = ticket(5, status=Status.SERVING, called=CALLED_AT, started=CALLED_AT + 100)


@pytest.mark.parametrize("label, current, expect, now, repeat", [
    ("nothing at the counter", None, E.UNSET, CALLED_AT + 1, False),
    ("nothing at the counter, the client agrees", None, None, CALLED_AT + 1, False),
    ("nothing at the counter, the client believes 5", None, 5, CALLED_AT + 1, False),
    ("called at this very instant", CALLED, E.UNSET, CALLED_AT, True),
    ("called a millisecond inside the window", CALLED, E.UNSET, CALLED_AT + WINDOW - 1, True),
    ("called exactly a window ago", CALLED, E.UNSET, CALLED_AT + WINDOW, False),
    ("called long ago", CALLED, E.UNSET, CALLED_AT + 60_000, False),
    ("being served, inside the window", SERVING, E.UNSET, CALLED_AT + 500, False),
    ("the client names the current ticket", CALLED, 5, CALLED_AT + 1, False),
    ("the client names another ticket", CALLED, 4, CALLED_AT + 60_000, True),
    ("the client believes nothing is current", CALLED, None, CALLED_AT + 60_000, True),
    ("being served, the client names it", SERVING, 5, CALLED_AT + 1, False),
    ("being served, the client names another", SERVING, 4, CALLED_AT + 60_000, True),
    ("being served, the client believes nothing is current", SERVING, None, CALLED_AT + 1, True),
    ("a parked ticket is not at the counter", replace(CALLED, status=Status.PARKED), 4, CALLED_AT + 1, False),
    ("a finished ticket is not at the counter", replace(CALLED, status=Status.DONE), None, CALLED_AT + 1, False),
])
def test_is_repeat_press(label, current, expect, now, repeat):
    assert E.is_repeat_press(current, expect, now, WINDOW) is repeat


def test_no_repeat_window_means_every_unnamed_press_is_new():
    assert E.is_repeat_press(CALLED, E.UNSET, CALLED_AT, 0) is False
