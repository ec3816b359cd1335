"""Report maths, pure (no Flask, no SQLite): a ticket's events become legs, legs and presses become per-day
group sums, and the statistics (average, median, 90th percentile, shares). queue_server/reports.py does the
reading and writing around it; every definition is written in docs/reports.md.

A leg is one stay of a ticket in one queue: it starts when the ticket is issued, or transferred into a queue,
and ends at the next transfer or at its final status. Waiting time is per leg, from that start to the leg's
first call; serving time is per served leg, at the counter, from the start of service (or the call when the
officer never pressed start) to the finish, leaving out time parked.
"""
from __future__ import annotations

import json
import math
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

OPEN_OUTCOMES = ("waiting", "called", "serving", "parked")
OUTCOME_OF = {"ticket.finished": "done", "ticket.no_show": "no_show", "ticket.cancelled": "cancelled",
              "ticket.unserved": "unserved"}


class ReportError(ValueError):
    """A report that cannot be made as asked (bad dates, unknown grouping); the message says which (English;
    `vi` holds the Vietnamese)."""

    def __init__(self, en: str, vi: str | None = None):
        super().__init__(en)
        self.vi = vi or en

    def message(self, lang: str = "vi") -> str:
        return self.vi if lang == "vi" else str(self)


# ================================================================== pure: legs of a ticket
@dataclass
class Leg:
    ticket_id: int
    leg: int
    day: str
    service_id: str
    started_by: str  # issued | transferred
    queued_ms: int
    priority: bool = False
    counter_id: str | None = None
    staff_id: int | None = None
    called_ms: int | None = None
    serve_ms: int | None = None
    end_ms: int | None = None
    outcome: str = "waiting"  # done | no_show | cancelled | unserved | transferred | waiting | called | serving | parked
    recalls: int = 0
    hour: int = 0
    weekday: int = 0
    _served: int = 0
    _segment_from: int | None = None  # start of the current stay at the counter (start, else the call)
    _started: bool = False

    @property
    def wait_ms(self) -> int | None:
        return None if self.called_ms is None else self.called_ms - self.queued_ms

    def row(self) -> tuple:
        return (self.ticket_id, self.leg, self.day, self.service_id, self.counter_id, self.staff_id, int(self.priority),
                self.started_by, self.queued_ms, self.hour, self.weekday, self.called_ms, self.wait_ms, self.serve_ms,
                self.end_ms, self.outcome, self.recalls)


LEG_COLUMNS = ("ticket_id", "leg", "day", "service_id", "counter_id", "staff_id", "priority", "started_by", "queued_ms",
               "hour", "weekday", "called_ms", "wait_ms", "serve_ms", "end_ms", "outcome", "recalls")


def _close_segment(leg: Leg, ts: int) -> None:
    if leg._segment_from is not None:
        leg._served += max(0, ts - leg._segment_from)
        leg._segment_from = None


def derive_legs(ticket: dict, events: Iterable[dict], tz: ZoneInfo,
                officer_at: Callable[[str | None, int], int | None] | None = None) -> list[Leg]:
    """The legs of one ticket from its events in log order.

    `ticket`: id, day, service_id, priority, staff_id, issued_ms (the tickets row). `events`: dicts with type,
    ts_ms, counter_id, service_id, staff_id and data (a dict, or the JSON text of the log). `officer_at(counter,
    ms)`: the officer signed in at a counter at that moment; a leg's officer is the one at the counter that
    called it, else the staff member who pressed the call.
    """
    legs: list[Leg] = []
    cur: Leg | None = None

    def officer(e: dict) -> int | None:
        at = officer_at(e.get("counter_id"), e["ts_ms"]) if officer_at is not None else None
        return at if at is not None else e.get("staff_id")

    def new_leg(service_id: str, started_by: str, ts: int) -> Leg:
        local = datetime.fromtimestamp(ts / 1000, tz)
        leg = Leg(ticket_id=ticket["id"], leg=len(legs) + 1, day=ticket["day"], service_id=service_id,
                  started_by=started_by, queued_ms=ts, priority=bool(ticket["priority"]), hour=local.hour,
                  weekday=local.weekday())
        legs.append(leg)
        return leg

    for e in events:
        etype, ts = e["type"], e["ts_ms"]
        data = e.get("data") or {}
        if etype == "ticket.issued":
            if cur is None:
                cur = new_leg(e.get("service_id") or ticket["service_id"], "issued", ts)
            continue
        if cur is None:  # a ticket whose issue was not logged: start from the row
            first_service = ticket["service_id"]
            if etype == "ticket.transferred":
                first_service = _data(data).get("from_service") or first_service
            cur = new_leg(first_service, "issued", ticket["issued_ms"])
        if etype == "ticket.transferred":
            d = _data(data)
            _close_segment(cur, ts)
            cur.outcome, cur.end_ms = "transferred", ts
            cur = new_leg(d.get("to_service") or e.get("service_id") or cur.service_id, "transferred", ts)
        elif etype == "ticket.called":
            if _is_recall(data):
                cur.recalls += 1
            else:
                if cur.called_ms is None:
                    cur.called_ms, cur.counter_id, cur.staff_id = ts, e.get("counter_id"), officer(e)
                cur._segment_from, cur._started = ts, False
                cur.outcome = "called"
        elif etype == "ticket.resumed":
            if cur.called_ms is None:  # cannot happen (a parked ticket was called), but keep the leg whole
                cur.called_ms, cur.counter_id, cur.staff_id = ts, e.get("counter_id"), officer(e)
            cur._segment_from, cur._started = ts, False
            cur.outcome = "called"
        elif etype == "ticket.started":
            if not cur._started:
                cur._segment_from, cur._started = ts, True
            cur.outcome = "serving"
        elif etype == "ticket.parked":
            _close_segment(cur, ts)
            cur.outcome = "parked"
        elif etype in OUTCOME_OF:
            outcome = OUTCOME_OF[etype]
            if outcome == "done":
                _close_segment(cur, ts)
                cur.serve_ms = cur._served
            cur._segment_from = None
            cur.outcome, cur.end_ms = outcome, ts
    if legs and legs[-1].staff_id is None and legs[-1].called_ms is not None:
        legs[-1].staff_id = ticket.get("staff_id")  # called by a device or the CLI: the officer on the row
    return legs


def _data(data) -> dict:
    if isinstance(data, dict):
        return data
    try:
        out = json.loads(data or "{}")
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _is_recall(data) -> bool:
    if isinstance(data, dict):
        return bool(data.get("recall"))
    return '"recall":true' in (data or "").replace(" ", "")


# ================================================================== pure: statistics and periods
def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (Excel PERCENTILE.INC)."""
    n = len(sorted_values)
    if n == 0:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    pos = (n - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summary(values: Iterable[float]) -> dict:
    """Average, median and 90th percentile of durations in ms, as seconds (None when there are none)."""
    return summary_of_sorted([sorted(values)])


def kth_of_sorted(lists: Sequence[Sequence[int]], k: int) -> int:
    """The k-th smallest (0-based) of the union of sorted lists of whole numbers, without merging them: a binary
    search on the value, counting with bisect in each list."""
    lo = min(x[0] for x in lists if len(x))
    hi = max(x[-1] for x in lists if len(x))
    while lo < hi:
        mid = (lo + hi) // 2
        if sum(bisect_right(x, mid) for x in lists) > k:
            hi = mid
        else:
            lo = mid + 1
    return lo


def percentile_of_sorted(lists: Sequence[Sequence[int]], q: float) -> float | None:
    """`percentile` of the union of sorted lists (the same interpolation), e.g. the whole centre from its groups."""
    n = sum(len(x) for x in lists)
    if n == 0:
        return None
    if len(lists) == 1:
        return percentile(lists[0], q)
    pos = (n - 1) * q / 100
    lo = math.floor(pos)
    a = kth_of_sorted(lists, lo)
    b = kth_of_sorted(lists, min(lo + 1, n - 1)) if pos > lo else a
    return a + (b - a) * (pos - lo)


def summary_of_sorted(lists: Sequence[Sequence[int]]) -> dict:
    """`summary` of the union of sorted lists of ms."""
    n = sum(len(x) for x in lists)
    if n == 0:
        return {"n": 0, "avg_s": None, "median_s": None, "p90_s": None}
    return {"n": n, "avg_s": round(sum(sum(x) for x in lists) / n / 1000, 1),
            "median_s": round(percentile_of_sorted(lists, 50) / 1000, 1),
            "p90_s": round(percentile_of_sorted(lists, 90) / 1000, 1)}


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def period(kind: str, on: date | str) -> tuple[str, str]:
    """(first, last) local day of the day, ISO week (Monday to Sunday) or month containing `on`."""
    d = date.fromisoformat(on) if isinstance(on, str) else on
    if kind == "day":
        return d.isoformat(), d.isoformat()
    if kind == "week":
        start = d - timedelta(days=d.weekday())
        return start.isoformat(), (start + timedelta(days=6)).isoformat()
    if kind == "month":
        start = d.replace(day=1)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return start.isoformat(), (nxt - timedelta(days=1)).isoformat()
    raise ReportError(f"period must be day, week or month, not {kind!r}",
                      f"kỳ báo cáo phải là ngày, tuần hoặc tháng, không phải {kind!r}")


def check_range(day_from: str, day_to: str) -> tuple[str, str]:
    try:
        a, b = date.fromisoformat(day_from), date.fromisoformat(day_to)
    except (TypeError, ValueError):
        raise ReportError(f"dates must be YYYY-MM-DD, got {day_from!r} and {day_to!r}",
                          f"ngày phải viết YYYY-MM-DD, nhận được {day_from!r} và {day_to!r}") from None
    if b < a:
        raise ReportError(f"the range ends ({b}) before it starts ({a})",
                          f"ngày kết thúc ({b:%d/%m/%Y}) trước ngày bắt đầu ({a:%d/%m/%Y})")
    if (b - a).days > 3 * 366:
        raise ReportError("a report covers at most three years", "một báo cáo chỉ bao gồm tối đa ba năm")
    return a.isoformat(), b.isoformat()


# ================================================================== pure: per-day group sums
DIMS = ("service", "counter", "officer", "hour")  # the groupings kept per day; department, day and total merge "service"
RATING_DIMS = ("department", "service", "counter", "officer", "hour")
COUNT_FIELDS = ("tickets", "issued", "transferred_in", "called", "served", "no_show", "transferred", "cancelled",
                "unserved", "active", "within", "missed")
_IX = {k: i for i, k in enumerate(COUNT_FIELDS)}
_OUTCOME_FIELD = {"done": "served", "no_show": "no_show", "transferred": "transferred", "cancelled": "cancelled",
                  "unserved": "unserved"}


@dataclass
class Group:
    """The sums of one group (on one day, or merged over a range): counts, and every waiting and serving time."""

    counts: list = field(default_factory=lambda: [0] * len(COUNT_FIELDS))
    waits: array = field(default_factory=lambda: array("I"))
    serves: array = field(default_factory=lambda: array("I"))

    def add_leg(self, leg: Leg, target_ms: int, now_ms: int) -> None:
        c = self.counts
        c[_IX["tickets"]] += 1
        c[_IX["issued" if leg.started_by == "issued" else "transferred_in"]] += 1
        if leg.called_ms is not None:
            wait = max(0, leg.wait_ms)
            c[_IX["called"]] += 1
            self.waits.append(wait)
            if wait <= target_ms:
                c[_IX["within"]] += 1
        elif (leg.end_ms if leg.end_ms is not None else now_ms) - leg.queued_ms > target_ms:
            c[_IX["missed"]] += 1  # left (or still waiting) without a call, after the target had passed
        if leg.outcome in _OUTCOME_FIELD:
            c[_IX[_OUTCOME_FIELD[leg.outcome]]] += 1
            if leg.outcome == "done" and leg.serve_ms is not None:
                self.serves.append(max(0, leg.serve_ms))
        else:
            c[_IX["active"]] += 1

    def merge(self, counts: Sequence[int], waits: bytes | array | None, serves: bytes | array | None) -> None:
        for i, n in enumerate(counts):
            self.counts[i] += n
        for mine, more in ((self.waits, waits), (self.serves, serves)):
            if isinstance(more, (bytes, memoryview)):
                mine.frombytes(more)
            elif more:
                mine.extend(more)

    def count(self, name: str) -> int:
        return self.counts[_IX[name]]


def dim_key(dim: str, leg: Leg) -> str:
    """A leg's key in a per-day grouping; '' for none (a leg never called has no counter and no officer)."""
    if dim == "service":
        return leg.service_id
    if dim == "counter":
        return leg.counter_id or ""
    if dim == "officer":
        return "" if leg.staff_id is None else str(leg.staff_id)
    return str(leg.hour)


def group_legs(legs: Iterable[Leg], targets_ms: dict[str, int], default_target_ms: int, now_ms: int) -> dict:
    """{(dim, key): Group} for one day, and the arrivals {(weekday, hour): tickets issued} for the heatmap."""
    out: dict = {}
    arrivals: dict = {}
    for leg in legs:
        target = targets_ms.get(leg.service_id, default_target_ms)
        for dim in DIMS:
            g = out.get((dim, dim_key(dim, leg)))
            if g is None:
                g = out[(dim, dim_key(dim, leg))] = Group()
            g.add_leg(leg, target, now_ms)
        if leg.started_by == "issued":
            arrivals[(leg.weekday, leg.hour)] = arrivals.get((leg.weekday, leg.hour), 0) + 1
    return {"groups": out, "arrivals": arrivals}


def is_flagged(flags) -> bool:
    if flags is None:
        return False
    if isinstance(flags, (list, tuple, dict)):
        return bool(flags)
    return str(flags).strip() not in ("", "[]", "{}", "null")


def group_ratings(rows: Iterable[dict], tz: ZoneInfo) -> dict:
    """{(dim, key, level, status, flagged): [presses, tickets]} of one day's presses ('' key: none)."""
    tally: dict = {}
    for r in rows:
        flagged = int(is_flagged(r.get("flags")))
        hour = datetime.fromtimestamp(r["pressed_ms"] / 1000, tz).hour
        keys = {"department": r.get("department_id"), "service": r.get("service_id"), "counter": r.get("counter_id"),
                "officer": r.get("staff_id"), "hour": hour}
        for dim in RATING_DIMS:
            k = (dim, "" if keys[dim] is None else str(keys[dim]), r["level"], r["status"], flagged)
            n, tickets = tally.get(k, (0, set()))
            if r.get("ticket_id") is not None:
                tickets.add(r["ticket_id"])
            tally[k] = (n + 1, tickets)
    return {k: [n, len(t)] for k, (n, t) in tally.items()}


def pack(values: array) -> bytes | None:
    return values.tobytes() if len(values) else None
