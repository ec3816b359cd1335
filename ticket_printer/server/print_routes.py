"""Printing in the server: REST routes for reprints and job states, the printer agents' Socket.IO room and
events, and the hook that makes a print job for every ticket a kiosk issues. Installed by create_app()."""
from __future__ import annotations

import logging
from typing import Literal

from flask import Blueprint, current_app, jsonify, request
from pydantic import Field

from queue_server.web.toolkit import Body, body, principal, require
from queue_server.core.errors import DomainError

from ticket_printer.server.jobs import STATES, PrintJobs

log = logging.getLogger(__name__)

bp = Blueprint("printing", __name__, url_prefix="/api/v1")


class ReprintBody(Body):
    kiosk: str | None = Field(None, min_length=1, max_length=60)
    lang: Literal["vi", "en"] | None = None


def jobs() -> PrintJobs:
    return current_app.extensions["qms_printing"]


@bp.post("/tickets/<int:ticket_id>/reprint")
def reprint(ticket_id: int):
    b = body(ReprintBody, optional=True)
    lang = b.lang or (request.args.get("lang") if request.args.get("lang") in ("vi", "en") else None)
    return jsonify(job=jobs().reprint(principal(), ticket_id, kiosk=b.kiosk, lang=lang)), 202


@bp.get("/tickets/<int:ticket_id>/print-jobs")
def ticket_jobs(ticket_id: int):
    p = principal()
    pj = jobs()
    pj.store.ticket(ticket_id)  # unknown -> 404
    require("staff", "kiosk", p=p, reason="the kiosk that issued the ticket, or staff")
    if p.kind == "device" and p.device_id != pj.issuing_kiosk(ticket_id):
        raise DomainError("forbidden", reason="the kiosk that issued the ticket, or staff")
    return jsonify(jobs=pj.jobs_of(ticket_id))


@bp.get("/print-jobs")
def recent_jobs():
    pj = jobs()
    require("staff")
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise DomainError("bad_request", detail=f"state must be one of {', '.join(STATES)}")
    try:
        limit = min(500, max(1, int(request.args.get("limit", "100"))))
    except ValueError:
        raise DomainError("bad_request", detail="limit must be a whole number") from None
    return jsonify(jobs=pj.recent(state, limit))


def install(app, ctx) -> PrintJobs:
    """Wire printing into the server: hook, room kind, socket event, blueprint. `PrintJobs.start` (run by the
    app factory when background tasks run) recovers jobs left open and starts watching the printers."""
    pj = PrintJobs(ctx)
    app.extensions["qms_printing"] = pj
    ctx.commands.after_issue.append(pj.on_issued)
    if ctx.sockets is not None:
        ctx.sockets.room_kinds["printer"] = pj

    def on_print_result(data=None):
        client = ctx.sockets.clients.get(request.sid) if ctx.sockets else None
        lang = client["lang"] if client else "vi"
        try:
            if ctx.sockets is not None:
                client = ctx.sockets.current(request.sid)  # the agent's token, checked again
            return {"ok": True, **pj.on_result(client, data)}
        except DomainError as err:
            return {"ok": False, **err.to_dict(lang)}
        except Exception:  # noqa: BLE001 - an ack must always come back
            log.exception("print.result failed: %r", data)
            return {"ok": False, "error": "internal", "message": "internal error"}

    ctx.socketio.on_event("print.result", on_print_result)
    app.register_blueprint(bp)
    return pj
