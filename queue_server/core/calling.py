"""The "next" press at a counter, as one rule: open counter, repeated press, busy counter, choice, call.

The store reads the counter, its current ticket and the candidates, and asks this; it checks nothing itself.
"""
from __future__ import annotations

from typing import Iterable

from queue_server.core import rules as R
from queue_server.core.errors import DomainError


def call_next(counter: R.Counter, current: R.Ticket | None, waiting: Iterable[R.Ticket], now_ms: int, *,
              mode: str, max_consecutive_priority: int, repeat_window_ms: int, expect_current=R.UNSET,
              staff_id: int | None = None, walk_ins_per_booked: int = 0) -> R.Outcome | None:
    """What "next" does: None when the press repeats one already served (the current ticket stands), else
    the call (finishing the open ticket first in mode finish). Refusals, in this order: counter_not_open,
    counter_busy (mode refuse, a ticket still at the counter), nothing_waiting."""
    if counter.state != R.CounterState.OPEN:
        raise DomainError("counter_not_open", counter=counter.number, state=counter.state.value)
    if R.is_repeat_press(current, expect_current, now_ms, repeat_window_ms):
        return None
    if current is not None and mode == "refuse" and current.status in R.AT_COUNTER:
        raise DomainError("counter_busy", counter=counter.number, code=current.code)
    chosen = R.choose_next(counter, waiting, now_ms, max_consecutive_priority, walk_ins_per_booked)
    if chosen is None:
        raise DomainError("nothing_waiting", counter=counter.number)
    return R.call(counter, chosen, current, now_ms, mode, staff_id if staff_id is not None else counter.staff_id)
