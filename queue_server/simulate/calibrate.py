"""`qms calibrate`: fit the simulator's parameters from the centre's own ticket history (docs/simulator.md)."""
from __future__ import annotations

import math
import statistics
from collections import Counter as Tally
from datetime import date, datetime


def fit(history: list[dict], tz, least: int = 5) -> dict:
    """Per service: tickets on an average working day, lognormal service time (median and spread of the log,
    robust: median and 1.4826 × MAD, from call to finish of served tickets), shares of no-shows, transfers and
    priority. Across services: the share of arrivals in each hour and each weekday's volume against the mean
    (None for a weekday the history has no day of).
    A service with fewer than `least` served tickets keeps its configured service time (no figure is written)."""
    days = sorted({r["day"] for r in history})
    if not days:
        return {"days": 0, "services": {}}
    per_service: dict[str, list[dict]] = {}
    for r in history:
        per_service.setdefault(r["service_id"], []).append(r)
    services = {}
    for sid, rows in sorted(per_service.items()):
        took = [(r["finished_ms"] - r["called_ms"]) / 60_000 for r in rows
                if r["status"] == "done" and r["called_ms"] is not None and r["finished_ms"] is not None
                and r["finished_ms"] > r["called_ms"]]
        called = [r for r in rows if r["called_ms"] is not None]
        row = {"daily_volume": round(len(rows) / len(days), 2),
               "no_show": round(sum(r["status"] == "no_show" for r in rows) / len(called), 4) if called else None,
               "transfer": round(sum(r["transfer_count"] > 0 for r in rows) / len(rows), 4),
               "priority": round(sum(bool(r["priority"]) for r in rows) / len(rows), 4), "served": len(took)}
        if len(took) >= least:
            logs = [math.log(max(0.1, x)) for x in took]
            centre = statistics.median(logs)
            mad = statistics.median([abs(x - centre) for x in logs])
            row.update(median_minutes=round(math.exp(centre), 3), sigma=round(max(0.05, 1.4826 * mad), 4))
        services[sid] = row
    hours = Tally(datetime.fromtimestamp(r["issued_ms"] / 1000, tz).hour for r in history)
    total = sum(hours.values())
    per_day = Tally(r["day"] for r in history)
    mean = statistics.fmean(per_day.values())
    weekday_counts: dict[int, list[int]] = {}
    for d, n in per_day.items():
        weekday_counts.setdefault(date.fromisoformat(d).weekday(), []).append(n)
    weekdays = [round(statistics.fmean(weekday_counts[w]) / mean, 3) if w in weekday_counts else None
                for w in range(7)]  # None: no day of the history fell on it (the simulator keeps its default)
    return {"days": len(days), "first_day": days[0], "last_day": days[-1], "services": services,
            "hourly": [round(24 * hours.get(h, 0) / total, 4) for h in range(24)], "weekdays": weekdays}
