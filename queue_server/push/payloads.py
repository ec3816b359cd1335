"""The typed payloads of the live push, one dataclass per Socket.IO event.

Every payload that reflects a change carries `seq`, the id of that change in the append-only event log
(several messages may carry one seq; seqs a room does not need are skipped, so gaps are normal). A client
keeps the highest seq it has applied and sends it back on reconnect to get what it missed; what it gets
then is what it would have got live, marked `replayed`. Sent live, a queue message also carries `prev`: for
each room it went to, the seq of the message this process sent to that room before it (None: the first since
the process started), so a client sees a lost message as a `prev` it never applied, and asks for the catch-up
(`catch_up`); `live.beat` carries each room's last seq now and then, so a lost last message shows too.
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
    rooms: list = field(default_factory=list)  # the Socket.IO rooms the socket joined (the keys of `prev`)
    as_of: int | None = None  # the last seq this greeting covers: what follows comes live
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
    prev: dict | None = None  # live only: room -> the seq of the message sent to that room before
    event = "ticket.issued"


@dataclass
class TicketCalled:
    seq: int
    call: dict  # code, counter, service, department, recall, at (and voice, for the rooms that play it)
    ticket: dict
    recall: bool
    replayed: bool = False
    prev: dict | None = None  # live only: room -> the seq of the message sent to that room before
    event = "ticket.called"


@dataclass
class TicketUpdated:
    seq: int
    change: str
    ticket: dict
    data: dict = field(default_factory=dict)
    replayed: bool = False
    prev: dict | None = None  # live only: room -> the seq of the message sent to that room before
    event = "ticket.updated"


@dataclass
class CounterUpdated:
    seq: int
    counter: dict
    replayed: bool = False
    prev: dict | None = None  # live only: room -> the seq of the message sent to that room before
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


@dataclass
class LiveBeat:
    prev: dict  # room -> the seq of the last message sent to that room: a client that has not applied it asks
    event = "live.beat"


EVENT_NAMES = ("hello", "snapshot", "ticket.issued", "ticket.called", "ticket.updated", "counter.updated",
               "queue.updated", "device.updated", "rating.recorded", "alerts.updated", "notice.updated", "config.reloaded",
               "print.status", "print.job", "forecast.updated", "service.notice", "live.beat")

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
