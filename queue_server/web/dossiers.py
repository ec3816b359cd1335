"""Dossier look-up over REST (public: the kiosk, the phone status page, anyone with a receipt's code).

GET /api/v1/dossiers         whether look-up is set up, its source, and the return-of-results service
GET /api/v1/dossiers/<code>  one dossier: status, procedure, dates, where to collect, the applicant masked
A source that is down or slow answers 503 dossier_source_down within 3 s, naming the return-of-results
service so the kiosk can offer its ticket anyway.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify

from queue_server.core.dossiers import clean_code
from queue_server.core.errors import DomainError
from queue_server.dossiers.sources import DossierLookup, SourceDown
from queue_server.web.toolkit import ctx

log = logging.getLogger(__name__)
bp = Blueprint("dossiers", __name__, url_prefix="/api/v1")


def lookup() -> DossierLookup:
    """One look-up per config (a reload with new dossier settings starts a new one, with an empty cache)."""
    cfg = ctx().config.dossiers
    held = current_app.extensions.get("qms_dossiers")
    if held is None or held.cfg is not cfg:
        held = DossierLookup(cfg, ctx().store)
        current_app.extensions["qms_dossiers"] = held
    return held


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
    raw, code = code, clean_code(code)
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
