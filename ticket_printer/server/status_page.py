"""The ticket status page behind the slip's QR code: GET /t/<token> (public; the secret token is the key).

The page shows the ticket, its service, the people ahead and the counters serving it now, and follows the
ticket live over Socket.IO (room `ticket:<token>`). When the ticket is called it shows the counter large,
vibrates and beeps where the phone allows; after service it links to the rating page /rate/<counter>.
GET /t/<token>/qr.svg draws the same link as a QR code (the kiosk shows it on screen).
"""
from __future__ import annotations

import io

from flask import Blueprint, Response, current_app, make_response, render_template

from queue_server.core.errors import DomainError
from queue_server.store import service_notices

bp = Blueprint("ticket_status", __name__)


def _ctx():
    return current_app.extensions["qms"]


def _private(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"  # the address carries the ticket's secret
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


def _not_found(token: str):
    cfg = _ctx().config
    err = DomainError("ticket_unknown", ticket="")
    resp = make_response(render_template("ticket_printer/not_found.html", centre=cfg.centre,
                                         message_vi="Không tìm thấy số này. Vui lòng kiểm tra lại mã QR trên phiếu.",
                                         message_en="This ticket was not found. Please check the QR code on your slip.",
                                         code=err.code), 404)
    return _private(resp)


@bp.get("/t/<token>")
def status_page(token: str):
    ctx = _ctx()
    try:
        ticket = ctx.store.ticket_by_token(token)
    except DomainError:
        return _not_found(token)
    cfg = ctx.config
    page = {
        "token": token,
        "ticket": ctx.read.ticket_public(ticket),
        "centre": {"name": cfg.centre.name, "name_en": cfg.centre.name_en, "timezone": cfg.centre.timezone},
        "rate_url": "/rate/",
        # a supervisor's message to everyone waiting for this service today (web/broadcasts.py), or None
        "notice": service_notices.notices_today(ctx.store, {ticket["service_id"]}).get(ticket["service_id"]),
    }
    return _private(make_response(render_template("ticket_printer/status.html", page=page, centre=cfg.centre)))


@bp.get("/t/<token>/qr.svg")
def status_qr(token: str):
    import qrcode
    import qrcode.image.svg

    ctx = _ctx()
    try:
        ticket = ctx.store.ticket_by_token(token)
    except DomainError:
        return _not_found(token)
    img = qrcode.make(ctx.read.status_url(ticket), image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return _private(Response(buf.getvalue(), mimetype="image/svg+xml"))
