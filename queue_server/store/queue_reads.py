"""Reads of the queue's tables that the tickets store does not offer: for the supervisors' dashboard, the
config reload's checks and the kiosk's search (a few services' states)."""
from __future__ import annotations

from queue_server.core.rules import ServiceStatus
from queue_server.store.db import ACTIVE_STATUSES


def active_tickets_by_service(store) -> dict[str, int]:
    """service id -> how many of its tickets are still active (any day)."""
    marks = ", ".join("?" * len(ACTIVE_STATUSES))
    return dict(store.conn.execute(f"SELECT service_id, COUNT(*) FROM tickets WHERE status IN ({marks}) "
                                   "GROUP BY service_id", ACTIVE_STATUSES).fetchall())


def counter_rows(store) -> list[dict]:
    """id, state, current ticket and the supervisors' service override of every counter row."""
    return [dict(r) for r in store.conn.execute(
        "SELECT id, state, current_ticket_id, services_override FROM counters")]


def service_overrides(store) -> dict[str, tuple[str, int | None]]:
    """service id -> (manual state, cap override) as the supervisors set them."""
    return {r[0]: (r[1], r[2]) for r in store.conn.execute("SELECT service_id, manual, cap_override FROM service_state")}


def oldest_waiting(store, day: str) -> dict[str, int]:
    """Per service, when its longest-waiting ticket joined the queue (issue, or its last transfer)."""
    out: dict[str, int] = {}
    for sid, first in store.conn.execute(
            """SELECT service_id, MIN(issued_ms) FROM tickets WHERE day = ? AND status = 'waiting' AND transfer_count = 0
               GROUP BY service_id""", (day,)):
        out[sid] = first
    for sid, joined in store.conn.execute(
            """SELECT t.service_id, (SELECT MAX(e.ts_ms) FROM events e WHERE e.ticket_id = t.id AND e.type = 'ticket.transferred')
               FROM tickets t WHERE t.day = ? AND t.status = 'waiting' AND t.transfer_count > 0""", (day,)):
        if joined is not None and (sid not in out or joined < out[sid]):
            out[sid] = joined
    return out


def service_status(store, service_id: str, day: str | None = None) -> ServiceStatus:
    """One service's state now (open, full or closed), without reading every service."""
    return store._service_status(store.conn, service_id, day or store.today())


def estimate_inputs(store, day: str | None = None):
    """What the wait estimate replays (core/estimate.py), read in one snapshot: today's waiting tickets, every
    counter of the config as the core sees it, and the tickets now at a counter (called or serving)."""
    from queue_server.store.rows import ticket_from_row

    day = day or store.today()
    known = store.config.counter_ids()
    counters = [store._counter_from_row(r) for r in store.conn.execute("SELECT * FROM counters ORDER BY number")
                if r["id"] in known]
    waiting = [ticket_from_row(r) for r in store.conn.execute(
        "SELECT * FROM tickets WHERE day = ? AND status = 'waiting' ORDER BY id", (day,))]
    at_counter = {t.counter_id: t for t in (ticket_from_row(r) for r in store.conn.execute(
        "SELECT * FROM tickets WHERE status IN ('called', 'serving') AND counter_id IS NOT NULL"))}
    return waiting, counters, at_counter


def recent_service_times(store, last: int, day: str | None = None) -> dict[str, list[int]]:
    """service id -> call-to-finish times (ms) of its last `last` tickets served today, newest first."""
    out: dict[str, list[int]] = {}
    for sid, took in store.conn.execute(
            """SELECT service_id, took FROM (
                 SELECT service_id, finished_ms - called_ms AS took,
                        ROW_NUMBER() OVER (PARTITION BY service_id ORDER BY finished_ms DESC) AS n
                 FROM tickets WHERE day = ? AND status = 'done' AND called_ms IS NOT NULL AND finished_ms >= called_ms)
               WHERE n <= ? ORDER BY service_id, n""", (day or store.today(), last)):
        out.setdefault(sid, []).append(took)
    return out


def ticket_history(store, first_day: str | None = None, last_day: str | None = None) -> list[dict]:
    """Every ticket of the days between two local days (inclusive; None: no bound), for `qms calibrate`: day,
    service, status, priority, transfers, issue, call and finish times (ms)."""
    q = """SELECT day, service_id, status, priority, transfer_count, issued_ms, called_ms, finished_ms
           FROM tickets WHERE day >= ? AND day <= ? ORDER BY id"""
    return [dict(r) for r in store.conn.execute(q, (first_day or "0000-00-00", last_day or "9999-99-99"))]
