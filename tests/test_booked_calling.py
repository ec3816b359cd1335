"""The calling order of booked tickets (issue 13 item 4), table by table: the pure rule (core/booked_order.py
through rules.choose_next and rules.call), the store's candidates, and the wait estimate's replay of it."""
from __future__ import annotations

from dataclasses import replace

import pytest

from queue_server.core import estimate
from queue_server.core import rules as E
from queue_server.core.rules import Counter, CounterState, Status, Ticket

MIN = 60_000
NOW = 1_000 * MIN


def T(id, service="a", queued=0, *, slot=None, priority=False, target=None, status=Status.WAITING, counter=None):
    """A ticket queued `queued` minutes before NOW; `slot`: its booked slot's start, minutes from NOW."""
    at = NOW - 100 * MIN + queued * MIN
    return Ticket(id=id, day="2026-11-25", service_id=service, seq_key="s", seq_index=id, number=id, code=f"A{id}",
                  status=status, priority=priority, source="online" if slot is not None else "walk_in",
                  issued_ms=at, queued_ms=at, target_counter_id=target, counter_id=counter,
                  booking_id=id if slot is not None else None,
                  slot_start_ms=NOW + slot * MIN if slot is not None else None)


def C(services=("a",), *, walk=0, prio=0, policy="fifo", id="1", state=CounterState.OPEN):
    return Counter(id=id, number=int(id), services=tuple(services), policy=policy, state=state,
                   priority_streak=prio, walk_in_streak=walk)


W1, W2, W3 = T(1, queued=0), T(2, queued=1), T(3, queued=2)  # walk-ins, the first came first
B_DUE = T(10, queued=50, slot=-5)  # checked in after them; its slot began 5 minutes ago
B_NOW = T(11, queued=60, slot=0)  # its slot begins exactly now: due
B_EARLY = T(12, queued=-10, slot=20)  # checked in before everyone; its slot begins in 20 minutes


@pytest.mark.parametrize("name, counter, waiting, per_booked, expect", [
    ("a due booked ticket goes ahead once the streak is reached", C(walk=2), [W1, W2, B_DUE], 2, 10),
    ("below the streak a walk-in goes first", C(walk=1), [W1, W2, B_DUE], 2, 1),
    ("a fresh counter calls up to N walk-ins first", C(walk=0), [W1, B_DUE], 2, 1),
    ("a streak above N (N lowered live) still calls booked", C(walk=7), [W1, B_DUE], 2, 10),
    ("no walk-in waits: the due booked ticket, whatever the streak", C(walk=0), [B_DUE], 2, 10),
    ("a slot beginning exactly now is due", C(walk=1), [W1, B_NOW], 1, 11),
    ("among due booked tickets, the earliest check-in", C(walk=3), [W1, B_NOW, B_DUE], 2, 10),
    ("an early booked ticket is not due: the walk-ins go first", C(walk=5), [W1, W2, B_EARLY], 2, 1),
    ("an early booked ticket is not a walk-in either: a due one goes first", C(walk=0), [B_EARLY, B_DUE], 2, 10),
    ("only an early booked ticket waits: called, a counter never idles", C(walk=0), [B_EARLY], 2, 12),
    ("0 turns it off: plain queue order (the early booked came first)", C(walk=9), [W1, B_DUE, B_EARLY], 0, 12),
    ("0 turns it off: plain queue order among walk-ins and due booked", C(walk=9), [W1, B_DUE], 0, 1),
    ("priority keeps its rule on top", C(walk=5), [W1, B_DUE, T(20, queued=70, priority=True)], 2, 20),
    ("priority bound reached: the normal choice is the booked rule's", C(walk=5, prio=3),
     [W1, B_DUE, T(20, queued=70, priority=True)], 2, 10),
    ("priority bound reached, streak not: a walk-in", C(walk=0, prio=3),
     [W1, B_DUE, T(20, queued=70, priority=True)], 2, 1),
    ("sent to this counter by name still goes first", C(walk=5), [B_DUE, T(30, queued=80, target="1")], 2, 30),
    ("a booked ticket sent here by name goes first too", C(walk=0),
     [W1, T(31, queued=80, slot=30, target="1")], 2, 31),
    ("sent to another counter: not called here", C(walk=5), [W1, T(32, queued=0, slot=-5, target="2")], 2, 1),
    ("another service's due booked ticket is not this counter's", C(walk=5),
     [W1, T(33, "b", queued=0, slot=-5)], 2, 1),
    ("order policy inside the chosen kind: the first service's booked ticket",
     C(("a", "b"), walk=2, policy="order"), [T(34, "b", queued=0, slot=-5), T(35, "a", queued=5, slot=-5), W1], 2, 35),
])
def test_choose_next_with_booked_tickets(name, counter, waiting, per_booked, expect):
    chosen = E.choose_next(counter, waiting, NOW, max_consecutive_priority=3, walk_ins_per_booked=per_booked)
    assert chosen is not None and chosen.id == expect, name


def test_without_the_setting_the_old_order_holds():
    """Callers that know nothing of bookings (the simulator) keep the plain order."""
    assert E.choose_next(C(walk=5), [W1, B_DUE], NOW, 3).id == 1


@pytest.mark.parametrize("name, counter, ticket, resuming, streak", [
    ("a walk-in adds one", C(walk=1), W1, False, 2),
    ("a booked call sets it to 0", C(walk=4), B_DUE, False, 0),
    ("an early booked ticket is booked too", C(walk=4), B_EARLY, False, 0),
    ("a priority call keeps it", C(walk=2), T(20, priority=True), False, 2),
    ("a ticket sent here by name keeps it", C(walk=2), T(30, target="1"), False, 2),
    ("a resume keeps it", C(walk=2), replace(W1, status=Status.PARKED, counter_id="1"), True, 2),
])
def test_what_a_call_does_to_the_walk_in_streak(name, counter, ticket, resuming, streak):
    out = E.call(counter, ticket, None, NOW, "finish")
    assert out.counters[0].walk_in_streak == streak, name
    assert out.counters[0].priority_streak == (counter.priority_streak + 1 if ticket.priority and not resuming
                                               else counter.priority_streak if resuming else 0)


def test_a_break_keeps_the_streak_closing_and_the_end_of_day_reset_it():
    c = C(walk=2)
    for state in (CounterState.BREAK, CounterState.OPEN):
        c = E.set_counter_state(c, state, None, NOW, "finish", None).counters[0]
        assert c.walk_in_streak == 2
    assert E.set_counter_state(c, CounterState.CLOSED, None, NOW, "finish", None).counters[0].walk_in_streak == 0
    assert E.close_day([], [c], NOW).counters[0].walk_in_streak == 0


def run_counter(counter, waiting, per_booked, now=NOW, step_min=0):
    """Call every ticket at one counter with the rule, the counter's streaks moved by each call."""
    order, pool = [], list(waiting)
    while pool:
        t = E.choose_next(counter, pool, now, 3, per_booked)
        counter = E.call(counter, t, None, now, "finish").counters[0]
        pool.remove(t)
        order.append(t.id)
        now += step_min * MIN
    return order


@pytest.mark.parametrize("per_booked, expect", [
    (2, [1, 2, 10, 3, 4, 11, 5, 6, 12, 7, 8]),
    (1, [1, 10, 2, 11, 3, 12, 4, 5, 6, 7, 8]),
    (3, [1, 2, 3, 10, 4, 5, 6, 11, 7, 8, 12]),
    (0, [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]),
])
def test_the_interleave_over_a_morning(per_booked, expect):
    """Eight walk-ins waiting since before the slot, three booked tickets due: N walk-ins, one booked, ..."""
    walk_ins = [T(i, queued=i) for i in range(1, 9)]
    booked = [T(10, queued=40, slot=-1), T(11, queued=41, slot=-1), T(12, queued=42, slot=-1)]
    assert run_counter(C(walk=0), walk_ins + booked, per_booked) == expect


def test_an_early_booked_ticket_waits_for_its_slot_then_is_due():
    """Checked in 30 minutes early; each call takes 10 minutes: it goes ahead once its slot begins."""
    waiting = [T(i, queued=i) for i in range(1, 7)] + [T(20, queued=-5, slot=30)]
    assert run_counter(C(walk=2), waiting, 2, step_min=10) == [1, 2, 3, 20, 4, 5, 6]


# ---------------------------------------------------------------- the store's candidates
SLOT_PAST, SLOT_LATER = -10, 45  # minutes from the clock's now


def _issue(store, clock, kind):
    now_ms = int(clock.now.timestamp() * 1000)
    clock.advance(1)
    if kind == "walk":
        return store.issue("civil").ticket["id"]
    slot = {"due": SLOT_PAST, "early": SLOT_LATER}[kind]
    return store.issue("civil", source="online", booking_id=1, slot_start_ms=now_ms + slot * MIN).ticket["id"]


def test_the_store_calls_in_the_booked_order(open_store, clock):
    """Counter 5 serves civil only. An early booked ticket checked in first, walk-ins, then two due booked
    tickets: with N = 2 the store calls walk, walk, booked, walk, walk, booked, and the early one last (its slot
    has not begun; nothing else waits), and keeps the counter's streak in the database."""
    s = open_store
    assert s.config.queue.walk_ins_per_booked == 2
    early = _issue(s, clock, "early")
    walk = [_issue(s, clock, "walk") for _ in range(4)]
    due = [_issue(s, clock, "due") for _ in range(2)]
    order, streaks = [], []
    for _ in range(7):
        clock.advance(5)
        order.append(s.call_next("5").ticket["id"])
        streaks.append(s.counter("5")["walk_in_streak"])
    assert order == [walk[0], walk[1], due[0], walk[2], walk[3], due[1], early]
    assert streaks == [1, 2, 0, 1, 2, 0, 0]


def test_the_store_with_the_interleave_off_calls_in_plain_order(tmp_path, clock):
    from storecheck import config_variant
    from queue_server.store import Store

    s = Store(tmp_path / "q.sqlite3", config_variant(queue={"walk_ins_per_booked": 0}), clock=clock)
    try:
        s.set_counter_state("5", "open")
        ids = [_issue(s, clock, k) for k in ("early", "walk", "due", "walk")]
        assert [s.call_next("5").ticket["id"] for _ in ids] == ids
    finally:
        s.close()


# ---------------------------------------------------------------- the wait estimate replays the same rule
@pytest.mark.parametrize("per_booked", [0, 1, 2])
def test_the_estimate_replays_the_booked_order(per_booked):
    """One counter, 10 minutes a ticket: the replay's order of calls is the rule's, an early booked ticket
    becoming due in the replay's own time (its slot begins 25 minutes on)."""
    waiting = ([T(i, queued=i) for i in range(1, 7)] + [T(10, queued=30, slot=-1), T(11, queued=31, slot=-1)]
               + [T(12, queued=-5, slot=25)])
    counter = C(walk=1)
    places = estimate.replay(waiting, [counter], {}, {"a": 10}, NOW, 3, walk_ins_per_booked=per_booked)
    replayed = sorted(places, key=lambda tid: places[tid].wait_ms)
    assert replayed == run_counter(counter, waiting, per_booked, step_min=10)
    assert [places[t].wait_ms for t in replayed] == [i * 10 * MIN for i in range(len(waiting))]
    if per_booked:
        assert replayed.index(10) <= per_booked - 1  # streak 1 already: at most N-1 walk-ins before it
