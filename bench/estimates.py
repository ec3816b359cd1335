"""The wait estimate against real waits, and the simulator's speed (docs/simulator.md, docs/benchmarks.md).

(a) `estimates`: 20 simulated working days of the demo centre (config.yaml) at a busy 1,100 tickets a day,
    every ticket's estimate at issue beside its real wait to the first call: MAE, median absolute error,
    share within ±5 min and within ±25 %, how often the 80 % range held the wait, share too short; overall
    and per service; for the estimate and the two baselines (people ahead × rolling mean ÷ open counters, and
    the former formula). Then the same days with one land counter closing at 10:00.
(b) `simulate_year`: 250 working days of the demo centre at the founding centre's 275 tickets a day, every
    ticket estimated, timed (target: under 60 s).
(c) `floor`: how close ANY estimate could come on waits over 30 minutes in this model. The same citizens
    (arrivals, services, patience: the arrival stream) are served again FLOOR_REPLAYS times with other service
    times, no-shows and transfers (the service stream). For each ticket of the first run, the median of its
    waits in the other runs is the best guess one could make knowing every arrival of the day, even those
    still to come; its error against the first run's wait is the floor the estimate is measured against.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from queue_server.config import load_config
from queue_server.simulate import engine as Eng
from queue_server.simulate import params as P
from queue_server.simulate import run as R

ROOT = Path(__file__).resolve().parent.parent
BUSY_DAILY = 1100
FLOOR_DAYS, FLOOR_REPLAYS = 10, 17


def _flat(prefix: str, acc: dict) -> dict:
    out = {}
    for who, figures in acc.items():
        for k, v in figures.items():
            out[f"{prefix}{who}.{k}"] = v
    return out


def run(seconds: float = 3.0, days: int = 20) -> dict:
    config = load_config(ROOT / "config.yaml")
    base = P.from_config(config, BUSY_DAILY)
    land = [c for c in base.counters if c.services == ("dat_dai",)]
    closing = P.with_counters(base, {land[0].id: ((450, 600),)})
    figures: dict = {"days": days, "tickets_per_day": BUSY_DAILY}
    for name, plan in (("", base), ("closes_10h.", closing)):
        t0 = time.perf_counter()
        preds = [x for d in R.simulate(plan, P.Options(days=days, seed=1)) for x in d.predictions]
        figures[f"{name}seconds"] = time.perf_counter() - t0
        table = R.accuracy_table(preds, list(plan.services))
        figures.update(_flat(name, table["overall"]))
        states = R.honest_states(preds)
        figures.update({f"{name}states.{k}": v for k, v in sorted(states.items())})
        if not name:
            for sid in ("dat_dai", "can_cuoc", "gplx"):
                if sid in table:
                    figures.update(_flat(f"{sid}.", {"estimate": table[sid]["estimate"],
                                                     "baseline_mean": table[sid]["baseline_mean"]}))
    figures.update(floor(base))
    t0, cpu0 = time.perf_counter(), time.process_time()
    year = R.simulate(P.from_config(config), P.Options(days=250, seed=1))
    figures["year.seconds"] = time.perf_counter() - t0
    figures["year.cpu_seconds"] = time.process_time() - cpu0  # steadier than the wall time on a shared machine
    figures["year.tickets"] = sum(sum(d.issued.values()) for d in year)
    figures["year.estimates"] = sum(len(d.predictions) for d in year)
    return {k: (float(v) if hasattr(v, "__float__") and not isinstance(v, (int, bool)) else v) for k, v in figures.items()}


def floor(plan, days: int = FLOOR_DAYS, replays: int = FLOOR_REPLAYS, seed: int = 1) -> dict:
    """(c) above: the estimate's mean error ÷ wait on waits over 30 minutes beside the floor's, over the same
    tickets (called in the first run and in at least half of the others)."""
    comps = R.components(plan)
    est, best = [], []
    for i, (day, weekday) in enumerate(R.working_days(plan, P.Options().first_day, days)):
        runs = []
        for r in range(replays + 1):
            d = Eng.Day(plan, seed, i, day, weekday, 1, comps)
            if r:
                d.rng = np.random.default_rng([seed, i, 1, r])  # other service times; the same citizens
            runs.append(d.run().predictions)
        first = runs[0]
        for k, x in enumerate(first):
            if x.actual is None or x.minutes is None or x.actual <= 30:
                continue
            others = [run[k].actual for run in runs[1:] if k < len(run) and run[k].actual is not None]
            if len(others) * 2 < replays:
                continue
            est.append(abs(x.minutes - x.actual) / x.actual)
            best.append(abs(statistics.median(others) - x.actual) / x.actual)
    return {"floor.days": days, "floor.replays": replays, "floor.tickets_over_30": len(est),
            "floor.estimate_rel_mae_over_30": statistics.fmean(est) if est else None,
            "floor.best_possible_rel_mae_over_30": statistics.fmean(best) if best else None}
