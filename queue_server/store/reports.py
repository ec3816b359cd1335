"""The reports' tables: each local day derived from the event log (its legs in `report_legs`, its per-group sums
with every waiting and serving time in `report_groups`, its satisfaction presses in `report_ratings`, the day's
row in `report_days`), and the reads that add the days of a range up. The arithmetic is the core's
(queue_server/core/report_math.py, report_days.py); queue_server/reports.py builds the report from these.
"""
from __future__ import annotations

from array import array
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from queue_server.core.report_days import legs_of_day, officer_timeline
from queue_server.core.report_math import COUNT_FIELDS, LEG_COLUMNS, Leg, group_legs, group_ratings, pack

RATING_COLUMNS = {"day", "ticket_id", "counter_id", "staff_id", "service_id", "department_id", "level", "status",
                  "flags", "pressed_ms"}


def derive_day(store, day: str, tz: ZoneInfo, c=None) -> list[Leg]:
    """Every leg of the tickets of one local day, from the event log (read on `c`, else the store's connection)."""
    c = c or store.conn
    tickets = {r[0]: {"id": r[0], "day": r[1], "service_id": r[2], "priority": r[3], "staff_id": r[4], "issued_ms": r[5]}
               for r in c.execute("SELECT id, day, service_id, priority, staff_id, issued_ms FROM tickets WHERE day = ?",
                                  (day,))}
    officer_at = officer_timeline(c.execute(
        "SELECT counter_id, ts_ms, staff_id, data FROM events WHERE day = ? AND type = 'counter.state' ORDER BY id",
        (day,)))
    events = c.execute("""SELECT e.ticket_id, e.type, e.ts_ms, e.counter_id, e.service_id, e.staff_id, e.data
                          FROM tickets t JOIN events e ON e.ticket_id = t.id
                          WHERE t.day = ? ORDER BY e.ticket_id, e.id""", (day,))
    return legs_of_day(tickets, events, tz, officer_at)


def ratings_available(store) -> bool:
    """An older database may have no ratings table (or an older one): reports then leave satisfaction out."""
    cols = {r[1] for r in store.conn.execute("PRAGMA table_info(ratings)")}
    return RATING_COLUMNS <= cols


def store_day(store, day: str, *, today: str, version: str, targets_ms: dict[str, int], default_target_ms: int,
              has_ratings: bool) -> int:
    """Derive one day again and store it, in one short transaction. A day is final once it is before today and
    none of its tickets is still active. Returns its number of legs."""
    tz = store.config.tz
    with store.writer.transaction() as c:
        active = c.execute("SELECT COUNT(*) FROM tickets WHERE day = ? AND status IN ('waiting','called','serving','parked')",
                           (day,)).fetchone()[0]
        legs = derive_day(store, day, tz, c)
        sums = group_legs(legs, targets_ms, default_target_ms, store.now_ms())
        presses = []
        if has_ratings:
            presses = [dict(zip(("department_id", "service_id", "counter_id", "staff_id", "pressed_ms", "level", "status",
                                 "flags", "ticket_id"), r)) for r in c.execute(
                """SELECT department_id, service_id, counter_id, staff_id, pressed_ms, level, status, flags, ticket_id
                   FROM ratings WHERE day = ?""", (day,))]
        for table in ("report_legs", "report_groups", "report_ratings"):
            c.execute(f"DELETE FROM {table} WHERE day = ?", (day,))
        c.executemany(f"INSERT INTO report_legs ({', '.join(LEG_COLUMNS)}) VALUES ({', '.join('?' * len(LEG_COLUMNS))})",
                      [leg.row() for leg in legs])
        marks = ", ".join("?" * (len(COUNT_FIELDS) + 5))
        # times stored sorted: a range's report joins sorted runs, which sorting merges quickly
        rows = [(dim, day, key, *g.counts, pack(array("I", sorted(g.waits))), pack(array("I", sorted(g.serves))))
                for (dim, key), g in sums["groups"].items()]
        rows += [("arrival", day, f"{wd}:{hour}", n, n, *([0] * (len(COUNT_FIELDS) - 2)), None, None)
                 for (wd, hour), n in sums["arrivals"].items()]
        c.executemany(f"INSERT INTO report_groups (dim, day, key, {', '.join(COUNT_FIELDS)}, waits, serves) "
                      f"VALUES ({marks})", rows)
        c.executemany("""INSERT INTO report_ratings (dim, day, key, level, status, flagged, presses, tickets)
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                      [(dim, day, key, level, status, flagged, n, t)
                       for (dim, key, level, status, flagged), (n, t) in group_ratings(presses, tz).items()])
        c.execute("""INSERT INTO report_days (day, final, legs, ratings, version, computed_ms) VALUES (?, ?, ?, ?, ?, ?)
                     ON CONFLICT (day) DO UPDATE SET final = excluded.final, legs = excluded.legs,
                     ratings = excluded.ratings, version = excluded.version, computed_ms = excluded.computed_ms""",
                  (day, int(day < today and active == 0), len(legs), len(presses), version, store.now_ms()))
    return len(legs)


def days_to_derive(store, day_from: str, day_to: str, version: str) -> list[str]:
    """Days of the range with tickets or presses that are not derived as final under `version`, or whose
    presses changed since (a rating can arrive days late). Newest first."""
    conn = store.conn
    cached = {r[0]: r[1] for r in conn.execute(
        "SELECT day, ratings FROM report_days WHERE day BETWEEN ? AND ? AND final = 1 AND version = ?",
        (day_from, day_to, version))}
    need = set()
    d, last = date.fromisoformat(day_from), date.fromisoformat(day_to)
    while d <= last:  # one indexed look-up per day not derived yet (a year: a few ms)
        iso = d.isoformat()
        if iso not in cached and conn.execute("SELECT 1 FROM tickets WHERE day = ? LIMIT 1", (iso,)).fetchone():
            need.add(iso)
        d += timedelta(days=1)
    if ratings_available(store):
        for day, n in conn.execute("SELECT day, COUNT(*) FROM ratings WHERE day BETWEEN ? AND ? GROUP BY day",
                                   (day_from, day_to)):
            if cached.get(day) != n:
                need.add(day)
    return sorted(need, reverse=True)


def first_day(store) -> str | None:
    """The first local day with a ticket."""
    return store.conn.execute("SELECT MIN(day) FROM tickets").fetchone()[0]


# ---------------------------------------------------------------- adding a range up
def _check_col(col: str) -> None:
    if col not in ("key", "day"):  # a column name goes into the SQL text: only these two
        raise ValueError(f"group by key or day, not {col!r}")


def group_sums(store, dim: str, col: str, day_from: str, day_to: str):
    """(key, *COUNT_FIELDS sums) per key (`col` 'key') or per day (`col` 'day') of one grouping."""
    _check_col(col)
    sums = ", ".join(f"SUM({f})" for f in COUNT_FIELDS)
    return store.conn.execute(f"""SELECT {col}, {sums} FROM report_groups WHERE dim = ? AND day BETWEEN ? AND ?
                                  GROUP BY {col}""", (dim, day_from, day_to))


def group_times(store, dim: str, col: str, day_from: str, day_to: str):
    """(key or day, packed waits, packed serves) of each day of one grouping that has times."""
    _check_col(col)
    return store.conn.execute(f"""SELECT {col}, waits, serves FROM report_groups WHERE dim = ?
                                  AND day BETWEEN ? AND ? AND (waits IS NOT NULL OR serves IS NOT NULL)""",
                              (dim, day_from, day_to))


def rating_groups(store, dim: str, day_from: str, day_to: str):
    """(day, key, level, status, flagged, presses, tickets) of one grouping's presses."""
    return store.conn.execute("""SELECT day, key, level, status, flagged, presses, tickets FROM report_ratings
                                 WHERE dim = ? AND day BETWEEN ? AND ?""", (dim, day_from, day_to))


def arrivals(store, day_from: str, day_to: str) -> dict[str, int]:
    """'weekday:hour' -> tickets issued then, over the range."""
    return dict(store.conn.execute("""SELECT key, SUM(issued) FROM report_groups WHERE dim = 'arrival'
                                      AND day BETWEEN ? AND ? GROUP BY key""", (day_from, day_to)).fetchall())


def waits_by_hour(store, day_from: str, day_to: str):
    """(service, weekday 0=Monday, hour, wait ms) of every called leg of the range: the usual waits by hour."""
    return store.conn.execute("""SELECT service_id, weekday, hour, wait_ms FROM report_legs
                                 WHERE day BETWEEN ? AND ? AND wait_ms IS NOT NULL""", (day_from, day_to))
