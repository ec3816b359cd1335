"""Rows of the queue's tables as plain data, and what one write returns (OpResult)."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone

from queue_server.core.rules import Status, Ticket

TICKET_COLUMNS = [f for f in Ticket.__dataclass_fields__]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class OpResult:
    """What one committed operation changed, for the push layer."""

    tickets: list[dict] = field(default_factory=list)
    counters: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    waiting_ahead: int | None = None
    repeated: bool = False  # a repeated press: nothing changed, `tickets` holds the ticket already called

    @property
    def ticket(self) -> dict | None:
        return self.tickets[-1] if self.tickets else None


def ticket_from_row(row: sqlite3.Row) -> Ticket:
    d = {k: row[k] for k in TICKET_COLUMNS}
    d["status"] = Status(d["status"])
    d["priority"] = bool(d["priority"])
    return Ticket(**d)


def ticket_to_dict(t: Ticket) -> dict:
    d = {k: getattr(t, k) for k in TICKET_COLUMNS}
    d["status"] = t.status.value
    return d


def ticket_from_row_dict(d: dict) -> Ticket:
    d = dict(d)
    d["status"] = Status(d["status"])
    return Ticket(**{k: d[k] for k in TICKET_COLUMNS})
