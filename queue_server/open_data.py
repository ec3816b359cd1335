"""Open data for the province's portal and for citizens: what the centre does today, and when it is quiet.

`today(...)` is GET /api/v1/open/today: per department, tickets issued and served today, people waiting now,
the average and p90 wait of today's called tickets, the satisfaction rate; `best_time(...)` is the usual wait
by weekday and hour over the last weeks, per department, with the live wait now. Both are figures of groups
only: no ticket, code, name, account, counter or officer appears (tests/test_open_data.py walks every key).
"""
from __future__ import annotations

from datetime import date, timedelta

from queue_server import reports
from queue_server.core.report_math import percentile
from queue_server.store import reports as report_rows

WEEKS = 8
HOURS = range(7, 18)  # the hours a centre is usually open


def _minutes(seconds) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _department(d) -> dict:
    return {"id": d.id, "name": d.name, "name_en": d.name_en or d.name, "zone": d.zone}


def waiting_now(store) -> dict[str, int]:
    """Department id -> people waiting now."""
    waiting = store.waiting_counts()
    return {d.id: sum(waiting.get(s.id, 0) for s in d.services) for d in store.config.departments}


def today(store, read, *, pause=None) -> dict:
    config = store.config
    day = store.today()
    rep = reports.build_report(store, day, day, "department", pause=pause)
    rows = {r["key"]: r for r in rep["rows"]}
    waiting = waiting_now(store)
    live = read.services()  # the estimate a citizen taking a ticket now would see, per service
    out = []
    for d in config.departments:
        r = rows.get(d.id, {})
        minutes = [s["wait"]["minutes"] for s in live
                   if s["department"] == d.id and s.get("wait") and s["wait"].get("minutes") is not None]
        out.append({**_department(d), "issued": r.get("issued", 0), "served": r.get("served", 0),
                    "waiting_now": waiting[d.id], "wait_avg_minutes": _minutes(r.get("wait_avg_s")),
                    "wait_p90_minutes": _minutes(r.get("wait_p90_s")),
                    "satisfaction_rate": None if r.get("satisfaction_rate") is None else round(100 * r["satisfaction_rate"], 1),
                    "rated_tickets": r.get("rated_tickets", 0),
                    "wait_now_minutes": min(minutes) if minutes else None})
    return {"centre": config.centre.name, "centre_en": config.centre.name_en, "day": day,
            "generated_ms": store.now_ms(), "cache_seconds": 30, "departments": out}


def best_time(store, *, weeks: int = WEEKS, pause=None) -> dict:
    """Per department, the median wait (minutes) by weekday and hour over the last `weeks` weeks (before today),
    with how many called tickets each cell rests on, and people waiting now."""
    config = store.config
    last = date.fromisoformat(store.today()) - timedelta(days=1)
    first = last - timedelta(weeks=weeks) + timedelta(days=1)
    reports.ensure_days(store, first.isoformat(), last.isoformat(), pause=pause)
    dept_of = {sid: d.id for sid, (d, _) in config.services().items()}
    cells: dict[str, dict[tuple[int, int], list[int]]] = {d.id: {} for d in config.departments}
    for service, weekday, hour, wait_ms in report_rows.waits_by_hour(store, first.isoformat(), last.isoformat()):
        dept = dept_of.get(service)
        if dept is not None:
            cells[dept].setdefault((weekday, hour), []).append(wait_ms)
    weekdays = sorted({["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(w) for w in config.hours.weekdays})
    waiting = waiting_now(store)
    out = []
    for d in config.departments:
        grid = []
        for wd in weekdays:
            row = []
            for h in HOURS:
                waits = sorted(cells[d.id].get((wd, h), []))
                median = percentile(waits, 50) if waits else None
                row.append({"hour": h, "median_minutes": None if median is None else round(median / 60_000),
                            "tickets": len(waits)})
            grid.append({"weekday": wd, "hours": row})
        out.append({**_department(d), "waiting_now": waiting[d.id], "weekdays": grid})
    return {"centre": config.centre.name, "centre_en": config.centre.name_en, "from": first.isoformat(),
            "to": last.isoformat(), "weeks": weeks, "hours": list(HOURS), "generated_ms": store.now_ms(),
            "departments": out}
