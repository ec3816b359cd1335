"""Online bookings over REST (docs/booking.md, docs/api.md "Bookings"): what can be booked, a day's slots, a
booking held and its one-time code sent, confirmed, cancelled, looked up by its holder, and checked in at a kiosk.

One pydantic model per action; every refusal is a DomainError with its code (slot_full, booking_limit, otp_attempts,
outside_window, booking_unknown, ...). A client address gets `booking.attempts_per_minute` of the citizen's
requests (kiosks and staff are not counted). The rules are in core/booking.py, the rows in store/bookings.py.
"""
from __future__ import annotations

import base64
import re

from flask import Blueprint, current_app, jsonify, request
from pydantic import Field

from queue_server.core import booking as B
from queue_server.core.citizen_card import parse_card_qr
from queue_server.core.errors import DomainError
from queue_server.core.rate_limit import Limiter
from queue_server.store import bookings as rows
from queue_server.store.rows import OpResult
from queue_server.web.toolkit import Body, body, client_address, ctx, principal, require

bp = Blueprint("bookings", __name__, url_prefix="/api/v1")

Text = Field(min_length=1, max_length=40)
REF = re.compile(r"[A-Za-z0-9_-]{8,40}")


class CreateBooking(Body):
    service: str = Field(min_length=1, max_length=40)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    cccd: str = Field(min_length=1, max_length=20)
    phone: str = Field(min_length=1, max_length=20)
    lang: str = Field("vi", pattern=r"^(vi|en)$")


class ConfirmBooking(Body):
    otp: str = Field(pattern=r"^\d{4,8}$")


class CancelBooking(Body):
    """A cancel, or a look-up, by the holder: the same CCCD."""

    cccd: str = Field(min_length=1, max_length=20)


class CheckIn(Body):
    code: str | None = Field(None, min_length=1, max_length=40)
    cccd_qr: str | None = Field(None, min_length=1, max_length=1000)


def limiter() -> Limiter:
    """One limiter per config (a reload with a new rate starts a new one)."""
    cfg = ctx().config.booking
    held = current_app.extensions.get("qms_bookings")
    if held is None or held[0] is not cfg:
        held = (cfg, Limiter(limit=cfg.attempts_per_minute, window_ms=60_000))
        current_app.extensions["qms_bookings"] = held
    return held[1]


def admit() -> None:
    p = principal()
    if p.kind == "staff" or (p.kind == "device" and p.device_kind == "kiosk"):
        return
    wait_ms = limiter().admit(client_address(), ctx().store.now_ms())
    if wait_ms:
        raise DomainError("too_many_bookings", retry_after=max(1, -(-wait_ms // 1000)))


def _ref(ref: str) -> str:
    if not REF.fullmatch(ref):
        raise DomainError("booking_unknown")
    return ref


def _code(text: str) -> str:
    code = B.read_code(text)
    if code is None:
        raise DomainError("booking_unknown")
    return code


def published(write, *args, **kw):
    """A booking write, its events pushed after COMMIT (also when it refused after logging, e.g. a hold dropped
    after too many wrong codes), so this process knows their seqs as its own."""
    result = OpResult()
    try:
        return write(ctx().store, *args, result=result, **kw)
    finally:
        if result.events:
            ctx().push.publish(result)


def _identity(cccd: str) -> str:
    return B.check_identity(cccd, ctx().store.local_now().date())


def qr_data_uri(text: str) -> str:
    """The QR code of `text` as an SVG data URI (what the booking page shows and the kiosk's scanner reads): one
    square per dark module, drawn from the qrcode library's matrix (its own SVG writer takes several times longer,
    and a confirmation is on the rush's path)."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    size = len(matrix)
    path = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
           f'<rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{path}"/></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii")


def status_url(code: str) -> str:
    return f"{ctx().config.centre.public_url.rstrip('/')}/dat-lich/{code}"


# ------------------------------------------------------------------ reads
@bp.get("/booking")
def booking_info():
    """What can be booked: the services taking bookings (with their department) and the days open now."""
    c = ctx()
    cfg = c.config.booking
    services = []
    for sid in rows.booking_services(c.store):
        dept, svc = c.config.services()[sid]
        services.append({"id": sid, "name": svc.name, "name_en": svc.name_en, "department": dept.id,
                         "department_name": dept.name, "department_name_en": dept.name_en})
    return jsonify(enabled=cfg.enabled, services=services,
                   days=[d.isoformat() for d in rows.open_days(c.store)] if cfg.enabled else [],
                   slot_minutes=cfg.slot_minutes, arrive_before_minutes=cfg.arrive_before_minutes,
                   arrive_after_minutes=cfg.arrive_after_minutes, otp_digits=cfg.otp.digits,
                   otp_ttl_seconds=cfg.otp.ttl_seconds)


@bp.get("/booking/slots")
def booking_slots():
    service, day = request.args.get("service", ""), request.args.get("date", "")
    if not service or len(service) > 40:
        raise DomainError("bad_request", detail="service is required")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise DomainError("bad_request", detail="date must be YYYY-MM-DD")
    return jsonify(slots=rows.slots(ctx().store, service, day))


@bp.get("/bookings/<code>")
def booking_status(code: str):
    """A booking for its holder: the code and the same CCCD (?cccd=). A query string ends up in access logs:
    pages use POST .../lookup, which carries the CCCD in the body."""
    admit()
    cccd = request.args.get("cccd", "")
    if not cccd or len(cccd) > 20:
        raise DomainError("booking_unknown")
    return jsonify(booking=rows.by_code(ctx().store, _code(code), _identity(cccd)))


@bp.post("/bookings/<code>/lookup")
def booking_lookup(code: str):
    """The same as GET /bookings/<code>?cccd=, with the CCCD in the body (never in a URL, a log or a history)."""
    a = body(CancelBooking)
    admit()
    return jsonify(booking=rows.by_code(ctx().store, _code(code), _identity(a.cccd)))


# ------------------------------------------------------------------ the citizen's writes
@bp.post("/bookings")
def create_booking():
    a = body(CreateBooking)
    admit()  # a body that is not even well formed costs nothing more than its 400
    id_number = _identity(a.cccd)
    phone = B.normalise_phone(a.phone)
    made = published(rows.create, service_id=a.service, day_text=a.date, start=a.start, id_number=id_number,
                     phone=phone, lang=a.lang)
    return jsonify(booking_id=made["booking_id"], otp_sent=True), 202


@bp.post("/bookings/<booking_id>/resend")
def resend_code(booking_id: str):
    admit()
    return jsonify(rows.resend(ctx().store, _ref(booking_id))), 202


@bp.post("/bookings/<booking_id>/confirm")
def confirm_booking(booking_id: str):
    a = body(ConfirmBooking)
    admit()  # a body that is not even well formed costs nothing more than its 400
    got = published(rows.confirm, _ref(booking_id), a.otp)
    return jsonify(code=got["code"], qr=qr_data_uri(got["code"]), service=got["service"], date=got["date"],
                   start=got["start"], end=got["end"], arrive_from=got["arrive_from"],
                   arrive_until=got["arrive_until"], status_url=status_url(got["code"])), 201


@bp.post("/bookings/<code>/cancel")
def cancel_booking(code: str):
    a = body(CancelBooking)
    admit()  # a body that is not even well formed costs nothing more than its 400
    return jsonify(booking=published(rows.cancel, _code(code), _identity(a.cccd)))


# ------------------------------------------------------------------ the kiosk
@bp.post("/bookings/check-in")
def check_in():
    """A kiosk checks a booking in by its code (typed, or its QR scanned) or by the citizen's CCCD QR: the ticket
    is issued (source online), pushed and printed like any kiosk ticket."""
    p = require("kiosk", "staff")
    a = body(CheckIn)
    c = ctx()
    if (a.code is None) == (a.cccd_qr is None):
        raise DomainError("bad_request", detail="send code or cccd_qr")
    if a.code is not None:
        found = rows.find_for_check_in(c.store, code=_code(a.code))
    else:
        card = parse_card_qr(a.cccd_qr, c.store.local_now().date())
        found = rows.find_for_check_in(c.store, id_number=card.number)
    # Told the walk-in's estimate of its service, from the board made before the write: an upper bound, as a due
    # booked ticket is called ahead of walk-ins (rules.md); the next board counts it in its place.
    wait = c.read.wait_for_new(found["service_id"])
    result = rows.check_in(c.store, found, actor=p.name)
    c.push.publish(result)
    out = c.read.issued(result, wait)
    out["issued_by"] = p.device_id if p.kind == "device" else p.username
    for hook in c.commands.after_issue:  # the slip, the wait estimate: as for any issued ticket
        try:
            hook(p, result, out)
        except Exception:  # noqa: BLE001 - the ticket is committed; a failing hook must not lose it
            current_app.logger.exception("after_issue hook failed for booked ticket %s", out.get("id"))
    return jsonify(ticket=out, booking=rows.get(c.store, found["id"])), 201
