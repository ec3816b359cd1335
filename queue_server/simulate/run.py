"""Run simulated days and add them up: per service waits, share within target, abandonment, queue length;
per counter utilisation; the estimate's accuracy against its two baselines (docs/simulator.md)."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from queue_server.simulate.engine import SLOT_MINUTES, Day, DayResult, Prediction, components
from queue_server.simulate.params import Options, Params


def working_days(p: Params, first: str, n: int) -> list[tuple[str, int]]:
    d, out = date.fromisoformat(first), []
    while len(out) < n:
        if d.weekday() in p.working_days:
            out.append((d.isoformat(), d.weekday()))
        d += timedelta(days=1)
    return out


def simulate(p: Params, opts: Options, progress=None) -> list[DayResult]:
    """`opts.days` working days from `opts.first_day`; the same seed gives the same days."""
    comps = components(p)
    out = []
    for i, (day, weekday) in enumerate(working_days(p, opts.first_day, opts.days)):
        out.append(Day(p, opts.seed, i, day, weekday, opts.estimate_every, comps).run())
        if progress is not None:
            progress(i + 1)
    return out


def pct(xs: list[float], q: float) -> float | None:
    return float(np.percentile(xs, q)) if xs else None


@dataclass
class ServiceRow:
    service: str
    department: str
    issued: int
    served: int
    p50: float | None
    p90: float | None
    within_target: float | None
    abandoned: float
    unserved: int
    mean_queue: float
    peak_queue: float
    queue_by_slot: list[float]


def service_rows(p: Params, days: list[DayResult]) -> list[ServiceRow]:
    rows = []
    for sid, s in p.services.items():
        waits = [w for d in days for w in d.waits[sid]]
        issued = sum(d.issued[sid] for d in days)
        slots = np.array([d.queue[sid] for d in days if d.queue[sid]], dtype=float)
        by_slot = slots.mean(axis=0).tolist() if len(slots) else []
        rows.append(ServiceRow(
            sid, s.department, issued, len(waits), pct(waits, 50), pct(waits, 90),
            (sum(w <= s.target_minutes for w in waits) / len(waits)) if waits else None,
            (sum(d.abandoned[sid] for d in days) / issued) if issued else 0.0,
            sum(d.unserved[sid] for d in days),
            float(np.mean(by_slot)) if by_slot else 0.0, max(by_slot) if by_slot else 0.0, by_slot))
    return rows


def counter_rows(p: Params, days: list[DayResult]) -> list[dict]:
    out = []
    for c in p.counters:
        busy = sum(d.busy[c.id] for d in days)
        opened = sum(d.open[c.id] for d in days)
        out.append({"counter": c.id, "number": c.number, "department": c.department,
                    "open_hours": opened / 60, "utilisation": busy / opened if opened else None})
    return out


TOLERANCE = 1.0  # minutes: closer than this counts as right (within 25 %) and never as too short


def accuracy(preds: list[Prediction], field: str = "minutes") -> dict:
    """How close `field` (the estimate's median, or a baseline) came to the real waits, over the tickets the
    estimate gave minutes for and that were called."""
    rows = [(getattr(x, field), x.actual, x) for x in preds
            if x.actual is not None and x.minutes is not None and getattr(x, field) is not None]
    if not rows:
        return {"n": 0}
    err = [abs(e - a) for e, a, _ in rows]
    short_wait = [abs(e - a) for e, a, _ in rows if a <= 30]
    long_rel = [abs(e - a) / a for e, a, _ in rows if a > 30]
    out = {"n": len(rows), "mae": statistics.fmean(err), "median_ae": float(statistics.median(err)),
           "within_5min": sum(x <= 5 for x in err) / len(err),
           "within_25pct": sum(abs(e - a) <= max(0.25 * a, TOLERANCE) for e, a, _ in rows) / len(rows),
           "too_short": sum(e < a - TOLERANCE for e, a, _ in rows) / len(rows),
           "mae_upto_30": statistics.fmean(short_wait) if short_wait else None,
           "rel_mae_over_30": statistics.fmean(long_rel) if long_rel else None}
    if field == "minutes":
        out["range_holds"] = sum(x.low - TOLERANCE <= a <= x.high + TOLERANCE for _, a, x in rows) / len(rows)
    return out


def honest_states(preds: list[Prediction]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in preds:
        out[x.state] = out.get(x.state, 0) + 1
    return out


def accuracy_table(preds: list[Prediction], services: list[str]) -> dict:
    """Overall and per service: the estimate, and the two baselines, on the same tickets."""
    out = {"overall": {"estimate": accuracy(preds), "baseline_mean": accuracy(preds, "baseline_mean"),
                       "baseline_formula": accuracy(preds, "baseline_formula")}}
    for sid in services:
        mine = [x for x in preds if x.service == sid]
        if mine:
            out[sid] = {"estimate": accuracy(mine), "baseline_mean": accuracy(mine, "baseline_mean"),
                        "baseline_formula": accuracy(mine, "baseline_formula")}
    return out


def slot_label(i: int) -> str:
    m = i * SLOT_MINUTES
    return f"{m // 60:02d}:{m % 60:02d}"


def finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))
