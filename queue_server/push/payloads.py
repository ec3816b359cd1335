"""The typed payloads of the live push, one dataclass per Socket.IO event.

Every payload that reflects a change carries `seq`, the id of that change in the append-only event log
(several messages may carry one seq; seqs a room does not need are skipped, so gaps are normal). A client
keeps the highest seq it has applied and sends it back on reconnect to get what it missed; what it gets
then is what it would have got live, marked `replayed`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class Hello:
    version: str
    config_hash: str
    centre: str
    server_time: str
    room: str
    event = "hello"


@dataclass
class Snapshot:
    seq: int
    room: str
    state: dict
    event = "snapshot"


@dataclass
class TicketIssued:
    seq: int
    ticket: dict
    replayed: bool = False
    event = "ticket.issued"


@dataclass
class TicketCalled:
    seq: int
    call: dict  # code, counter, service, department, recall, at (and voice, for the rooms that play it)
    ticket: dict
    recall: bool
    replayed: bool = False
    event = "ticket.called"


@dataclass
class TicketUpdated:
    seq: int
    change: str
    ticket: dict
    data: dict = field(default_factory=dict)
    replayed: bool = False
    event = "ticket.updated"


@dataclass
class CounterUpdated:
    seq: int
    counter: dict
    replayed: bool = False
    event = "counter.updated"


@dataclass
class QueueUpdated:
    as_of: int  # the last seq these counts reflect
    services: dict
    position: dict | None = None  # ticket rooms: {id, waiting_ahead, wait, serving_counters}
    event = "queue.updated"


@dataclass
class RatingRecorded:
    seq: int
    rating: dict  # id, ticket, code, counter, level, label, positive, status, flags, source, pressed_at
    event = "rating.recorded"


@dataclass
class ForecastUpdated:
    as_of: int  # the last seq the forecast's queue reflects
    forecast: dict  # as GET /api/v1/forecast answers: at, at_ms, took_ms, services
    event = "forecast.updated"


EVENT_NAMES = ("hello", "snapshot", "ticket.issued", "ticket.called", "ticket.updated", "counter.updated",
               "queue.updated", "device.updated", "rating.recorded", "alerts.updated", "notice.updated", "config.reloaded",
               "print.status", "print.job", "forecast.updated", "service.notice")

# event log type -> the `change` of a ticket.updated
CHANGE_OF = {
    "ticket.started": "started", "ticket.finished": "finished", "ticket.no_show": "no_show",
    "ticket.parked": "parked", "ticket.transferred": "transferred", "ticket.cancelled": "cancelled",
    "ticket.unserved": "unserved",
}
CALLS = ("ticket.called", "ticket.resumed")


def as_dict(payload) -> dict:
    """The message body: shallow, payloads hold plain dicts."""
    return {f.name: getattr(payload, f.name) for f in fields(payload)}


def replayed(payload):
    """The same payload marked as caught up (never announced, never flashed)."""
    if hasattr(payload, "replayed"):
        payload.replayed = True
    return payload
