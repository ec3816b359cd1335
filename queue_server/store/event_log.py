"""Events that are not queue operations: admin audit entries, device states, imports, ratings.

The event log itself belongs to the tickets store (`Store._log`); this module is the one way the other store
modules add to it, inside their own transaction, so nothing outside the store needs the private helper.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Audit:
    """An `admin.*` (or other) event to log in the same transaction as the change it describes."""

    type: str
    staff_id: int | None
    actor: str | None
    data: dict = field(default_factory=dict)
    counter_id: str | None = None


def log(store, c, etype: str, *, data: dict, actor: str | None = None, staff_id: int | None = None,
        counter_id: str | None = None, ticket=None, now: int | None = None) -> int:
    """Append one event inside the caller's transaction `c`; returns its sequence number."""
    return store._log(c, etype, now=store.now_ms() if now is None else now, day=store.today(), ticket=ticket,
                      counter_id=counter_id, staff_id=staff_id, actor=actor, data=data, result=None)


def log_audit(store, c, audit: Audit | None, **extra) -> int | None:
    """The audit event of a change, with what only the change knows (a new id) added to its data."""
    if audit is None:
        return None
    return log(store, c, audit.type, data={**audit.data, **extra}, actor=audit.actor, staff_id=audit.staff_id,
               counter_id=audit.counter_id)


def record(store, etype: str, *, data: dict, actor: str | None = None, staff_id: int | None = None) -> int:
    """An event on its own, in its own short transaction (a refused config reload, say)."""
    with store.writer.transaction() as c:
        return log(store, c, etype, data=data, actor=actor, staff_id=staff_id)


def audit_log(store, limit: int) -> list[dict]:
    """The latest admin and supervision changes and sign-in locks, newest first (the partial indexes
    events_audit and events_sign_in_locks)."""
    rows = store.conn.execute(
        """SELECT id, ts_ms, type, actor, staff_id, counter_id, service_id, data FROM events
           WHERE type GLOB 'admin.*' OR type IN ('service.updated', 'counter.services', 'service.broadcast')
           ORDER BY id DESC LIMIT ?""", (limit,)).fetchall()
    rows += store.conn.execute(
        """SELECT id, ts_ms, type, actor, staff_id, counter_id, service_id, data FROM events
           WHERE type = 'login.locked' ORDER BY id DESC LIMIT ?""", (limit,)).fetchall()
    rows = sorted(rows, key=lambda r: r["id"], reverse=True)[:limit]
    return [{"seq": r["id"], "ts_ms": r["ts_ms"], "type": r["type"], "actor": r["actor"], "staff_id": r["staff_id"],
             "counter_id": r["counter_id"], "service_id": r["service_id"], "data": json.loads(r["data"])} for r in rows]


def first_actor(store, ticket_id: int, etype: str) -> str | None:
    """Who made the first event of a type for a ticket (e.g. the kiosk that issued it)."""
    row = store.conn.execute("SELECT actor FROM events WHERE ticket_id = ? AND type = ? ORDER BY id LIMIT 1",
                             (ticket_id, etype)).fetchone()
    return row["actor"] if row else None
