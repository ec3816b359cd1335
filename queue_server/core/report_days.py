"""A local day's legs from its tickets and events: pure, the store reads the rows and writes the results.

Who served a leg is the officer signed in at its counter when it was called: a counter's `counter.state` events
give that timeline (open sets the officer, a break keeps them, closing clears them).
"""
from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from queue_server.core.report_math import Leg, _data, derive_legs

OfficerAt = Callable[[str | None, int], int | None]


def officer_timeline(state_events: Iterable[tuple]) -> OfficerAt:
    """`state_events`: (counter_id, ts_ms, staff_id, data) of a day's counter.state events in log order.
    Returns who was signed in at a counter at a time."""
    timeline: dict[str, tuple[list[int], list[int | None]]] = {}
    current: dict[str, int | None] = {}
    for cid, ts, staff_id, data in state_events:
        to = _data(data).get("to")
        if to == "open":
            current[cid] = staff_id
        elif to == "closed":
            current[cid] = None
        times, who = timeline.setdefault(cid, ([], []))
        times.append(ts)
        who.append(current.get(cid))

    def at(counter_id: str | None, ms: int) -> int | None:
        if counter_id not in timeline:
            return None
        times, who = timeline[counter_id]
        i = bisect_right(times, ms)
        return who[i - 1] if i else None
    return at


def bare_leg(t: dict, tz: ZoneInfo) -> Leg:
    """The one leg of a ticket with no events (cannot happen; kept so it is counted)."""
    local = datetime.fromtimestamp(t["issued_ms"] / 1000, tz)
    return Leg(ticket_id=t["id"], leg=1, day=t["day"], service_id=t["service_id"], started_by="issued",
               queued_ms=t["issued_ms"], priority=bool(t["priority"]), hour=local.hour, weekday=local.weekday())


def legs_of_day(tickets: dict[int, dict], events: Iterable[tuple], tz: ZoneInfo, officer_at: OfficerAt) -> list[Leg]:
    """`tickets`: id -> {id, day, service_id, priority, staff_id, issued_ms}; `events`: (ticket_id, type, ts_ms,
    counter_id, service_id, staff_id, data) ordered by ticket, then log order."""
    legs: list[Leg] = []
    current, evs = None, []
    for tid, etype, ts, counter_id, service_id, staff_id, data in events:
        if tid != current:
            if current is not None:
                legs.extend(derive_legs(tickets[current], evs, tz, officer_at))
            current, evs = tid, []
        evs.append({"type": etype, "ts_ms": ts, "counter_id": counter_id, "service_id": service_id,
                    "staff_id": staff_id, "data": data if etype in ("ticket.transferred", "ticket.called") else None})
    if current is not None:
        legs.extend(derive_legs(tickets[current], evs, tz, officer_at))
    for tid in set(tickets) - {leg.ticket_id for leg in legs}:
        legs.extend(derive_legs(tickets[tid], [], tz) or [bare_leg(tickets[tid], tz)])
    return legs
