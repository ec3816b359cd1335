"""A simulated day at the centre: SimPy's virtual clock (minutes after midnight), the queue's own rules.

Every change of a ticket or counter is an `Outcome` of `queue_server.core.rules` (`set_counter_state`,
`choose_next`, `call`, `start`, `finish`, `no_show`, `transfer`, `cancel`, `close_day`), applied to the day's
rows as the store would write them; nothing here decides whom a counter calls. The wait estimate a kiosk
would show is asked of `queue_server.core.estimate` at each issue, beside the two baselines, and kept with
the ticket's real wait. No sleeping: SimPy jumps from event to event."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from queue_server.core import estimate
from queue_server.core import rules as R
from queue_server.core.rules import Counter, CounterState, Status, Ticket
from queue_server.simulate.params import Params

DAY_MS = 86_400_000
SLOT_MINUTES = 15  # queue length is sampled this often
RECALL_MINUTES = 1.5  # a called ticket nobody answers holds the counter this long
PATIENCE_SIGMA = 0.5
OVERRUN_MINUTES = 30  # a counter keeps calling who is waiting this long after its hours, then closes


@dataclass
class Prediction:
    service: str
    issued_min: float
    state: str
    minutes: float | None
    low: float | None
    high: float | None
    ahead: int | None
    baseline_mean: float  # people ahead in the service × rolling mean ÷ open counters
    baseline_formula: float  # the former formula (median, three tickets before data counts)
    actual: float | None = None  # minutes until first called (None: left or unserved)


@dataclass
class DayResult:
    day: str
    issued: dict[str, int] = field(default_factory=dict)
    waits: dict[str, list[float]] = field(default_factory=dict)  # minutes to first call, per service
    abandoned: dict[str, int] = field(default_factory=dict)
    unserved: dict[str, int] = field(default_factory=dict)
    no_shows: dict[str, int] = field(default_factory=dict)
    transfers: dict[str, int] = field(default_factory=dict)
    queue: dict[str, list[int]] = field(default_factory=dict)  # waiting count at each slot
    busy: dict[str, float] = field(default_factory=dict)  # counter -> minutes serving
    open: dict[str, float] = field(default_factory=dict)  # counter -> minutes open
    predictions: list[Prediction] = field(default_factory=list)
    last_call: dict[str, float] = field(default_factory=dict)  # service -> minute of its last call


def components(p: Params) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """service -> (services, counters) that can change its calling order: linked through shared counters."""
    by_service: dict[str, set[str]] = {s: set() for s in p.services}
    for c in p.counters:
        for s in c.services:
            by_service.setdefault(s, set()).add(c.id)
    plans = {c.id: c for c in p.counters}
    out = {}
    for sid in p.services:
        services, counters, todo = {sid}, set(), [sid]
        while todo:
            for cid in by_service.get(todo.pop(), ()):
                if cid not in counters:
                    counters.add(cid)
                    for s in plans[cid].services:
                        if s not in services:
                            services.add(s)
                            todo.append(s)
        out[sid] = (tuple(sorted(services)), tuple(sorted(counters)))
    return out


class Day:
    def __init__(self, p: Params, seed: int, index: int, day: str, weekday: int,
                 estimate_every: int = 1, comps=None):
        # Arrivals have their own random stream, so a what-if sees the same citizens as the base run.
        self.arrival_rng = np.random.default_rng([seed, index, 0])
        self.rng = np.random.default_rng([seed, index, 1])
        self.p, self.day, self.weekday = p, day, weekday
        self.base_ms = index * DAY_MS
        self.env = simpy.Environment()
        self.every = max(1, estimate_every)
        self.comps = comps or components(p)
        self.tickets: dict[int, Ticket] = {}
        self.waiting: dict[str, dict[int, Ticket]] = {s: {} for s in p.services}
        self.counters = {c.id: Counter(c.id, c.number, c.services, c.policy, c.weights) for c in p.counters}
        self.serving_of: dict[str, list[str]] = {s: [] for s in p.services}
        for c in p.counters:
            for s in c.services:
                self.serving_of.setdefault(s, []).append(c.id)
        self.idle: dict[str, simpy.Event] = {}
        self.opened: dict[str, float] = {}  # counter -> when it opened (while open)
        self.last_call: dict[str, float] = {}  # service -> when its last ticket was called
        self.recent: dict[str, list[int]] = {s: [] for s in p.services}
        self.predicted: dict[int, Prediction] = {}
        self.next_id = 1
        self.r = DayResult(day, **{k: {s: 0 for s in p.services} for k in
                                   ("issued", "abandoned", "unserved", "no_shows", "transfers")})
        self.r.waits = {s: [] for s in p.services}
        self.r.queue = {s: [] for s in p.services}
        self.r.busy = {c.id: 0.0 for c in p.counters}
        self.r.open = {c.id: 0.0 for c in p.counters}

    # ------------------------------------------------------------ applying the core's outcomes
    def now_ms(self) -> int:
        return self.base_ms + int(self.env.now * 60_000)

    def apply(self, out: R.Outcome) -> None:
        for t in out.tickets:
            old = self.tickets.get(t.id)
            if old is not None:
                self.waiting[old.service_id].pop(t.id, None)
            self.tickets[t.id] = t
            if t.status == Status.WAITING:
                self.waiting[t.service_id][t.id] = t
                self.wake(t.service_id)
        for c in out.counters:
            self.counters[c.id] = c

    def wake(self, service_id: str) -> None:
        for cid in self.serving_of.get(service_id, ()):
            ev = self.idle.pop(cid, None)
            if ev is not None and not ev.triggered:
                ev.succeed()

    # ------------------------------------------------------------ arrivals
    def arrivals(self) -> list[tuple[float, str, bool]]:
        p, out = self.p, []
        for s in p.services.values():
            volume = s.daily_volume * p.weekdays[self.weekday]
            for surge in p.surges:
                if surge.service == s.id and self.weekday in surge.weekdays:
                    volume *= surge.factor
            segments, weights = [], []
            for h, w in enumerate(p.hourly):
                for a, b in s.windows:
                    lo, hi = max(a, h * 60), min(b, h * 60 + 60)
                    if w > 0 and hi > lo:
                        segments.append((lo, hi))
                        weights.append(w * (hi - lo))
            if not segments or volume <= 0:
                continue
            rng = self.arrival_rng
            n = int(rng.poisson(volume))
            probs = np.array(weights) / sum(weights)
            picks = rng.choice(len(segments), size=n, p=probs)
            offsets = rng.random(n)
            prio = rng.random(n) < s.priority
            for k, u, pr in zip(picks, offsets, prio):
                lo, hi = segments[k]
                out.append((lo + u * (hi - lo), s.id, bool(pr)))
        out.sort()
        return out

    def arrive(self, plan):
        for at, sid, prio in plan:
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            self.issue(sid, prio)

    def issue(self, sid: str, prio: bool) -> None:
        now = self.now_ms()
        tid = self.next_id
        self.next_id += 1
        t = Ticket(id=tid, day=self.day, service_id=sid, seq_key=sid, seq_index=tid, number=tid, code=str(tid),
                   priority=prio, source="priority" if prio else "walk_in", issued_ms=now, queued_ms=now)
        self.r.issued[sid] += 1
        if tid % self.every == 0:
            self.predicted[tid] = self.predict(t)
        self.apply(R.Outcome(tickets=(t,)))
        patience = float(self.arrival_rng.lognormal(math.log(self.p.patience_minutes), PATIENCE_SIGMA))
        self.env.timeout(patience).callbacks.append(lambda _e, tid=tid: self.leave(tid))

    def leave(self, tid: int) -> None:
        t = self.tickets[tid]
        if t.status == Status.WAITING:
            self.apply(R.cancel(t, self.now_ms()))
            self.r.abandoned[t.service_id] += 1

    # ------------------------------------------------------------ the estimate at issue, and the baselines
    def predict(self, t: Ticket) -> Prediction:
        now = self.now_ms()
        services, counter_ids = self.comps[t.service_id]
        waiting = [x for s in services for x in self.waiting[s].values()]
        counters = [self.counters[c] for c in counter_ids]
        times = {s: estimate.service_time(self.recent[s][-estimate.RECENT_TICKETS:], self.p.services[s].configured_minutes)
                 for s in services}
        busy = {}
        for c in counters:
            cur = self.tickets.get(c.current_ticket_id) if c.current_ticket_id else None
            busy[c.id] = estimate.busy_until(cur, times.get(cur.service_id) if cur else None, now)
        places = estimate.replay(waiting + [t], counters, busy, {s: x.mean for s, x in times.items()}, now,
                                 self.p.max_consecutive_priority, targets=[t.id])
        mine = [c for c in counters if estimate.serves(c, t)]
        open_n = sum(c.state == CounterState.OPEN for c in mine)
        e = estimate.judge(places.get(t.id), open_serving=open_n, on_break=0, sigma=times[t.service_id].sigma)
        same = self.waiting[t.service_id].values()
        ahead = sum(1 for x in same if x.priority or not t.priority)
        recent = self.recent[t.service_id][-estimate.RECENT_TICKETS:]
        mean = (sum(recent) / len(recent) / 60_000) if recent else self.p.services[t.service_id].configured_minutes
        formula = estimate.wait_minutes(ahead, estimate.minutes_per_ticket(recent, self.p.services[t.service_id]
                                                                           .configured_minutes), open_n)
        if e.minutes is not None:  # the unrounded median and range, for the accuracy figures
            spread = math.sqrt(times[t.service_id].sigma ** 2 / max(1, places[t.id].depth) + estimate.MODEL_SIGMA ** 2)
            median = places[t.id].wait_ms / 60_000 * math.exp(-spread ** 2 / 2)
            low, high = median * math.exp(-estimate.RANGE_Z * spread), median * math.exp(estimate.RANGE_Z * spread)
        else:
            median = low = high = None
        return Prediction(t.service_id, self.env.now, e.state, median, low, high, e.ahead,
                          ahead * mean / max(1, open_n), float(formula))

    # ------------------------------------------------------------ counters
    def counter(self, cid: str):
        env, p = self.env, self.p
        plan = next(c for c in p.counters if c.id == cid)
        for start, end in plan.open:
            end = min(end, p.day_end)
            if env.now < start:
                yield env.timeout(start - env.now)
            if env.now >= end:
                continue
            self.apply(R.set_counter_state(self.counters[cid], CounterState.OPEN, None, self.now_ms(), "finish", 1))
            yield from self.shift(cid, end)

    def shift(self, cid: str, end: float):
        """An open counter calls until `end` (and whoever still waits up to OVERRUN_MINUTES after), then closes."""
        env, p = self.env, self.p
        self.opened[cid] = env.now
        while env.now < end + OVERRUN_MINUTES:
            c = self.counters[cid]
            cands = [x for s in c.services for x in self.waiting.get(s, {}).values()]
            t = R.choose_next(c, cands, self.now_ms(), p.max_consecutive_priority)
            if t is None and env.now >= end:
                break  # after its hours a counter serves who is still waiting, then closes
            if t is None:
                ev = self.idle[cid] = env.event()
                yield ev | env.timeout(end - env.now)
                self.idle.pop(cid, None)
                continue
            yield from self.serve(c, t)
        self.r.open[cid] += env.now - self.opened.pop(cid)
        self.apply(R.set_counter_state(self.counters[cid], CounterState.CLOSED, None, self.now_ms(), "finish", None))

    def serve(self, c: Counter, t: Ticket):
        env, s = self.env, self.p.services[t.service_id]
        first = t.transfer_count == 0
        self.apply(R.call(c, t, None, self.now_ms(), "finish", staff_id=1))
        self.last_call[t.service_id] = env.now
        if first:
            wait = env.now - (t.issued_ms - self.base_ms) / 60_000
            self.r.waits[t.service_id].append(wait)
            if t.id in self.predicted:
                self.predicted[t.id].actual = wait
        called = self.tickets[t.id]
        c = self.counters[c.id]
        if self.rng.random() < s.no_show:
            self.r.busy[c.id] += min(RECALL_MINUTES, self.p.day_end - env.now)
            yield env.timeout(RECALL_MINUTES)
            self.apply(R.no_show(self.counters[c.id], called, self.now_ms()))
            self.r.no_shows[t.service_id] += 1
            return
        self.apply(R.start(c, called, self.now_ms()))
        took = float(self.rng.exponential(s.median_minutes) if s.exponential
                     else self.rng.lognormal(math.log(s.median_minutes), s.sigma))
        self.r.busy[c.id] += min(took, self.p.day_end - env.now)  # what falls inside the simulated day
        yield env.timeout(took)
        c, serving = self.counters[c.id], self.tickets[t.id]
        others = [x for x in self.p.services.values() if x.department == s.department and x.id != s.id]
        if others and self.rng.random() < s.transfer:
            to = others[int(self.rng.integers(len(others)))].id
            self.apply(R.transfer(c, serving, self.now_ms(), service_id=to, target=None, go_last=False))
            self.r.transfers[t.service_id] += 1
            return
        self.apply(R.finish(c, serving, self.now_ms()))
        self.recent[t.service_id].append(int(took * 60_000))

    def sample(self):
        while True:
            for s, q in self.waiting.items():
                self.r.queue[s].append(len(q))
            yield self.env.timeout(SLOT_MINUTES)

    # ------------------------------------------------------------ the day
    def run(self) -> DayResult:
        env = self.env
        env.process(self.arrive(self.arrivals()))
        for c in self.p.counters:
            env.process(self.counter(c.id))
        env.process(self.sample())
        env.run(until=self.p.day_end)
        for cid, since in self.opened.items():  # still open when the day ended
            self.r.open[cid] += env.now - since
        left = [t for t in self.tickets.values() if t.status in R.ACTIVE]
        for t in left:
            if t.status == Status.WAITING:
                self.r.unserved[t.service_id] += 1
        self.apply(R.close_day(left, list(self.counters.values()), self.now_ms()))
        self.r.predictions = list(self.predicted.values())
        self.r.last_call = dict(self.last_call)
        return self.r
