"""Booked tickets in the calling order (issue 13 item 4): plain functions over the rules' frozen tickets.

A booked ticket is one issued at the kiosk's check-in for an online booking: it carries its slot's start
(`slot_start_ms`). It is *due* once its slot has begun. Among the normal (not priority) tickets a counter may
call, a due booked ticket goes ahead of the walk-ins, interleaved with them by `queue.walk_ins_per_booked`:
after a booked call the counter calls up to that many walk-ins before the next due booked ticket, so neither
side starves. The counter's `walk_in_streak` counts the walk-ins it called since its last booked ticket.
A booked ticket checked in before its slot is not due: it is called only when nothing else waits for the
counter, so a counter never idles while someone waits. Tickets sent to a counter by name keep going first
there, and neither they nor priority calls nor resumes move the streak (a break keeps it; closing the
counter and the end of the day set it to 0). 0 turns the interleave off: booked
tickets are then called in plain queue order like any other.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # the rules import this module; the types are theirs
    from queue_server.core.rules import Counter, Ticket


def is_booked(ticket: "Ticket") -> bool:
    """Issued for an online booking (its slot is known)."""
    return ticket.slot_start_ms is not None


def is_due(ticket: "Ticket", now_ms: int) -> bool:
    """A booked ticket whose slot has begun."""
    return ticket.slot_start_ms is not None and ticket.slot_start_ms <= now_ms


def normal_pool(counter: "Counter", normal: Sequence["Ticket"], now_ms: int, walk_ins_per_booked: int) -> list["Ticket"]:
    """The normal tickets the counter's policy chooses among: the due booked ones, the walk-ins, or (nothing
    else waiting) the booked ones whose slot has not begun. `normal` is not empty."""
    if walk_ins_per_booked <= 0 or any(t.target_counter_id == counter.id for t in normal):
        return list(normal)  # interleave off, or a ticket sent here by name (it goes first, as always)
    due = [t for t in normal if is_due(t, now_ms)]
    walk_ins = [t for t in normal if not is_booked(t)]
    if due and (not walk_ins or counter.walk_in_streak >= walk_ins_per_booked):
        return due
    return walk_ins or list(normal)


def walk_in_streak_after(counter: "Counter", ticket: "Ticket") -> int:
    """The counter's walk-in streak once it has called `ticket` (a new call, not a resume): 0 after a booked
    ticket, one more after a walk-in; unchanged by a priority ticket or one sent to this counter by name."""
    if ticket.priority or ticket.target_counter_id == counter.id:
        return counter.walk_in_streak
    return 0 if is_booked(ticket) else counter.walk_in_streak + 1


def after_call(counter: "Counter", ticket: "Ticket") -> "Counter":
    """The counter's two streaks after a new call of `ticket` (the estimate's replay uses this too)."""
    return replace(counter, priority_streak=counter.priority_streak + 1 if ticket.priority else 0,
                   walk_in_streak=walk_in_streak_after(counter, ticket))
