"""The pure queue rules, table by table. No database here."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

import pytest

from queue_server.core import rules as E
from queue_server.core.rules import Counter, CounterState, NumberRange, ServiceRules, Status, Ticket
from queue_server.core.errors import DomainError, MESSAGES


def T(id, service="a", queued=0, *, priority=False, status=Status.WAITING, counter=None, target=None):
    return Ticket(id=id, day="2026-11-25", service_id=service, seq_key="s", seq_index=id, number=id, code=str(id),
                  status=status, priority=priority, issued_ms=queued, queued_ms=queued, counter_id=counter,
                  target_counter_id=target, called_ms=100 if status in (Status.CALLED, Status.SERVING) else None)


def C(services=("a",), *, policy="fifo", weights=(), state=CounterState.OPEN, streak=0, current=None, id="1"):
    return Counter(id=id, number=int(id), services=tuple(services), policy=policy, weights=tuple(weights), state=state,
                   priority_streak=streak, current_ticket_id=current)


# ------------------------------------------------------------------ numbering
@pytest.mark.parametrize("rng, last, active, mode, expect", [
    (NumberRange("", 1001, 1999, 0), None, [], "refuse", (0, 1001, "1001")),
    (NumberRange("", 1001, 1999, 0), 4, [], "refuse", (5, 1006, "1006")),
    (NumberRange("A", 1, 999, 3), None, [], "refuse", (0, 1, "A001")),
    (NumberRange("A", 1, 999, 3), 41, [], "refuse", (42, 43, "A043")),
    (NumberRange("B", 1, 3, 2), 2, [1], "wrap", (3, 1, "B01") if False else "exhausted"),  # 1 still active
    (NumberRange("B", 1, 3, 2), 2, [2, 3], "wrap", (3, 1, "B01")),
    (NumberRange("B", 1, 3, 2), 5, [], "wrap", (6, 1, "B01")),
    (NumberRange("", 2001, 2003, 0), 2, [], "refuse", "exhausted"),
])
def test_next_number(rng, last, active, mode, expect):
    if expect == "exhausted":
        with pytest.raises(DomainError) as e:
            E.next_number(rng, last, active, mode)
        assert e.value.code == "range_exhausted"
    else:
        assert E.next_number(rng, last, active, mode) == expect


# ------------------------------------------------------------------ issuing windows, caps
WEEK = frozenset(range(5))
MORNING = ((time(7, 30), time(11, 15)), (time(13, 15), time(16, 30)))


@pytest.mark.parametrize("local, issued, extra, expect", [
    ("2026-11-25 09:00", 0, {}, (True, None, None)),
    ("2026-11-25 07:29", 0, {}, (False, "outside_hours", "07:30")),
    ("2026-11-25 07:30", 0, {}, (True, None, None)),
    ("2026-11-25 11:15", 0, {}, (False, "outside_hours", "13:15")),
    ("2026-11-25 16:30", 0, {}, (False, "outside_hours", "2026-11-26 07:30")),
    ("2026-11-27 17:00", 0, {}, (False, "outside_hours", "2026-11-30 07:30")),  # Friday evening -> Monday
    ("2026-11-28 09:00", 0, {}, (False, "closed_today", "2026-11-30 07:30")),  # Saturday
    ("2026-12-31 09:00", 0, {"holidays": frozenset({"2026-12-31"})}, (False, "closed_today", "2027-01-01 07:30")),
    ("2026-11-25 09:00", 200, {"daily_cap": 200}, (False, "full", None)),
    ("2026-11-25 09:00", 199, {"daily_cap": 200}, (True, None, None)),
    ("2026-11-25 09:00", 199, {"daily_cap": 200, "cap_override": 150}, (False, "full", None)),
    ("2026-11-28 22:00", 0, {"always_open": True}, (True, None, None)),
    ("2026-11-28 22:00", 0, {"manual": "open"}, (True, None, None)),
    ("2026-11-25 09:00", 0, {"manual": "closed"}, (False, "closed_manually", None)),
    ("2026-11-28 22:00", 200, {"manual": "open", "daily_cap": 200}, (False, "full", None)),  # open, yet full
    ("2026-11-28 22:00", 300, {"always_open": True, "daily_cap": 300}, (False, "full", None)),
])
def test_service_status(local, issued, extra, expect):
    rules = ServiceRules(id="a", daily_cap=extra.pop("daily_cap", None), windows=MORNING, weekdays=WEEK, **extra)
    st = E.service_status(rules, datetime.fromisoformat(local), issued)
    assert (st.open, st.reason, st.opens_at) == expect


@pytest.mark.parametrize("issued, reserved, booked, cap_override, expect", [
    (2, 2, False, None, (False, "full")),  # a walk-in: the places still booked are kept
    (1, 2, False, None, (True, None)),
    (2, 2, True, None, (True, None)),  # a booking's check-in: its place was kept
    (4, 0, True, None, (True, None)),  # even past the cap (a supervisor's lower cap came after the booking)
    (1, 1, False, 2, (False, "full")),  # today's cap set by a supervisor counts the bookings to come too
    (0, 9, False, None, (False, "full")),
])
def test_the_daily_cap_keeps_the_places_booked(issued, reserved, booked, cap_override, expect):
    rules = ServiceRules(id="a", daily_cap=4, windows=MORNING, weekdays=WEEK, cap_override=cap_override)
    st = E.service_status(rules, datetime.fromisoformat("2026-11-25 09:00"), issued, reserved=reserved, booked=booked)
    assert (st.open, st.reason) == expect and (st.issued_today, st.reserved) == (issued, reserved)
    manual = E.service_status(replace(rules, manual="closed"), datetime.fromisoformat("2026-11-25 09:00"), issued,
                              reserved=reserved, booked=booked)
    assert manual.reason == "closed_manually"  # a service a supervisor closed is closed to bookings too


# ------------------------------------------------------------------ choosing next
@pytest.mark.parametrize("counter, waiting, expect", [
    (C(), [], None),
    (C(), [T(1, queued=5), T(2, queued=3)], 2),
    (C(), [T(1, queued=5), T(2, queued=5)], 1),  # same time: lower id first
    (C(), [T(1, "b", queued=1), T(2, queued=9)], 2),  # other service not served here
    (C(("a", "b")), [T(1, "b", queued=1), T(2, queued=9)], 1),  # fifo across services
    (C(("a", "b"), policy="order"), [T(1, "b", queued=1), T(2, queued=9)], 2),  # strict order
    (C(("a", "b"), policy="order"), [T(1, "b", queued=1)], 1),
    (C(), [T(1, queued=1), T(2, queued=9, priority=True)], 2),  # priority first
    (C(streak=3), [T(1, queued=1), T(2, queued=9, priority=True)], 1),  # bound reached: a normal one
    (C(streak=3), [T(2, queued=9, priority=True)], 2),  # bound, but no normal waits
    (C(), [T(1, queued=1), T(2, queued=2, target="2")], 1),  # transferred to another counter
    (C(), [T(1, queued=1), T(2, "z", queued=5, target="1")], 2),  # transferred here by name goes first
    (C(), [T(1, queued=1, status=Status.PARKED)], None),
    # weighted: wait x weight; b waited 100, a waited 250, b weighs 3 -> b
    (C(("a", "b"), policy="weighted", weights=(("b", 3.0),)), [T(1, "a", queued=750), T(2, "b", queued=900)], 2),
    (C(("a", "b"), policy="weighted", weights=(("b", 3.0),)), [T(1, "a", queued=0), T(2, "b", queued=900)], 1),
])
def test_choose_next(counter, waiting, expect):
    chosen = E.choose_next(counter, waiting, now_ms=1000, max_consecutive_priority=3)
    assert (chosen.id if chosen else None) == expect


def test_priority_bound_sequence():
    """With a bound of 2, a stream of priority tickets lets a normal one through every third call."""
    counter = C()
    waiting = [T(i, queued=i, priority=True) for i in range(1, 7)] + [T(100, queued=0), T(101, queued=0)]
    order = []
    while True:
        t = E.choose_next(counter, waiting, 1000, 2)
        if t is None:
            break
        out = E.call(counter, t, None, 1000, "finish")
        counter = replace(out.counters[0], current_ticket_id=None)
        waiting = [w for w in waiting if w.id != t.id]
        order.append("P" if t.priority else "N")
    assert "".join(order) == "PPNPPNPP"


# ------------------------------------------------------------------ transitions
CALLED = T(1, status=Status.CALLED, counter="1")
SERVING = T(1, status=Status.SERVING, counter="1")
WAITING = T(1)
PARKED = T(1, status=Status.PARKED, counter="1")
ELSEWHERE = T(1, status=Status.CALLED, counter="2")


@pytest.mark.parametrize("op, ticket, new_status, error", [
    ("recall", CALLED, Status.CALLED, None),
    ("recall", SERVING, None, "not_called_here"),
    ("recall", ELSEWHERE, None, "not_called_here"),
    ("no_show", CALLED, Status.NO_SHOW, None),
    ("no_show", WAITING, None, "not_called_here"),
    ("no_show", SERVING, None, "not_called_here"),
    ("start", CALLED, Status.SERVING, None),
    ("start", WAITING, None, "not_called_here"),
    ("start", ELSEWHERE, None, "not_called_here"),
    ("finish", SERVING, Status.DONE, None),
    ("finish", CALLED, Status.DONE, None),
    ("finish", ELSEWHERE, None, "not_at_counter"),
    ("finish", WAITING, None, "not_at_counter"),
    ("park", SERVING, Status.PARKED, None),
    ("park", WAITING, None, "not_at_counter"),
    ("cancel", WAITING, Status.CANCELLED, None),
    ("cancel", CALLED, None, "not_waiting"),
])
def test_transitions(op, ticket, new_status, error):
    counter = C(current=ticket.id if ticket.counter_id == "1" else None)
    fn = getattr(E, op)
    call = (lambda: fn(ticket, 500)) if op == "cancel" else (lambda: fn(counter, ticket, 500))
    if error:
        with pytest.raises(DomainError) as e:
            call()
        assert e.value.code == error
    else:
        out = call()
        assert out.tickets[-1].status == new_status
        assert out.events, "every change is logged"


def test_recall_counts():
    out = E.recall(C(current=1), CALLED, 500)
    assert out.tickets[0].recall_count == 1
    assert out.events[0] == ("ticket.called", {"ticket": 1, "counter": "1", "recall": True, "recall_count": 1})


@pytest.mark.parametrize("state", [CounterState.BREAK, CounterState.CLOSED])
def test_call_needs_open_counter(state):
    with pytest.raises(DomainError) as e:
        E.call(C(state=state), WAITING, None, 500, "finish")
    assert e.value.code == "counter_not_open"


@pytest.mark.parametrize("mode, expect", [("finish", [Status.DONE, Status.CALLED]), ("refuse", "counter_busy")])
def test_call_with_open_ticket(mode, expect):
    counter = C(current=1)
    if expect == "counter_busy":
        with pytest.raises(DomainError) as e:
            E.call(counter, T(2), SERVING, 500, mode)
        assert e.value.code == expect
    else:
        out = E.call(counter, T(2), SERVING, 500, mode)
        assert [t.status for t in out.tickets] == expect
        assert out.counters[0].current_ticket_id == 2


@pytest.mark.parametrize("kw, expect", [
    ({"service_id": "b", "target": None, "go_last": False}, ("b", None, 0)),
    ({"service_id": "b", "target": None, "go_last": True}, ("b", None, 500)),
    ({"service_id": None, "target": C(("a",), id="2"), "go_last": False}, ("a", "2", 0)),
    ({"service_id": None, "target": C(("c",), id="2"), "go_last": False}, ("c", "2", 0)),
    ({"service_id": "b", "target": C(("c",), id="2"), "go_last": False}, "not_for_counter"),
    ({"service_id": None, "target": C(("a",), id="1"), "go_last": False}, "transfer_to_self"),
    ({"service_id": None, "target": None, "go_last": False}, "transfer_needs_target"),
    ({"service_id": "a", "target": None, "go_last": False}, "transfer_to_self_service"),
])
def test_transfer(kw, expect):
    ticket = replace(SERVING, issued_ms=0, queued_ms=0)
    if isinstance(expect, str):
        with pytest.raises(DomainError) as e:
            E.transfer(C(current=1), ticket, 500, **kw)
        assert e.value.code == expect
        return
    out = E.transfer(C(current=1), ticket, 500, **kw)
    t = out.tickets[0]
    assert (t.service_id, t.target_counter_id, t.queued_ms) == expect
    assert t.status == Status.WAITING and t.counter_id is None and t.transfer_count == 1
    assert out.counters[0].current_ticket_id is None


def test_resume_parked_only_at_its_counter():
    out = E.resume(C(), PARKED, None, 500, "finish")
    assert out.tickets[-1].status == Status.CALLED
    assert out.events[-1][0] == "ticket.resumed"
    with pytest.raises(DomainError) as e:
        E.resume(C(id="2"), PARKED, None, 500, "finish")
    assert e.value.code == "wrong_counter"
    with pytest.raises(DomainError) as e:
        E.resume(C(), WAITING, None, 500, "finish")
    assert e.value.code == "not_parked"


def test_close_day_marks_active_unserved():
    tickets = [T(1), CALLED, replace(T(3), status=Status.DONE)]
    out = E.close_day(tickets, [C(current=1)], 900)
    assert [t.id for t in out.tickets] == [1, 1]
    assert all(t.status == Status.UNSERVED for t in out.tickets)
    assert out.counters[0].state == CounterState.CLOSED


# The one 5xx a domain error may carry: a system outside the centre (the province's dossier system) that does not
# answer is 503, the kiosk's cue to say so and offer the return-of-results ticket anyway. Bad input is always 4xx.
UPSTREAM = {"dossier_source_down": 503}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_error_has_both_languages(code):
    vi, en, status = MESSAGES[code]
    assert vi and en and (400 <= status < 500 or UPSTREAM.get(code) == status)
