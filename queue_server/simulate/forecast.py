"""The rest of today, from the queue as it stands: when each service's queue is likely to empty, which
services' waits will pass their target, and what one more counter on a service would change (issue 14, the
supervisor's forecast). A few simulated runs of `engine.Day` started at the present, median over the runs.

`forecast_from_store(store, runs)` reads the queue (`read_now`) and answers with sentences for the supervisor
page (`answer`); web/forecasting.py makes it every minute in the background and shows it to the supervisors."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from queue_server.core import rules as R
from queue_server.core.rules import CounterState, Ticket
from queue_server.simulate import engine
from queue_server.simulate.params import CounterPlan, Params

PLUS_ONE_DELAY = 15  # minutes: "one more counter" opens this long from now, at the next quarter hour
PLUS_ONE_SERVICES = 3  # the "one more counter" question is asked for at most this many services
PAUSE_EVERY_S = 0.004  # with a `pause`, the simulation yields after about this much CPU time
PRIOR_WEIGHT = 0.1  # the parameters' daily volume counts as this share of a day of today's own arrivals


class ForecastDay(engine.Day):
    """A simulated day that starts now: today's waiting tickets in line, the counters open now keep serving
    (their current ticket first) to the end of their present span, arrivals only from now on."""

    def __init__(self, p: Params, seed: int, now_min: float, base_ms: int, waiting: list[Ticket],
                 open_now: dict[str, Ticket | None], pause=None):
        super().__init__(p, seed, 0, "today", 0, estimate_every=10 ** 9)
        self.env = engine.simpy.Environment(initial_time=now_min)
        self.base_ms, self.open_now = base_ms, open_now
        if pause is not None:
            self.env.process(self.breathe(pause))
        for t in waiting:
            self.tickets[t.id] = t
            self.waiting.setdefault(t.service_id, {})[t.id] = t
        self.next_id = max([t.id for t in waiting] + [c.id for c in open_now.values() if c] + [0]) + 1

    def breathe(self, pause):
        """Every simulated minute, ask to hand the event loop back (`pause`, from `every`)."""
        while True:
            yield self.env.timeout(1)
            pause()

    def arrive(self, plan):
        yield from super().arrive([a for a in plan if a[0] >= self.env.now])

    def counter(self, cid: str):
        env, p = self.env, self.p
        plan = next(c for c in p.counters if c.id == cid)
        spans = [(a, b) for a, b in plan.open if b > env.now]
        if cid in self.open_now:
            current = self.open_now[cid]
            end = next((b for a, b in spans if a <= env.now), env.now)  # outside its hours: serves the overrun
            spans = [(a, b) for a, b in spans if a > env.now]
            self.apply(R.set_counter_state(self.counters[cid], CounterState.OPEN, None, self.now_ms(), "finish", 1))
            if current is not None and current.status in R.AT_COUNTER and current.service_id in p.services:
                self.tickets[current.id] = current
                c = replace(self.counters[cid], current_ticket_id=current.id)
                self.counters[cid] = c
                s = p.services[current.service_id]
                took = float(self.rng.lognormal(engine.math.log(s.median_minutes), s.sigma))
                yield env.timeout(max(0.5, took - (env.now - (current.called_ms - self.base_ms) / 60_000)))
                self.apply(R.finish(self.counters[cid], self.tickets[current.id], self.now_ms()))
            yield from self.shift(cid, end)
        else:  # closed now: it stays closed to the end of its present span, and opens at its next one
            spans = [(a, b) for a, b in spans if a > env.now]
        for start, end in spans:
            if env.now < start:
                yield env.timeout(start - env.now)
            self.apply(R.set_counter_state(self.counters[cid], CounterState.OPEN, None, self.now_ms(), "finish", 1))
            yield from self.shift(cid, min(end, p.day_end))


@dataclass
class ServiceForecast:
    service: str
    empties_at: float | None  # minutes after midnight (median over the runs); None: it does not empty today
    unserved: float  # tickets left at the end of the day (mean over the runs)
    p90_wait: float | None  # minutes, of the tickets called from now on
    over_target: bool
    plus_one_from: float | None = None
    plus_one_empties_at: float | None = None


def every(pause, seconds: float | None = None):
    """`pause` at most once per `seconds` of wall time, however often asked: the server's other work waits at
    most about that long while a forecast is made on its event loop."""
    if pause is None:
        return None
    seconds = PAUSE_EVERY_S if seconds is None else seconds
    last = time.perf_counter()

    def maybe():
        nonlocal last
        if time.perf_counter() - last > seconds:
            pause()
            last = time.perf_counter()
    return maybe


def _runs(p: Params, now_min, base_ms, waiting, open_now, runs, seed, pause=None) -> list[engine.DayResult]:
    out = []
    for k in range(runs):
        day = ForecastDay(p, seed + k, now_min, base_ms, waiting, open_now, pause)
        out.append(day.run())
        if pause is not None:
            pause()
    return out


def _empties(results, sid) -> tuple[float | None, float]:
    unserved = statistics.fmean(r.unserved.get(sid, 0) for r in results)
    if unserved >= 0.5:
        return None, unserved
    times = [r.last_call[sid] for r in results if sid in r.last_call]
    return (statistics.median(times) if times else None), unserved


def forecast(p: Params, now_min: float, base_ms: int, waiting: list[Ticket], open_now: dict[str, Ticket | None],
             *, runs: int = 5, seed: int = 1, plus_one: bool = True, pause=None) -> list[ServiceForecast]:
    if now_min >= p.day_end:
        return []  # the day is over: nobody is called any more
    pause = every(pause)
    results = _runs(p, now_min, base_ms, waiting, open_now, runs, seed, pause)
    first_open = min((a for c in p.counters for a, _ in c.open), default=0)
    start_plus = max((int(now_min + PLUS_ONE_DELAY) // 15 + 1) * 15, first_open)  # not before the centre opens
    out = []
    for sid, s in p.services.items():
        waits = [w for r in results for w in r.waits.get(sid, [])]
        busy = bool(waits) or any(t.service_id == sid for t in waiting)
        if not busy:
            continue
        empties, unserved = _empties(results, sid)
        p90 = float(engine.np.percentile(waits, 90)) if waits else None
        out.append(ServiceForecast(sid, empties, unserved, p90, p90 is not None and p90 > s.target_minutes))
    # One more counter, for the worst few services only (past target or not emptying today), each simulated
    # with just the services and counters linked to it: the rest of the centre does not change its queue.
    worst = sorted((f for f in out if f.over_target or f.empties_at is None),
                   key=lambda f: (-(f.unserved or 0), -(f.p90_wait or 0)))[:PLUS_ONE_SERVICES] if plus_one else []
    comps = engine.components(p)
    for f in worst:
        s = p.services[f.service]
        services, counters = comps[f.service]
        extra = CounterPlan(f"+1-{f.service}", 9999, s.department, (f.service,),
                            open=((start_plus, max(start_plus + 1, p.day_end - 30)),))
        part = replace(p, services={k: v for k, v in p.services.items() if k in services},
                       counters=tuple(c for c in p.counters if c.id in counters) + (extra,))
        mine = [t for t in waiting if t.service_id in services]
        now = {cid: t for cid, t in open_now.items() if cid in counters}
        f.plus_one_from, (f.plus_one_empties_at, _) = start_plus, _empties(
            _runs(part, now_min, base_ms, mine, now, runs, seed, pause), f.service)
    return out


def hhmm(minutes: float | None) -> str:
    if minutes is None:
        return "–"
    m = int(round(minutes))
    return f"{m // 60:02d}:{m % 60:02d}"


def sentences(f: ServiceForecast, name: str, target: float) -> dict[str, list[str]]:
    """What the supervisor reads, in Vietnamese and English."""
    vi, en = [], []
    if f.empties_at is not None:
        vi.append(f"Hàng đợi {name} dự kiến hết lúc {hhmm(f.empties_at)}")
        en.append(f"The {name} queue should empty at {hhmm(f.empties_at)}")
    else:
        vi.append(f"Hàng đợi {name} dự kiến không hết trong hôm nay (còn khoảng {f.unserved:.0f} số)")
        en.append(f"The {name} queue will not empty today (about {f.unserved:.0f} tickets left)")
    if f.over_target:
        vi.append(f"{name}: thời gian chờ sẽ vượt mục tiêu {target:g} phút")
        en.append(f"{name}: waits will pass the {target:g} min target")
    if f.plus_one_from is not None:
        then = hhmm(f.plus_one_empties_at) if f.plus_one_empties_at is not None else "vẫn không hết"
        vi.append(f"+1 quầy từ {hhmm(f.plus_one_from)}: hết lúc {then}")
        en.append(f"+1 counter from {hhmm(f.plus_one_from)}: empties at "
                  f"{hhmm(f.plus_one_empties_at) if f.plus_one_empties_at is not None else 'not today'}")
    return {"vi": vi, "en": en}


@dataclass(frozen=True)
class QueueNow:
    """What the forecast starts from, read from the store in one go (cheap: a few queries)."""
    now_min: float  # minutes after local midnight
    base_ms: int  # local midnight, UTC ms
    waiting: list[Ticket]
    open_now: dict[str, Ticket | None]
    names: dict[str, tuple[str, str]]  # service id -> (Vietnamese name, English name)
    at: str  # local HH:MM of the reading
    weekday: int = 0  # Monday 0
    issued: dict[str, int] | None = None  # service id -> tickets issued today so far; None: demand as in the params
    working_day: bool = True  # False: a weekend or holiday, no arrivals beyond today's own


def share_before(p: Params, s, now_min: float) -> float:
    """The share of a service's day of arrivals (hourly profile within its issuing windows) that comes before now."""
    before = total = 0.0
    for h, w in enumerate(p.hourly):
        for a, b in s.windows:
            lo, hi = max(a, h * 60), min(b, h * 60 + 60)
            if w > 0 and hi > lo:
                total += w * (hi - lo)
                before += w * max(0.0, min(hi, now_min) - lo)
    return before / total if total else 1.0


def todays_demand(p: Params, issued: dict[str, int], now_min: float, weekday: int, working_day: bool = True) -> Params:
    """Arrivals for the rest of today from today's own: a service's day is what it issued so far over the share
    of its day that has passed, the parameters' figure (for this weekday) weighing PRIOR_WEIGHT of a day. A quiet
    day stays quiet and a surge goes on; early in the morning the parameters speak."""
    services = {}
    for sid, s in p.services.items():
        prior = s.daily_volume * p.weekdays[weekday] if working_day else 0.0
        share = share_before(p, s, now_min)
        services[sid] = replace(s, daily_volume=(issued.get(sid, 0) + PRIOR_WEIGHT * prior) / (share + PRIOR_WEIGHT))
    return replace(p, services=services, weekdays=(1.0,) * 7, surges=())


def read_now(store) -> QueueNow:
    """Today's queue as the store holds it now: waiting tickets, open counters and their current tickets."""
    from queue_server.store import queue_reads

    local = store.local_now()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    waiting, counters, at_counter = queue_reads.estimate_inputs(store)
    # a counter on a break is back soon: it counts as open (closed ones wait for their next span)
    open_now = {c.id: at_counter.get(c.id) for c in counters if c.state in (CounterState.OPEN, CounterState.BREAK)}
    names = {sid: (svc.name, svc.name_en or svc.name) for sid, (_, svc) in store.config.services().items()}
    issued = {sid: st.issued_today for sid, st in store.service_statuses().items()}
    hours = store.config.hours
    working = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()] in hours.weekdays \
        and local.date() not in hours.holidays
    return QueueNow((local - midnight) / timedelta(minutes=1), int(midnight.timestamp() * 1000), waiting, open_now,
                    names, local.strftime("%H:%M"), local.weekday(), issued, working)


def answer(p: Params, q: QueueNow, *, runs: int = 5, seed: int = 1, pause=None) -> list[dict]:
    """The forecast of `q` as the supervisor reads it, one dict per busy service: CPU work only, no store, so
    it may run in a thread of its own."""
    known = [t for t in q.waiting if t.service_id in p.services]
    if q.issued is not None:
        p = todays_demand(p, q.issued, q.now_min, q.weekday, q.working_day)
    out = []
    for f in forecast(p, q.now_min, q.base_ms, known, q.open_now, runs=runs, seed=seed, pause=pause):
        target = p.services[f.service].target_minutes
        vi, en = q.names.get(f.service, (f.service, f.service))
        out.append({"service": f.service, "empties_at": hhmm(f.empties_at) if f.empties_at is not None else None,
                    "unserved": round(f.unserved, 1), "p90_wait": f.p90_wait, "over_target": f.over_target,
                    "plus_one_from": hhmm(f.plus_one_from) if f.plus_one_from is not None else None,
                    "plus_one_empties_at": hhmm(f.plus_one_empties_at) if f.plus_one_empties_at is not None else None,
                    "text": {"vi": sentences(f, vi, target)["vi"], "en": sentences(f, en, target)["en"]},
                    "as_of": q.at})
    return out


def forecast_from_store(store, p: Params, *, runs: int = 5, seed: int = 1) -> list[dict]:
    """The forecast of today from the store's queue (`p`: the simulator's parameters, e.g. params.from_config
    or a calibration). Counters open now keep serving; closed ones open at their next span."""
    return answer(p, read_now(store), runs=runs, seed=seed)
