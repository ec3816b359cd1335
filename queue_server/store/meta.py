"""The database itself: its health, and the small `meta` table of facts (last close of day, catalogue version)."""
from __future__ import annotations

import json


def health(store) -> dict:
    """SQLite's quick check ('ok' when sound) and the journal mode."""
    return {"integrity": store.conn.execute("PRAGMA quick_check").fetchone()[0],
            "journal_mode": store.conn.execute("PRAGMA journal_mode").fetchone()[0]}


def get(store, key: str) -> str | None:
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def put(c, key: str, value: str) -> None:
    """Inside the caller's transaction `c` (a store module's)."""
    c.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
              (key, value))


def last_close_day(store) -> str | None:
    """The local day of the last scheduled (or manual) close of day, if any."""
    value = get(store, "last_close")
    if not value:
        return None
    try:
        return json.loads(value).get("day")
    except (ValueError, AttributeError):
        return None


def day_opened_before(store, day: str, before_ms: int) -> bool:
    """Whether the local `day` was open before `before_ms`: a ticket issued, or a counter opened (or put on a
    break), earlier than it, as the event log records."""
    return store.conn.execute(
        """SELECT 1 FROM events WHERE day = ? AND ts_ms < ? AND (type = 'ticket.issued'
               OR (type = 'counter.state' AND json_extract(data, '$.to') IN ('open', 'break'))) LIMIT 1""",
        (day, before_ms)).fetchone() is not None
