"""The ticket machine's web side: the kiosk page, the procedure search API, and the catalogue import at start.

GET /kiosk/<kiosk_id> serves the touch-screen page. The page never receives the kiosk's device token from the
server: it is given once in the address (`/kiosk/kiosk-1?token=...`, e.g. the kiosk browser's start URL) or
typed on the page's setup screen; the page keeps it in the browser's localStorage, removes it from the address
bar, and checks it with GET /api/v1/me before use. Anyone may open the page; without the token it cannot issue,
and citizens see "Máy đang bảo trì". The setup screen opens only with the kiosk's staff PIN
(`devices.kiosks[].setup_pin`), checked by POST /api/v1/kiosks/<kiosk_id>/setup-pin; the PIN only opens the
form: the token typed there is what the server checks.

GET /api/v1/procedures?q=... is public: the catalogue search (diacritics and case ignored) with, for each
procedure, the service it is queued in and that service's state now; a procedure handled elsewhere (its
`elsewhere` says where) has the state "elsewhere", and the kiosk issues no ticket for it.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from pydantic import Field

from queue_server.core.errors import DomainError
from queue_server.store import queue_reads
from queue_server.web.toolkit import Body, body

from ticket_printer.server.catalogue_store import ProcedureStore, import_on_start
from ticket_printer.server.status_page import bp as status_bp

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ticket-printer/static")
bp.register_blueprint(status_bp)

MAX_QUERY = 100


@bp.record_once
def _setup(state) -> None:
    """One ProcedureStore per app; catalogue.file is imported when the catalogue is empty."""
    app = state.app
    ctx = app.extensions["qms"]
    procedures = ProcedureStore(ctx.store)
    app.extensions["qms_procedures"] = procedures
    import_on_start(procedures, ctx.config)


def ctx():
    return current_app.extensions["qms"]


def procedures_store() -> ProcedureStore:
    return current_app.extensions["qms_procedures"]


def kiosk_config(kiosk_id: str):
    return next((k for k in ctx().config.devices.kiosks if k.id == kiosk_id), None)


# ------------------------------------------------------------------ the page
@bp.get("/kiosk/<kiosk_id>")
def kiosk_page(kiosk_id: str):
    cfg = ctx().config
    kiosk = kiosk_config(kiosk_id)
    if kiosk is None:
        err = DomainError("kiosk_unknown", kiosk=kiosk_id)
        return render_template("ticket_printer/not_found.html", centre=cfg.centre, message_vi=err.message("vi"),
                               message_en=err.message("en")), 404
    departments = {d.id for d in cfg.departments}
    page = {
        "kiosk": {"id": kiosk.id, "name": kiosk.name, "name_en": kiosk.name_en, "idle_seconds": kiosk.idle_seconds,
                  "setup_pin": bool(kiosk.setup_pin),
                  "departments": [d for d in kiosk.departments if d in departments], "printer": kiosk.printer is not None},
        "centre": {"name": cfg.centre.name, "name_en": cfg.centre.name_en, "timezone": cfg.centre.timezone},
        "catalogue": procedures_store().count() > 0, "demo": cfg.centre.demo,
        "footer": cfg.centre.slip_footer, "footer_en": cfg.centre.slip_footer_en,
        # check-in of online bookings (kiosk-checkin.js), and the groups a citizen ID card's age gives
        "booking": bool(getattr(getattr(cfg, "booking", None), "enabled", False)),
        "age_groups": [{"id": g.id, "name": g.name, "name_en": g.name_en, "min_age": g.min_age}
                       for g in cfg.priority.groups if g.min_age is not None],
    }
    resp = make_response(render_template("ticket_printer/kiosk.html", page=page, centre=cfg.centre))
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


class KioskPinBody(Body):
    pin: str = Field(pattern=r"^[0-9]{4,12}$")


@bp.post("/api/v1/kiosks/<kiosk_id>/setup-pin")
def check_setup_pin(kiosk_id: str):
    """The staff PIN that opens a kiosk's setup screen: 204 when right; 403 when wrong or when the kiosk has none."""
    kiosk = kiosk_config(kiosk_id)
    if kiosk is None:
        raise DomainError("kiosk_unknown", kiosk=kiosk_id)
    pin = body(KioskPinBody).pin
    if not kiosk.setup_pin or not hmac.compare_digest(pin.encode(), kiosk.setup_pin.encode()):
        raise DomainError("forbidden", reason="setup PIN")
    return "", 204


# ------------------------------------------------------------------ the catalogue search
def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DomainError("bad_request", detail=f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise DomainError("bad_request", detail=f"{name} must be between {low} and {high}")
    return value


def _service_states(service_ids: set[str]) -> dict[str, dict]:
    """State, waiting and estimated wait of a few services (those a search found), as read.services() gives
    them for all; reading only these keeps a search fast."""
    if not service_ids:
        return {}
    store, read = ctx().store, ctx().read
    day = store.today()
    waiting = store.waiting_counts()
    out = {}
    for sid in service_ids:
        st = queue_reads.service_status(store, sid, day)
        out[sid] = {"state": "open" if st.open else ("full" if st.reason == "full" else "closed"), "reason": st.reason,
                    "opens_at": st.opens_at, "waiting": waiting[sid],
                    "estimated_wait_minutes": (read.wait_for_service(sid) or {}).get("minutes"),
                    "wait": read.wait_for_service(sid)}
    return out


@bp.get("/api/v1/procedures")
def procedures():
    q = request.args.get("q", "").strip()
    if len(q) > MAX_QUERY:
        raise DomainError("bad_request", detail=f"q is longer than {MAX_QUERY} characters")
    limit = _int_arg("limit", 20, 1, 500)
    cfg = ctx().config
    services = cfg.services()
    allowed: set[str] | None = None
    service = request.args.get("service")
    if service:
        if service not in services:
            raise DomainError("service_unknown", service=service)
        allowed = {service}
    department = request.args.get("department")
    if department:
        if department not in {d.id for d in cfg.departments}:
            raise DomainError("bad_request", detail=f"there is no department {department!r}")
        allowed = {s for s in (allowed or services) if services[s][0].id == department}
    kiosk_id = request.args.get("kiosk")
    if kiosk_id:
        kiosk = kiosk_config(kiosk_id)
        if kiosk is None:
            raise DomainError("kiosk_unknown", kiosk=kiosk_id)
        if kiosk.departments:
            allowed = {s for s in (allowed or services) if services[s][0].id in kiosk.departments}
    # Procedures of a service no longer in config.yaml cannot be issued: they are left out.
    allowed = set(services) if allowed is None else allowed

    index = procedures_store().index()
    if q:
        found, matches = index.search_counted(q, limit, allowed)
        hits = [(h.procedure, h.score) for h in found]
    else:
        every = [(e.procedure, None) for e in index.entries
                 if e.procedure.service in allowed or (e.procedure.elsewhere and not e.procedure.service)]
        hits, matches = every[:limit], len(every)
    states = _service_states({p.service for p, _ in hits if p.service and not p.elsewhere})
    depts = {d.id: d for d in cfg.departments}
    out = []
    for p, score in hits:
        dept, svc = services[p.service] if p.service else (depts.get(p.department), None)
        if p.elsewhere:  # not handled here: no queue, no ticket
            st = {"state": "elsewhere", "reason": None, "opens_at": None, "waiting": 0, "estimated_wait_minutes": None,
                  "wait": None}
        else:
            st = states[p.service]
        out.append({"code": p.code, "name": p.name, "name_en": p.name_en, "field": p.field, "field_en": p.field_en,
                    "processing_time": p.processing_time, "processing_time_en": p.processing_time_en,
                    "fee": p.fee, "fee_en": p.fee_en, "agency": p.agency, "level": p.level,
                    "elsewhere": p.elsewhere, "elsewhere_en": p.elsewhere_en,
                    "service": p.service or None, "service_name": svc.name if svc else None,
                    "service_name_en": svc.name_en if svc else None, "department": dept.id if dept else None,
                    "department_name": dept.name if dept else None, "department_name_en": dept.name_en if dept else None,
                    "state": st["state"], "reason": st["reason"], "opens_at": st["opens_at"], "waiting": st["waiting"],
                    "estimated_wait_minutes": st["estimated_wait_minutes"], "wait": st["wait"], "score": score})
    return jsonify(q=q, count=len(out), matches=matches, total=len(index), procedures=out)
