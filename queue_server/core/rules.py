"""The queue rules: plain Python over plain data.

No Flask, SQLite or serial here. The store loads the rows an operation needs, asks this module what
happens, and writes the answer in one transaction. Every function either returns the new state or raises
a DomainError and changes nothing (inputs are frozen dataclasses; functions return replacements).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time
from enum import StrEnum
from typing import Iterable, Sequence

from queue_server.core.booked_order import normal_pool, walk_in_streak_after
from queue_server.core.errors import DomainError


class Status(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    PARKED = "parked"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    UNSERVED = "unserved"


ACTIVE = frozenset({Status.WAITING, Status.CALLED, Status.SERVING, Status.PARKED})
AT_COUNTER = frozenset({Status.CALLED, Status.SERVING})
FINAL = frozenset({Status.DONE, Status.NO_SHOW, Status.CANCELLED, Status.UNSERVED})


class CounterState(StrEnum):
    OPEN = "open"
    BREAK = "break"
    CLOSED = "closed"


@dataclass(frozen=True)
class Ticket:
    id: int | None
    day: str
    service_id: str
    seq_key: str
    seq_index: int
    number: int
    code: str
    status: Status = Status.WAITING
    priority: bool = False
    priority_group: str | None = None
    source: str = "walk_in"  # walk_in | priority | staff | online | remote (a walk-in number taken by phone in the hall)
    issued_ms: int = 0
    queued_ms: int = 0  # rank in the queue: issue time, or transfer time when sent last
    counter_id: str | None = None  # the counter that called / serves / parked it
    target_counter_id: str | None = None  # transferred to one counter only
    called_ms: int | None = None
    started_ms: int | None = None
    finished_ms: int | None = None
    recall_count: int = 0
    transfer_count: int = 0
    staff_id: int | None = None
    token: str = ""
    booking_id: int | None = None  # the booking it was issued for (None: a walk-in)
    slot_start_ms: int | None = None  # the booked slot's start, epoch ms (None: a walk-in)


@dataclass(frozen=True)
class Counter:
    id: str
    number: int
    services: tuple[str, ...]
    policy: str = "fifo"  # fifo | order | weighted
    weights: tuple[tuple[str, float], ...] = ()
    state: CounterState = CounterState.CLOSED
    current_ticket_id: int | None = None
    staff_id: int | None = None
    priority_streak: int = 0
    walk_in_streak: int = 0  # walk-in tickets called in a row here since the last booked one


@dataclass(frozen=True)
class NumberRange:
    prefix: str
    start: int
    end: int
    width: int

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    def number_at(self, index: int) -> int:
        return self.start + (index % self.size)

    def code(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.width}d}"


@dataclass(frozen=True)
class ServiceRules:
    """What decides whether a service may issue now."""

    id: str
    daily_cap: int | None
    windows: tuple[tuple[time, time], ...]
    weekdays: frozenset[int]  # 0 = Monday
    holidays: frozenset[str] = frozenset()
    always_open: bool = False
    manual: str = "auto"  # auto | open | closed (set live by a supervisor)
    cap_override: int | None = None


@dataclass(frozen=True)
class ServiceStatus:
    open: bool
    reason: str | None = None  # None | closed_manually | outside_hours | closed_today | full
    opens_at: str | None = None  # "HH:MM" today, or weekday / date when later
    cap: int | None = None
    issued_today: int = 0
    reserved: int = 0  # today's bookings still to check in: their places are kept out of the walk-ins' cap


# ---------------------------------------------------------------- issuing

def service_status(rules: ServiceRules, now_local: datetime, issued_today: int, *, reserved: int = 0,
                   booked: bool = False) -> ServiceStatus:
    """Whether a ticket may be issued now, and why not. A walk-in finds the service full once the tickets issued
    and the places still booked for today reach the cap; a booked check-in had its place kept (`booked`)."""
    cap = rules.cap_override if rules.cap_override is not None else rules.daily_cap
    facts = {"cap": cap, "issued_today": issued_today, "reserved": reserved}
    if rules.manual == "closed":
        return ServiceStatus(False, "closed_manually", **facts)
    if cap is not None and not booked and issued_today + reserved >= cap:
        return ServiceStatus(False, "full", **facts)
    if rules.manual == "open" or rules.always_open:
        return ServiceStatus(True, **facts)
    today = now_local.date().isoformat()
    if now_local.weekday() not in rules.weekdays or today in rules.holidays:
        return ServiceStatus(False, "closed_today", opens_at=_next_open_day(rules, now_local), **facts)
    t = now_local.time()
    for start, end in rules.windows:
        if start <= t < end:
            return ServiceStatus(True, **facts)
    later = [start for start, _ in rules.windows if start > t]
    if later:
        return ServiceStatus(False, "outside_hours", opens_at=min(later).strftime("%H:%M"), **facts)
    return ServiceStatus(False, "outside_hours", opens_at=_next_open_day(rules, now_local), **facts)


def _next_open_day(rules: ServiceRules, now_local: datetime) -> str | None:
    from datetime import timedelta

    if not rules.windows:
        return None
    first = min(start for start, _ in rules.windows).strftime("%H:%M")
    for add in range(1, 40):
        d = now_local.date() + timedelta(days=add)
        if d.weekday() in rules.weekdays and d.isoformat() not in rules.holidays:
            return f"{d.isoformat()} {first}"
    return None


def next_number(rng: NumberRange, last_index: int | None, active_numbers: Iterable[int],
                on_exhausted: str) -> tuple[int, int, str]:
    """(sequence index, number, code) of the next ticket of a range today.

    Indexes grow by one per ticket and never repeat in a day; the number is the index folded into the
    range. Past the end the range is refused, or (wrap) starts again, skipping no number: a wrapped number
    still held by an active ticket is refused, so two active tickets never show one number.
    """
    index = 0 if last_index is None else last_index + 1
    if index >= rng.size:
        if on_exhausted != "wrap":
            raise DomainError("range_exhausted", range=f"{rng.code(rng.start)}-{rng.code(rng.end)}")
        number = rng.number_at(index)
        if number in set(active_numbers):
            raise DomainError("range_exhausted", range=f"{rng.code(rng.start)}-{rng.code(rng.end)}")
    number = rng.number_at(index)
    return index, number, rng.code(number)


# ---------------------------------------------------------------- choosing the next ticket

def eligible(ticket: Ticket, counter: Counter) -> bool:
    """A waiting ticket this counter may call."""
    if ticket.status != Status.WAITING:
        return False
    if ticket.target_counter_id is not None:
        return ticket.target_counter_id == counter.id
    return ticket.service_id in counter.services


def _rank(t: Ticket) -> tuple[int, int]:
    return (t.queued_ms, t.id or 0)


def _by_policy(counter: Counter, candidates: Sequence[Ticket], now_ms: int) -> Ticket:
    # Tickets sent to this counter by name go first; they were already in line elsewhere.
    direct = [t for t in candidates if t.target_counter_id == counter.id]
    if direct:
        return min(direct, key=_rank)
    if counter.policy == "order":
        for sid in counter.services:
            same = [t for t in candidates if t.service_id == sid]
            if same:
                return min(same, key=_rank)
    if counter.policy == "weighted":
        weights = dict(counter.weights)
        heads: dict[str, Ticket] = {}
        for t in candidates:
            h = heads.get(t.service_id)
            if h is None or _rank(t) < _rank(h):
                heads[t.service_id] = t
        # Longest wait times weight: a heavier service is called sooner, no service waits for ever.
        return max(heads.values(), key=lambda t: ((now_ms - t.queued_ms + 1) * weights.get(t.service_id, 1.0),
                                                   -t.queued_ms, -(t.id or 0)))
    return min(candidates, key=_rank)


UNSET = object()


def is_repeat_press(current: Ticket | None, expect_current, now_ms: int, window_ms: int) -> bool:
    """A "next" that repeats a press already served (double tap, retried request, several screens).

    When the client says which ticket it believes is current, a counter that already holds another open
    ticket means the press was served. Without that, a call made less than `window_ms` ago is the same press.
    """
    if current is None or current.status not in AT_COUNTER:
        return False
    if expect_current is not UNSET:
        return current.id != expect_current
    return current.status == Status.CALLED and current.called_ms is not None and now_ms - current.called_ms < window_ms


def choose_next(counter: Counter, waiting: Iterable[Ticket], now_ms: int, max_consecutive_priority: int,
                walk_ins_per_booked: int = 0) -> Ticket | None:
    """The ticket `counter` calls on "next", or None when nothing waits for it.

    Priority tickets go ahead of normal ones, but after `max_consecutive_priority` priority calls in a row
    at this counter a waiting normal ticket is called, so normal tickets never starve. Among normal tickets,
    due booked ones go ahead of walk-ins, `walk_ins_per_booked` walk-ins between two (core/booked_order.py).
    """
    candidates = [t for t in waiting if eligible(t, counter)]
    if not candidates:
        return None
    prio = [t for t in candidates if t.priority]
    normal = [t for t in candidates if not t.priority]
    if prio and (not normal or counter.priority_streak < max_consecutive_priority):
        return _by_policy(counter, prio, now_ms)
    return _by_policy(counter, normal_pool(counter, normal, now_ms, walk_ins_per_booked), now_ms)


# ---------------------------------------------------------------- operations

@dataclass(frozen=True)
class Outcome:
    """What an operation changes: the tickets and counters to write back, and the events to log."""

    tickets: tuple[Ticket, ...] = ()
    counters: tuple[Counter, ...] = ()
    events: tuple[tuple[str, dict], ...] = field(default=())


def _need_open(counter: Counter) -> None:
    if counter.state != CounterState.OPEN:
        raise DomainError("counter_not_open", counter=counter.number, state=counter.state.value)


def _need_here(ticket: Ticket, counter: Counter) -> None:
    if ticket.counter_id != counter.id or ticket.status not in AT_COUNTER | {Status.PARKED}:
        raise DomainError("wrong_counter", code=ticket.code, counter=counter.number)


def _close_current(counter: Counter, current: Ticket | None, now_ms: int, mode: str) -> tuple[list[Ticket], list[tuple[str, dict]]]:
    """Before a new call: finish the open ticket (mode finish) or refuse (mode refuse)."""
    if current is None or current.status not in AT_COUNTER or current.counter_id != counter.id:
        return [], []
    if mode == "refuse":
        raise DomainError("counter_busy", counter=counter.number, code=current.code)
    done = replace(current, status=Status.DONE, finished_ms=now_ms,
                   started_ms=current.started_ms if current.started_ms is not None else current.called_ms)
    return [done], [("ticket.finished", {"ticket": done.id, "auto": True})]


def call(counter: Counter, ticket: Ticket, current: Ticket | None, now_ms: int, mode: str,
         staff_id: int | None = None, event: str = "ticket.called") -> Outcome:
    """Call `ticket` to `counter` (next, a named number, or resume of a parked ticket)."""
    _need_open(counter)
    resuming = ticket.status == Status.PARKED
    if resuming:
        if ticket.counter_id != counter.id:
            raise DomainError("wrong_counter", code=ticket.code, counter=counter.number)
    elif not eligible(ticket, counter):
        if ticket.status != Status.WAITING:
            raise DomainError("not_waiting", code=ticket.code, status=ticket.status.value)
        raise DomainError("not_for_counter", code=ticket.code, counter=counter.number)
    closed, events = _close_current(counter, current, now_ms, mode)
    called = replace(ticket, status=Status.CALLED, counter_id=counter.id, target_counter_id=None,
                     called_ms=now_ms, started_ms=None, staff_id=staff_id)
    streak = counter.priority_streak + 1 if ticket.priority else 0
    if resuming:
        streak = counter.priority_streak
    walk_ins = counter.walk_in_streak if resuming else walk_in_streak_after(counter, ticket)
    new_counter = replace(counter, current_ticket_id=ticket.id, priority_streak=streak, walk_in_streak=walk_ins)
    events.append((event, {"ticket": called.id, "counter": counter.id, "recall": False}))
    return Outcome(tickets=(*closed, called), counters=(new_counter,), events=tuple(events))


def recall(counter: Counter, ticket: Ticket, now_ms: int) -> Outcome:
    _need_open(counter)
    if ticket.status != Status.CALLED or ticket.counter_id != counter.id:
        raise DomainError("not_called_here", code=ticket.code, counter=counter.number)
    t = replace(ticket, recall_count=ticket.recall_count + 1)
    return Outcome(tickets=(t,), events=(("ticket.called", {"ticket": t.id, "counter": counter.id, "recall": True,
                                                            "recall_count": t.recall_count}),))


def no_show(counter: Counter, ticket: Ticket, now_ms: int) -> Outcome:
    if ticket.status != Status.CALLED or ticket.counter_id != counter.id:
        raise DomainError("not_called_here", code=ticket.code, counter=counter.number)
    t = replace(ticket, status=Status.NO_SHOW, finished_ms=now_ms)
    c = replace(counter, current_ticket_id=None)
    return Outcome(tickets=(t,), counters=(c,), events=(("ticket.no_show", {"ticket": t.id}),))


def start(counter: Counter, ticket: Ticket, now_ms: int) -> Outcome:
    if ticket.status != Status.CALLED or ticket.counter_id != counter.id:
        raise DomainError("not_called_here", code=ticket.code, counter=counter.number)
    t = replace(ticket, status=Status.SERVING, started_ms=now_ms)
    return Outcome(tickets=(t,), events=(("ticket.started", {"ticket": t.id}),))


def finish(counter: Counter, ticket: Ticket, now_ms: int) -> Outcome:
    """Serving (or called, when staff skip "start") -> done."""
    if ticket.status not in AT_COUNTER or ticket.counter_id != counter.id:
        raise DomainError("not_at_counter", code=ticket.code, counter=counter.number)
    t = replace(ticket, status=Status.DONE, finished_ms=now_ms,
                started_ms=ticket.started_ms if ticket.started_ms is not None else ticket.called_ms)
    c = replace(counter, current_ticket_id=None)
    return Outcome(tickets=(t,), counters=(c,), events=(("ticket.finished", {"ticket": t.id, "auto": False}),))


def transfer(counter: Counter, ticket: Ticket, now_ms: int, *, service_id: str | None,
             target: Counter | None, go_last: bool) -> Outcome:
    """Send a ticket at this counter to another service's queue or to one counter.

    It keeps its number and its place by original issue time, unless `go_last`.
    """
    if ticket.status not in AT_COUNTER | {Status.PARKED} or ticket.counter_id != counter.id:
        raise DomainError("not_at_counter", code=ticket.code, counter=counter.number)
    if target is not None and target.id == counter.id:
        raise DomainError("transfer_to_self", counter=counter.number)
    new_service = service_id or ticket.service_id
    if target is not None and new_service not in target.services:
        if service_id is not None:
            raise DomainError("not_for_counter", code=ticket.code, counter=target.number)
        new_service = target.services[0]
    if target is None and service_id is None:
        raise DomainError("transfer_needs_target")
    if target is None and new_service == ticket.service_id and not go_last:
        raise DomainError("transfer_to_self_service", service=new_service)
    t = replace(ticket, status=Status.WAITING, service_id=new_service, counter_id=None,
                target_counter_id=target.id if target else None, called_ms=None, started_ms=None,
                queued_ms=now_ms if go_last else ticket.issued_ms, transfer_count=ticket.transfer_count + 1,
                staff_id=None)
    c = replace(counter, current_ticket_id=None if counter.current_ticket_id == ticket.id else counter.current_ticket_id)
    return Outcome(tickets=(t,), counters=(c,), events=(("ticket.transferred", {
        "ticket": t.id, "from_service": ticket.service_id, "to_service": new_service,
        "to_counter": target.id if target else None, "go_last": go_last}),))


def park(counter: Counter, ticket: Ticket, now_ms: int) -> Outcome:
    """Hold a ticket (the citizen fetches a paper); the counter is free to call others."""
    if ticket.status not in AT_COUNTER or ticket.counter_id != counter.id:
        raise DomainError("not_at_counter", code=ticket.code, counter=counter.number)
    t = replace(ticket, status=Status.PARKED)
    c = replace(counter, current_ticket_id=None)
    return Outcome(tickets=(t,), counters=(c,), events=(("ticket.parked", {"ticket": t.id}),))


def resume(counter: Counter, ticket: Ticket, current: Ticket | None, now_ms: int, mode: str,
           staff_id: int | None = None) -> Outcome:
    if ticket.status != Status.PARKED:
        raise DomainError("not_parked", code=ticket.code)
    return call(counter, ticket, current, now_ms, mode, staff_id, event="ticket.resumed")


def cancel(ticket: Ticket, now_ms: int) -> Outcome:
    if ticket.status != Status.WAITING:
        raise DomainError("not_waiting", code=ticket.code, status=ticket.status.value)
    t = replace(ticket, status=Status.CANCELLED, finished_ms=now_ms)
    return Outcome(tickets=(t,), events=(("ticket.cancelled", {"ticket": t.id}),))


def set_counter_state(counter: Counter, state: CounterState, current: Ticket | None, now_ms: int,
                      mode: str, staff_id: int | None) -> Outcome:
    """Open, break or close a counter. Leaving with a ticket open follows the next-with-open-ticket rule."""
    tickets: list[Ticket] = []
    events: list[tuple[str, dict]] = []
    if state != CounterState.OPEN:
        tickets, events = _close_current(counter, current, now_ms, mode)
    new = replace(counter, state=state, current_ticket_id=None if tickets else counter.current_ticket_id,
                  staff_id=staff_id if state == CounterState.OPEN else (None if state == CounterState.CLOSED else counter.staff_id),
                  priority_streak=0 if state == CounterState.CLOSED else counter.priority_streak,
                  walk_in_streak=0 if state == CounterState.CLOSED else counter.walk_in_streak)
    events.append(("counter.state", {"counter": counter.id, "from": counter.state.value, "to": state.value}))
    return Outcome(tickets=tuple(tickets), counters=(new,), events=tuple(events))


def close_day(active: Iterable[Ticket], counters: Iterable[Counter], now_ms: int) -> Outcome:
    """End of the day: every ticket still active becomes unserved; counters close. History stays."""
    tickets = tuple(replace(t, status=Status.UNSERVED, finished_ms=now_ms) for t in active if t.status in ACTIVE)
    cs = tuple(replace(c, state=CounterState.CLOSED, current_ticket_id=None, walk_in_streak=0,
                       staff_id=None, priority_streak=0)
               for c in counters)
    events = [("ticket.unserved", {"ticket": t.id}) for t in tickets]
    events += [("counter.state", {"counter": c.id, "to": "closed", "reason": "close_day"}) for c in cs]
    return Outcome(tickets=tickets, counters=cs, events=tuple(events))
