"""The wait estimate against real waits, and the simulator's speed (docs/simulator.md, docs/benchmarks.md).

(a) `estimates`: 20 simulated working days of the demo centre (config.yaml) at a busy 1,100 tickets a day,
    every ticket's estimate at issue beside its real wait to the first call: MAE, median absolute error,
    share within ±5 min and within ±25 %, how often the 80 % range held the wait, share too short; overall
    and per service; for the estimate and the two baselines (people ahead × rolling mean ÷ open counters, and
    the former formula). Then the same days with one land counter closing at 10:00.
(b) `simulate_year`: 250 working days of the demo centre at the founding centre's 275 tickets a day, every
    ticket estimated, timed (target: under 60 s).
"""
from __future__ import annotations

import time
from pathlib import Path

from queue_server.config import load_config
from queue_server.simulate import params as P
from queue_server.simulate import run as R

ROOT = Path(__file__).resolve().parent.parent
BUSY_DAILY = 1100


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
    t0, cpu0 = time.perf_counter(), time.process_time()
    year = R.simulate(P.from_config(config), P.Options(days=250, seed=1))
    figures["year.seconds"] = time.perf_counter() - t0
    figures["year.cpu_seconds"] = time.process_time() - cpu0  # steadier than the wall time on a shared machine
    figures["year.tickets"] = sum(sum(d.issued.values()) for d in year)
    figures["year.estimates"] = sum(len(d.predictions) for d in year)
    return {k: (float(v) if hasattr(v, "__float__") and not isinstance(v, (int, bool)) else v) for k, v in figures.items()}
