"""The booking pages for the công dân's phone: GET /dat-lich (book a time slot) and GET /dat-lich/<code> (one
booking's status, and its cancel with the same CCCD).

Both are public pages with no rule of their own: the booking page reads the departments and services from the
public API (GET /api/v1/departments, /api/v1/services), what can be booked and on which days from
GET /api/v1/booking, the slots from GET /api/v1/booking/slots, and books with POST /api/v1/bookings and /confirm;
the status page asks POST /api/v1/bookings/<code>/lookup and cancels with POST /api/v1/bookings/<code>/cancel
(the CCCD in the body, never in an address). The server hands the page only the centre, today's date and time
(to say "Hôm nay" and leave out the slots already begun) and the province codes a CCCD may start with (the page
checks a number's form before sending it; the server checks it again).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, render_template

from queue_server.core.booking import read_code
from queue_server.core.citizen_card import PROVINCE_CODES

bp = Blueprint("booking_page", __name__)


def _ctx():
    return current_app.extensions["qms"]


def _private(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"  # a status address carries the booking's code
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


def _centre(cfg) -> dict:
    return {"name": cfg.centre.name, "name_en": cfg.centre.name_en, "timezone": cfg.centre.timezone}


@bp.get("/dat-lich")
def booking_page():
    ctx = _ctx()
    cfg = ctx.config
    now = ctx.store.local_now()
    page = {"centre": _centre(cfg), "provinces": sorted(PROVINCE_CODES), "today": now.date().isoformat(),
            "now": now.strftime("%H:%M")}
    return _private(make_response(render_template("ticket_printer/booking.html", page=page, centre=cfg.centre)))


@bp.get("/dat-lich/<code>")
def booking_status_page(code: str):
    cfg = _ctx().config
    code = read_code(code)  # 8 characters of the booking alphabet (no 0/O/1/I/L), as typed or scanned
    if code is None:
        resp = make_response(render_template(
            "ticket_printer/not_found.html", centre=cfg.centre,
            message_vi="Không tìm thấy lịch hẹn này. "
                       "Vui lòng kiểm tra lại mã đặt lịch (8 ký tự).",
            message_en="This booking was not found. Please check the booking code (8 characters)."), 404)
        return _private(resp)
    page = {"centre": _centre(cfg), "code": code, "provinces": sorted(PROVINCE_CODES)}
    return _private(make_response(render_template("ticket_printer/booking_status.html", page=page,
                                                  centre=cfg.centre)))
