"""Satisfaction ratings (feedback_buttons/server/recorder.py decides, this module reads and writes).

A rating's id comes from the keypad agent or the rating page, so a retried delivery finds its row. Each write is
one short transaction: the ratings row and its event. Who a press belongs to is the core's rule
(queue_server/core/rating.py), asked inside the transaction with the candidates read there.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from queue_server.core import rating as R
from queue_server.core.errors import DomainError
from queue_server.store.event_log import log


@dataclass(frozen=True)
class Press:
    """One press to record, already checked: its level is known and its age allowed."""

    id: str
    counter_id: str
    level: int
    button: str | None
    source: str
    age_ms: int
    actor: str | None
    flags: tuple[str, ...] = ()  # delivery flags (late, ...)


def get(store, rating_id: str) -> dict | None:
    row = store.conn.execute("SELECT * FROM ratings WHERE id = ?", (rating_id,)).fetchone()
    return dict(row) if row else None


def _candidates(c, counter_id: str, pressed_ms: int, window_ms: int) -> list[R.Candidate]:
    called_by, finished_after = R.query_bounds(pressed_ms, window_ms)
    rows = c.execute("""SELECT t.id, t.status, t.called_ms, t.started_ms, t.finished_ms,
                               (SELECT COUNT(*) FROM ratings r WHERE r.ticket_id = t.id) AS presses,
                               EXISTS (SELECT 1 FROM ratings r WHERE r.ticket_id = t.id AND r.status = 'attributed') AS rated
                        FROM tickets t WHERE t.counter_id = ? AND t.called_ms <= ?
                          AND t.status IN ('called', 'serving', 'done')
                          AND (t.finished_ms IS NULL OR t.finished_ms >= ?)""",
                     (counter_id, called_by, finished_after)).fetchall()
    return [R.Candidate(r["id"], r["status"], r["called_ms"], r["started_ms"], r["finished_ms"], bool(r["rated"]),
                        r["presses"]) for r in rows]


def record(store, press: Press, *, window_ms: int, max_presses: int,
           decide: Callable[[int, list[R.Candidate]], R.Decision]) -> tuple[dict, bool, int | None]:
    """Store one press. `decide(pressed_ms, candidates)` is the attribution rule (it may refuse by raising).
    Returns (the row, created, the event's seq); a known id returns its stored row unchanged."""
    cfg = store.config
    with store.writer.transaction() as c:
        row = c.execute("SELECT * FROM ratings WHERE id = ?", (press.id,)).fetchone()
        if row is not None:
            return dict(row), False, None
        now = store.now_ms()
        pressed = now - press.age_ms
        decision = decide(pressed, _candidates(c, press.counter_id, pressed, window_ms))
        ticket = store._ticket(c, decision.ticket_id) if decision.ticket_id is not None else None
        if ticket is not None and decision.presses >= max_presses:  # a bound on the rows one ticket may take
            raise DomainError("too_many_presses", code=ticket.code)
        service = ticket.service_id if ticket else None
        dept = cfg.services()[service][0].id if service in cfg.services() else None
        flags = list(decision.flags) + list(press.flags)
        values = {"id": press.id, "day": store.day_of_ms(pressed), "ticket_id": ticket.id if ticket else None,
                  "counter_id": press.counter_id, "staff_id": ticket.staff_id if ticket else None,
                  "service_id": service, "department_id": dept, "level": press.level, "button": press.button,
                  "source": press.source, "pressed_ms": pressed, "received_ms": now, "status": decision.status,
                  "flags": json.dumps(flags), "reason": None, "actor": press.actor}
        c.execute(f"INSERT INTO ratings ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                  tuple(values.values()))
        seq = log(store, c, "rating.recorded", now=now, ticket=ticket, counter_id=press.counter_id, actor=press.actor,
                  data={"rating": press.id, "level": press.level, "status": decision.status, "flags": flags,
                        "source": press.source, "officer": values["staff_id"], "pressed_ms": pressed,
                        "service": service})
    return values, True, seq


def set_reason(store, rating_id: str, reason: str, *, actor: str | None,
               check: Callable[[dict, int], None]) -> dict:
    """Record the reason of a low rating. `check(row, now_ms)` refuses by raising; giving the same reason
    again changes nothing. Returns the rating's row."""
    with store.writer.transaction() as c:
        row = c.execute("SELECT * FROM ratings WHERE id = ?", (rating_id,)).fetchone()
        if row is None:
            raise DomainError("rating_unknown", rating=rating_id)
        if row["reason"] == reason:
            return dict(row)
        now = store.now_ms()
        check(dict(row), now)
        c.execute("UPDATE ratings SET reason = ? WHERE id = ?", (reason, rating_id))
        ticket = store._ticket(c, row["ticket_id"]) if row["ticket_id"] is not None else None
        log(store, c, "rating.reason", now=now, ticket=ticket, counter_id=row["counter_id"], actor=actor,
            data={"rating": rating_id, "reason": reason})
        return dict(c.execute("SELECT * FROM ratings WHERE id = ?", (rating_id,)).fetchone())


# ---------------------------------------------------------------- reads
def ticket_code(store, ticket_id: int) -> str | None:
    row = store.conn.execute("SELECT code FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    return row["code"] if row else None


def of_ticket(store, ticket_id: int) -> list[dict]:
    return [dict(r) for r in store.conn.execute(
        "SELECT * FROM ratings WHERE ticket_id = ? ORDER BY pressed_ms, received_ms", (ticket_id,))]


def of_day(store, day: str) -> list[dict]:
    return [dict(r) for r in store.conn.execute("SELECT * FROM ratings WHERE day = ? ORDER BY pressed_ms, id", (day,))]


def finished_by_counter(store, day: str) -> dict[str, int]:
    """counter id -> tickets it finished on the day."""
    return dict(store.conn.execute(
        "SELECT counter_id, COUNT(*) FROM tickets WHERE day = ? AND status = 'done' GROUP BY counter_id", (day,)).fetchall())


def last_finished(store, counter_id: str, since_ms: int, ticket_token: str | None = None) -> dict | None:
    """The ticket the counter finished last since `since_ms` (that one ticket, given its token), and whether it
    has a counted rating."""
    row = store.conn.execute(
        """SELECT id, code, finished_ms, EXISTS (SELECT 1 FROM ratings r WHERE r.ticket_id = t.id
                                                 AND r.status = 'attributed') AS rated
           FROM tickets t WHERE counter_id = ? AND status = 'done' AND finished_ms >= ?
             AND (? IS NULL OR token = ?)
           ORDER BY finished_ms DESC, id DESC LIMIT 1""", (counter_id, since_ms, ticket_token, ticket_token)).fetchone()
    return dict(row) if row else None

