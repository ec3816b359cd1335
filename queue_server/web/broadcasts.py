"""A supervisor's message to everyone waiting for a service (a delay, a counter closing).

POST /api/v1/services/<service_id>/broadcast {text, text_en?} (supervisors and admins): in one transaction
(store/service_notices.py) the service's notice for today, one `broadcast` message per waiting ticket with a
phone number (sent by SMS/Zalo through the outbox), and the `service.broadcast` event with who sent what and
to how many (never a phone number). Then the notice goes live: `notice.updated` to the displays showing the
service's department (their notice line), `service.notice` to the status pages of its waiting tickets. An
empty text removes the notice and sends nothing. GET /api/v1/services/<service_id>/broadcast reads it.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify
from pydantic import Field

from queue_server.core.errors import DomainError
from queue_server.notices import broadcast_body
from queue_server.push.audiences import ticket_room
from queue_server.store import service_notices
from queue_server.store.event_log import Audit
from queue_server.web.admin import NoticeUpdated
from queue_server.web.toolkit import Body, body, require

bp = Blueprint("broadcasts", __name__)


class BroadcastBody(Body):
    text: str = Field(max_length=300)
    text_en: str = Field("", max_length=300)


@dataclass
class ServiceNotice:
    service: str
    text: str
    text_en: str
    event = "service.notice"


def _service(c, service_id: str) -> str:
    if service_id not in c.config.services():
        raise DomainError("service_unknown", service=service_id[:40])
    return service_id


@bp.get("/api/v1/services/<service_id>/broadcast")
def broadcast_read(service_id: str):
    require("supervisor")
    c = current_app.extensions["qms"]
    notice = service_notices.notices_today(c.store, {_service(c, service_id)}).get(service_id)
    return jsonify(service=service_id, notice=notice)


@bp.post("/api/v1/services/<service_id>/broadcast")
def broadcast_send(service_id: str):
    p = require("supervisor")
    b = body(BroadcastBody)
    c = current_app.extensions["qms"]
    sid = _service(c, service_id)
    text, text_en = b.text.strip(), b.text_en.strip()
    done = service_notices.broadcast(
        c.store, sid, text, text_en, bodies=broadcast_body(c.config, text, text_en),
        audit=Audit("service.broadcast", p.staff_id, p.name, {"service": sid, "text": text, "text_en": text_en}))
    dept = c.config.department_of(sid).id
    for d in c.config.devices.displays:  # after COMMIT: the displays showing the service's department
        if dept in (c.push.display_departments(d.id) or set()):
            shown = c.push.notice_of(d)
            c.push.broadcast(NoticeUpdated(d.id, shown["notice"], shown["notice_en"]))
    rooms = [ticket_room(t["id"]) for t in c.store.tickets(statuses=["waiting"]) if t["service_id"] == sid]
    if rooms:
        c.push.send_rooms(ServiceNotice(sid, text, text_en), rooms)
    return jsonify(service=sid, text=text, text_en=text_en, seq=done["seq"], messages=done["messages"],
                   pages=len(rooms))
