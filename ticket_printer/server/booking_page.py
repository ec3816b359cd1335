"""The booking pages for the công dân's phone: GET /dat-lich (book a time slot) and GET /dat-lich/<code> (one
booking's status, and its cancel with the same CCCD).

Both are public pages with no rule of their own: the booking page reads the departments and services from the
public API (GET /api/v1/departments, /api/v1/services), the slots from GET /api/v1/booking/slots and books with
POST /api/v1/bookings and /confirm; the status page asks GET /api/v1/bookings/<code>?cccd= and cancels with
POST /api/v1/bookings/<code>/cancel. The server hands the page only what it needs to draw the steps: the centre,
today's date and the bookable days, the arrival window's minutes, the OTP's length and the province codes a CCCD
may start with (the page checks a number's form before sending it; the server checks it again).
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, make_response, render_template

from queue_server.core.citizen_card import PROVINCE_CODES

bp = Blueprint("booking_page", __name__)

# A booking code: 8 characters of the agreed alphabet (no 0/O/1/I/L), as the booking QR and the confirmation show it.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{8}}")


def _ctx():
    return current_app.extensions["qms"]


def _private(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"  # a status address carries the booking's code
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


def _centre(cfg) -> dict:
    return {"name": cfg.centre.name, "name_en": cfg.centre.name_en, "timezone": cfg.centre.timezone}


def _booking_facts(ctx) -> dict:
    """Today, the bookable days and the settings the page shows, as the booking rules give them."""
    from queue_server.core import booking as rules

    cfg = ctx.config
    settings = cfg.booking
    now = ctx.store.now()
    today = now.astimezone(cfg.tz).date()
    days = rules.bookable_days(cfg, today)
    return {
        "enabled": bool(settings.enabled),
        "today": today.isoformat(),
        "days": [d.isoformat() for d in days],
        "services": sorted(rules.bookable_service_ids(cfg)),
        "arrive_before_minutes": settings.arrive_before_minutes,
        "arrive_after_minutes": settings.arrive_after_minutes,
        "otp_digits": settings.otp.digits,
    }


@bp.get("/dat-lich")
def booking_page():
    ctx = _ctx()
    cfg = ctx.config
    page = {"centre": _centre(cfg), "provinces": sorted(PROVINCE_CODES), **_booking_facts(ctx)}
    return _private(make_response(render_template("ticket_printer/booking.html", page=page, centre=cfg.centre)))


@bp.get("/dat-lich/<code>")
def booking_status_page(code: str):
    cfg = _ctx().config
    code = code.strip().upper()
    if not CODE_RE.fullmatch(code):
        resp = make_response(render_template(
            "ticket_printer/not_found.html", centre=cfg.centre,
            message_vi="Không tìm thấy lịch hẹn này. Vui lòng kiểm tra lại mã đặt lịch (8 ký tự).",
            message_en="This booking was not found. Please check the booking code (8 characters)."), 404)
        return _private(resp)
    page = {"centre": _centre(cfg), "code": code, "provinces": sorted(PROVINCE_CODES)}
    return _private(make_response(render_template("ticket_printer/booking_status.html", page=page,
                                                  centre=cfg.centre)))
