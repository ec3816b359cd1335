"""The wait estimate a citizen is shown (kiosk before issuing, slip, status page, counter): pure, no I/O.

How it is made (docs/rules.md, "The wait estimate"):

1. Each service's time per ticket (`service_time`): the median and the spread, on a log scale, of its recent
   call-to-finish times, drawn towards the configured services[].avg_service_minutes by a prior worth
   `PRIOR_TICKETS` tickets, so a few odd tickets early in the day do not swing the figure.
2. The calling order (`replay`): the open counters (and those on a break, back after `BREAK_RETURN_MINUTES`)
   call the waiting tickets one after the other with the queue's own rule, `rules.choose_next` (policies fifo,
   order and weighted, priority and its streak, tickets sent to one counter), each counter busy for the
   service's mean time per ticket. The wait of a ticket is when a counter calls it; the people ahead are the
   calls made before it by the counters that serve it.
3. The answer (`judge`): a median and an 80 % range, or an honest state: no counter open (and when one opens,
   if known), closed for the day, "you are next".

`minutes_per_ticket` and `wait_minutes` are the former formula (people ahead × median ÷ open counters), kept as
a baseline the simulator measures the estimate against."""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from queue_server.core.booked_order import after_call
from queue_server.core.rules import Counter, CounterState, Ticket, choose_next

RECENT_TICKETS = 20  # how many of the service's last served tickets the figures are taken over
LEAST_TICKETS = 3  # fewer served today: the configured average is used (the former formula)
BOUNDS_MINUTES = (0.5, 480.0)  # a time outside is clipped (a ticket finished by mistake at once, or left all day)
PRIOR_TICKETS = 5  # the configured average counts as this many served tickets
PRIOR_SIGMA = 0.5  # spread (log scale) of one ticket's service time until the data says otherwise
MODEL_SIGMA = 0.2  # spread (log scale) of what the replay cannot know: new priority tickets, no-shows, breaks
BREAK_RETURN_MINUTES = 15  # a counter on a break is taken to call again after this long
RANGE_Z = 1.2816  # the range holds 80 % of a lognormal wait
MARKER_ID = 10**12  # ids of the "new ticket" markers the replay places at the end of each queue


# ---------------------------------------------------------------- the former formula (a baseline)
def minutes_per_ticket(recent_service_ms: list[int], configured_minutes: float, least: int = LEAST_TICKETS) -> float:
    """Minutes one ticket takes: the median of the recent call-to-finish times, else the configured average."""
    if len(recent_service_ms) < least:
        return configured_minutes
    rows = sorted(recent_service_ms)
    mid = len(rows) // 2
    median_ms = rows[mid] if len(rows) % 2 else (rows[mid - 1] + rows[mid]) / 2
    low, high = BOUNDS_MINUTES
    return min(high, max(low, median_ms / 60_000))


def wait_minutes(ahead: int | None, per_ticket_minutes: float, open_counters: int) -> int | None:
    """Whole minutes until a ticket with `ahead` people before it is called (None: it is not waiting)."""
    if ahead is None:
        return None
    return round(ahead * per_ticket_minutes / max(1, open_counters))


# ---------------------------------------------------------------- 1. a service's time per ticket
@dataclass(frozen=True)
class ServiceTime:
    median: float  # minutes
    sigma: float  # spread of log(minutes)
    served: int  # how many recent tickets it rests on (0: the configured figure alone)

    @property
    def mean(self) -> float:
        """Minutes per ticket on average: what a row of tickets adds up to (a lognormal's mean)."""
        return self.median * math.exp(self.sigma ** 2 / 2)


def _median(xs: Sequence[float]) -> float:
    rows = sorted(xs)
    mid = len(rows) // 2
    return rows[mid] if len(rows) % 2 else (rows[mid - 1] + rows[mid]) / 2


def service_time(recent_service_ms: Iterable[int], configured_minutes: float) -> ServiceTime:
    """Robust figures from the recent call-to-finish times: median and MAD of the logs, each drawn towards the
    configured average (and `PRIOR_SIGMA`) in proportion PRIOR_TICKETS : served."""
    low, high = BOUNDS_MINUTES
    logs = [math.log(min(high, max(low, ms / 60_000))) for ms in recent_service_ms]
    n = len(logs)
    prior = math.log(min(high, max(low, configured_minutes)))
    if n == 0:
        return ServiceTime(math.exp(prior), PRIOR_SIGMA, 0)
    centre = _median(logs)
    mad = 1.4826 * _median([abs(x - centre) for x in logs]) if n >= 3 else PRIOR_SIGMA
    w = n / (n + PRIOR_TICKETS)
    return ServiceTime(math.exp(w * centre + (1 - w) * prior),
                       math.sqrt(w * mad ** 2 + (1 - w) * PRIOR_SIGMA ** 2), n)


# ---------------------------------------------------------------- 2. the calling order
@dataclass(frozen=True)
class Place:
    """Where the replay puts a ticket: when it is called, who is called first by the counters serving it,
    and how many tickets the calling counter serves before it (the range narrows with more)."""

    wait_ms: int
    ahead: int
    depth: int
    counter_id: str


def serves(counter: Counter, ticket: Ticket) -> bool:
    """The counter may call this ticket (its service, or sent to it by name)."""
    if ticket.target_counter_id is not None:
        return ticket.target_counter_id == counter.id
    return ticket.service_id in counter.services


def marker(service_id: str, now_ms: int, index: int = 0, priority: bool = False) -> Ticket:
    """A ticket not issued yet, at the end of its service's queue: what the kiosk shows before issuing."""
    return Ticket(id=MARKER_ID + index, day="", service_id=service_id, seq_key="", seq_index=0, number=0, code="",
                  priority=priority, issued_ms=now_ms, queued_ms=now_ms)


def replay(waiting: Sequence[Ticket], counters: Sequence[Counter], busy_until: Mapping[str, int],
           minutes: Mapping[str, float], now_ms: int, max_consecutive_priority: int,
           targets: Iterable[int] | None = None, markers: Sequence[Ticket] = (),
           walk_ins_per_booked: int = 0) -> dict[int, Place]:
    """Play the calling order forward from now. Open counters start when their current ticket is done
    (`busy_until`, ms; else now), counters on a break after BREAK_RETURN_MINUTES, closed counters not at all.
    Each call is `rules.choose_next` (booked tickets interleaved by `walk_ins_per_booked`, due at their slot's
    start in the replay's own time); a real ticket keeps its counter busy for `minutes[service]` (the mean),
    a marker for no time (it stands for one ticket more, so it delays nobody). Returns the place of every
    ticket in `targets` (None: every waiting ticket) and of every marker reached."""
    pool = list(waiting) + list(markers)
    want = {t.id for t in pool} if targets is None else set(targets) | {m.id for m in markers}
    by_id = {t.id: t for t in pool}
    # Each counter looks only at its own services' lines and the tickets sent to it (choose_next still decides).
    lines: dict[str, list[Ticket]] = {}
    for t in pool:
        lines.setdefault(f"@{t.target_counter_id}" if t.target_counter_id else t.service_id, []).append(t)
    live = {c.id: c for c in counters if c.state != CounterState.CLOSED}
    heap: list[tuple[int, int, str]] = []
    for c in live.values():
        start = busy_until.get(c.id, now_ms)
        if c.state == CounterState.BREAK:
            start = max(start, now_ms + BREAK_RETURN_MINUTES * 60_000)
        heap.append((max(now_ms, start), c.number, c.id))
    heapq.heapify(heap)
    calls = {cid: 0 for cid in live}
    depth = dict.fromkeys(live, 0)
    out: dict[int, Place] = {}
    pending = {tid for tid in want if tid in by_id}
    while heap and pending:
        at, number, cid = heapq.heappop(heap)
        counter = live[cid]
        mine = [t for key in (f"@{cid}", *counter.services) for t in lines.get(key, ())]
        choice = choose_next(counter, mine, at, max_consecutive_priority, walk_ins_per_booked)
        if choice is None:
            continue  # nothing more for this counter: it calls no one else in the replay
        lines[f"@{choice.target_counter_id}" if choice.target_counter_id else choice.service_id].remove(choice)
        if choice.id in pending:
            pending.discard(choice.id)
            ahead = sum(n for k, n in calls.items() if serves(live[k], choice))
            out[choice.id] = Place(at - now_ms, ahead, depth[cid], cid)
        if choice.id is not None and choice.id >= MARKER_ID:
            heapq.heappush(heap, (at, number, cid))
            continue
        calls[cid] += 1
        depth[cid] += 1
        live[cid] = after_call(counter, choice)  # the streaks, as a real call moves them
        took = minutes.get(choice.service_id, 10.0)
        heapq.heappush(heap, (at + int(took * 60_000), number, cid))
    return out


def busy_until(current: Ticket | None, time: ServiceTime | None, now_ms: int) -> int:
    """When a counter's current ticket is likely done: its mean time after the call, and at least a fifth of
    it from now when it has already taken longer."""
    if current is None or current.called_ms is None or time is None:
        return now_ms
    took = time.mean * 60_000
    return int(max(current.called_ms + took, now_ms + 0.2 * took))


# ---------------------------------------------------------------- 3. the answer
@dataclass(frozen=True)
class Estimate:
    state: str  # estimate | next | no_counter | closed_today | not_waiting
    ahead: int | None = None
    minutes: int | None = None  # the median
    low: int | None = None  # an 80 % range
    high: int | None = None
    opens_at: str | None = None  # no_counter: when a counter is expected ("HH:MM", or "YYYY-MM-DD HH:MM")
    on_break: int = 0  # counters serving it on a break, when none is open (the wait counts on their return)

    def as_dict(self) -> dict:
        return {"state": self.state, "ahead": self.ahead, "minutes": self.minutes, "low": self.low,
                "high": self.high, "opens_at": self.opens_at, "on_break": self.on_break}


def wait_range(median_min: float, sigma: float) -> tuple[int, int]:
    """The 80 % range around a median, in shown minutes: whole minutes below 10, else to five minutes (a low end
    under 5 stays in whole minutes: "khoảng 4–20 phút", not "0–20")."""
    lo, hi = median_min * math.exp(-RANGE_Z * sigma), median_min * math.exp(RANGE_Z * sigma)
    if hi < 10:
        return max(0, math.floor(lo)), max(1, math.ceil(hi))
    low, high = (5 * math.floor(lo / 5) if lo >= 5 else math.floor(lo)), 5 * math.ceil(hi / 5)
    return low, max(high, low + 5)


def judge(place: Place | None, *, open_serving: int, on_break: int, sigma: float, opens_at: str | None = None,
          day_over: bool = False) -> Estimate:
    """The estimate shown for one ticket (or one ticket more of a service) from its place in the replay.

    `open_serving`/`on_break`: counters serving it that are open / on a break now; `sigma`: the spread of one
    ticket's time; `opens_at`: when the service opens again, if known; `day_over`: no more serving today."""
    if open_serving == 0 and (on_break == 0 or place is None):
        if day_over:
            return Estimate("closed_today", opens_at=opens_at)
        return Estimate("no_counter", opens_at=opens_at, on_break=on_break)
    if place is None:  # an open counter serves it, but never reaches it in the replay (should not happen)
        return Estimate("no_counter", opens_at=opens_at, on_break=on_break)
    spread = math.sqrt(sigma ** 2 / max(1, place.depth) + MODEL_SIGMA ** 2)
    mean = place.wait_ms / 60_000
    median = mean * math.exp(-spread ** 2 / 2)
    low, high = wait_range(median, spread)
    state = "next" if place.ahead == 0 else "estimate"
    return Estimate(state, ahead=place.ahead, minutes=round(median), low=low, high=high,
                    on_break=on_break if open_serving == 0 else 0)


TEXTS = {
    "vi": {"estimate": "Thời gian chờ dự kiến: khoảng {low}–{high} phút",
           "next": "Số tiếp theo được gọi là của công dân", "next_wait": "Số tiếp theo được gọi là của công dân (khoảng {high} phút)",
           "no_counter": "Chưa có quầy nào mở cho dịch vụ này", "opens": "Chưa có quầy nào mở cho dịch vụ này — dự kiến mở lúc {at}",
           "closed_today": "Đã hết giờ phục vụ hôm nay", "break": " (quầy đang nghỉ giải lao)"},
    "en": {"estimate": "Estimated wait: about {low}–{high} min",
           "next": "You are next", "next_wait": "You are next (about {high} min)",
           "no_counter": "No counter is open for this service now",
           "opens": "No counter is open for this service now — expected to open at {at}",
           "closed_today": "Service is over for today", "break": " (counters on a break)"},
}


SHORT = {
    "vi": {"estimate": "Chờ khoảng {low}–{high} phút", "next": "Gần như không phải chờ",
           "no_counter": "Chưa có quầy nào mở", "opens": "Quầy mở lúc {at}", "closed_today": "Hết giờ phục vụ hôm nay"},
    "en": {"estimate": "About {low}–{high} min wait", "next": "Almost no wait",
           "no_counter": "No counter open now", "opens": "Counter opens at {at}", "closed_today": "Service over for today"},
}


def wait_short(e: Estimate, lang: str = "vi") -> str:
    """The estimate in a few words, for a service button ("" when there is nothing to say)."""
    words = SHORT.get(lang, SHORT["vi"])
    if e.state == "estimate":
        return words["estimate"].format(low=e.low, high=e.high)
    if e.state == "next":
        return words["next"] if not e.high or e.high < 3 else words["estimate"].format(low=e.low, high=e.high)
    if e.state == "no_counter":
        return words["opens"].format(at=e.opens_at) if e.opens_at else words["no_counter"]
    return words.get(e.state, "")


def wait_text(e: Estimate, lang: str = "vi") -> str:
    """The one honest sentence for an estimate, in Vietnamese or English ("" when the ticket is not waiting)."""
    words = TEXTS.get(lang, TEXTS["vi"])
    if e.state == "estimate":
        out = words["estimate"].format(low=e.low, high=e.high)
    elif e.state == "next":
        out = words["next_wait"].format(high=e.high) if e.high and e.high >= 3 else words["next"]
    elif e.state == "no_counter":
        return words["opens"].format(at=e.opens_at) if e.opens_at else words["no_counter"]
    elif e.state == "closed_today":
        return words["closed_today"]
    else:
        return ""
    return out + (words["break"] if e.on_break else "")
