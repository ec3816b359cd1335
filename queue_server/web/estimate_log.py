"""Keeps each ticket's wait estimate at issue (an `after_issue` hook), and answers how far the estimates held:
GET /api/v1/reports/estimates, per service and ISO week (core/estimate_accuracy.py)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from queue_server import reports
from queue_server.core import estimate_accuracy
from queue_server.core.errors import DomainError
from queue_server.store import wait_estimates
from queue_server.web.toolkit import lang, require

bp = Blueprint("estimate_log", __name__)


def recorder(store):
    """The hook: what the kiosk's answer (and the slip) said, kept in its own transaction after the ticket's."""
    def keep(principal, result, out) -> None:
        if out.get("wait"):
            wait_estimates.record(store, out, out["wait"])
    return keep


@bp.get("/api/v1/reports/estimates")
def estimates_report():
    require("supervisor")
    c = current_app.extensions["qms"]
    a = request.args
    try:
        if a.get("period"):
            day_from, day_to = reports.period(a["period"], a.get("date") or c.store.today())
        else:
            day_from = a.get("from") or c.store.today()
            day_to = a.get("to") or day_from
        day_from, day_to = reports.check_range(day_from, day_to)
    except reports.ReportError as exc:
        raise DomainError("bad_request", detail=exc.message(lang())) from None
    rows = wait_estimates.outcomes(c.store, day_from, day_to)
    out = estimate_accuracy.by_service_week(rows)
    names = {sid: (svc.name, svc.name_en or svc.name) for sid, (_, svc) in c.config.services().items()}
    for row in out["rows"]:
        row["name"], row["name_en"] = names.get(row["service"], (row["service"], row["service"]))
    return jsonify({"from": day_from, "to": day_to, **out})
