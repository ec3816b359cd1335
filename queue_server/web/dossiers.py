"""Dossier look-up over REST (public: the kiosk, the phone status page, anyone with a receipt's code).

GET /api/v1/dossiers         whether look-up is set up, its source, and the return-of-results service
GET /api/v1/dossiers/<code>  one dossier: status, procedure, dates, where to collect, the applicant masked
POST /api/v1/tickets/<id>/dossiers   staff at the counter attach a dossier code to the ticket they serve
GET /api/v1/tickets/<id>/dossiers    the codes on a ticket (staff)
GET /api/v1/reports/dossiers         tickets per dossier code over days (supervisors)
A source that is down or slow answers 503 dossier_source_down within 3 s, naming the return-of-results
service so the kiosk can offer its ticket anyway.
"""
from __future__ import annotations

import logging

import re
from datetime import date

from flask import Blueprint, current_app, jsonify, request
from pydantic import Field

from queue_server.core.dossiers import CODE_PATTERN, clean_code
from queue_server.core.errors import DomainError
from queue_server.core.rate_limit import Limiter
from queue_server.dossiers.sources import DossierLookup, SourceDown
from queue_server.store import dossiers as dossier_rows
from queue_server.web.toolkit import Body, body, client_address, ctx, principal, require

log = logging.getLogger(__name__)
bp = Blueprint("dossiers", __name__, url_prefix="/api/v1")


def lookup() -> DossierLookup:
    """One look-up per config (a reload with new dossier settings starts a new one, with an empty cache), with
    its limiter of look-ups per client address."""
    cfg = ctx().config.dossiers
    held = current_app.extensions.get("qms_dossiers")
    if held is None or held.cfg is not cfg:
        held = DossierLookup(cfg, ctx().store)
        held.limiter = Limiter(limit=cfg.lookups_per_minute, window_ms=60_000)
        current_app.extensions["qms_dossiers"] = held
    return held


def admit(found: DossierLookup) -> None:
    """A caller without a kiosk's or staff token (a phone, a script) gets dossiers.lookups_per_minute, so dossier
    codes cannot be walked through; then 429 with retry_after."""
    p = principal()
    if p.kind == "staff" or (p.kind == "device" and p.device_kind == "kiosk"):
        return
    wait_ms = found.limiter.admit(client_address(), ctx().store.now_ms())
    if wait_ms:
        raise DomainError("too_many_lookups", retry_after=max(1, -(-wait_ms // 1000)))


def return_service() -> dict | None:
    config = ctx().config
    sid = config.dossiers.return_service
    if sid is None or sid not in config.services():
        return None
    dept, svc = config.services()[sid]
    return {"id": svc.id, "name": svc.name, "name_en": svc.name_en, "department": dept.id,
            "department_name": dept.name, "department_name_en": dept.name_en}


@bp.get("/dossiers")
def dossiers_setup():
    found = lookup()
    return jsonify(enabled=found.enabled, source=ctx().config.dossiers.source, return_service=return_service())


@bp.get("/dossiers/<path:code>")
def dossier(code: str):
    found = lookup()
    if not found.enabled:
        raise DomainError("dossier_lookup_off")
    admit(found)
    code = clean_code(code)
    if code is None:
        raise DomainError("bad_request", detail="a dossier code is 3 to 60 letters, digits, dots, dashes or slashes")
    service = return_service()
    try:
        d, cached = found.find(code)
    except SourceDown as exc:
        log.warning("dossier source %s did not answer for %s: %s", found.source.name, code, exc)
        raise DomainError("dossier_source_down", reason=exc.reason, code=code,
                          return_service=service["id"] if service else None) from None
    if d is None:
        raise DomainError("dossier_unknown", code=code)
    return jsonify(dossier=d.public(), cached=cached, return_service=service if d.collectable else None)


# ------------------------------------------------------------------ dossier codes on tickets
class AttachBody(Body):
    counter: str = Field(min_length=1, max_length=40)
    code: str = Field(min_length=3, max_length=60, pattern=CODE_PATTERN.pattern)


# One rule for both methods: with two, a number too large for the database answered GET with 405, not 404.
@bp.route("/tickets/<int:ticket_id>/dossiers", methods=["GET", "POST"])
def ticket_dossiers(ticket_id: int):
    """GET: the codes on a ticket (staff). POST: the officer serving the ticket at `counter` attaches a dossier's
    code (a supervisor may for any counter)."""
    if request.method == "GET":
        require("staff")
        ctx().store.ticket(ticket_id)  # ticket_unknown
        return jsonify(ticket=ticket_id, codes=dossier_rows.codes_of(ctx().store, ticket_id))
    b = body(AttachBody)
    p = principal()
    counter = ctx().commands.need_counter(p, b.counter, "attach")
    got = dossier_rows.attach(ctx().store, ticket_id, clean_code(b.code), counter=counter,
                              staff_id=p.staff_id, actor=p.name)
    return jsonify(ticket=ticket_id, **got), 201 if got["added"] else 200


def _day_arg(name: str, default: str) -> str:
    raw = request.args.get(name, "").strip() or default
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise DomainError("bad_request", detail=f"{name} must be a date YYYY-MM-DD") from None


@bp.get("/reports/dossiers")
def tickets_per_dossier():
    require("supervisor")
    today = ctx().store.today()
    day_from, day_to = _day_arg("from", today), _day_arg("to", today)
    if day_from > day_to:
        raise DomainError("bad_request", detail="from must not be after to")
    rows = dossier_rows.tickets_per_dossier(ctx().store, day_from, day_to)
    return jsonify({"from": day_from, "to": day_to, "dossiers": rows, "tickets": sum(r["tickets"] for r in rows)})
