"""Remote walk-in numbers (docs/remote-numbers.md): a công dân already in the hall takes a walk-in number on the
phone, for the services with `remote_walk_in: true`.

  GET  /api/v1/displays/<id>/remote-qr   the display's QR code of this minute (its device token): the phone
                                         page's address with the proof (core/presence.py), as SVG
  GET  /lay-so/<display id>?m=&p=        the phone page, after a scan: the services it may take, or why not
  POST /api/v1/remote/tickets            take the number: {display, minute, presence, service, phone?, lang?}

A number is refused without a fresh scan, for a service not offered by phone at that display, while this
browser holds an active number of the same service (a cookie of its tickets' secret tokens), and past
remote.per_address tries per client address in remote.window_minutes. Otherwise it is issued by the same store
operation as the kiosk's (open hours, daily cap, number ranges), with source "remote".
"""
from __future__ import annotations

import io
import logging
import re
from typing import Literal

from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from pydantic import Field

from queue_server.accounts import ANONYMOUS
from queue_server.core import presence
from queue_server.core.errors import DomainError
from queue_server.core.rate_limit import Limiter
from queue_server.core.rules import ACTIVE
from queue_server.config import ID_PATTERN
from queue_server.web.toolkit import Body, body, client_address, ctx, require

log = logging.getLogger(__name__)
bp = Blueprint("remote", __name__)

COOKIE = "qms_remote"
COOKIE_TICKETS = 8  # at most this many of the browser's tickets are remembered
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ACTIVE_STATUSES = frozenset(s.value for s in ACTIVE)


class TakeRemote(Body):
    display: str = Field(pattern=ID_PATTERN)
    minute: int = Field(ge=0, le=2**40)
    presence: str = Field(min_length=1, max_length=64)
    service: str = Field(pattern=ID_PATTERN)
    phone: str | None = Field(None, max_length=32)
    lang: Literal["vi", "en"] = "vi"


# ------------------------------------------------------------------ shared rules
def secret() -> str:
    return ctx().config.server.secret_key


def remote_display(display_id: str):
    """The display, if it shows the remote code; else presence_display_off."""
    cfg = ctx().config
    if display_id not in cfg.remote.displays:
        raise DomainError("presence_display_off", display=display_id)
    return next(d for d in cfg.devices.displays if d.id == display_id)


def offers(display_id: str, service_id: str) -> bool:
    """Whether a phone may take this service at this display: remote_walk_in, in the display's departments."""
    cfg = ctx().config
    return (service_id in cfg.services() and cfg.service(service_id).remote_walk_in
            and cfg.department_of(service_id).id in (ctx().push.display_departments(display_id) or set()))


def offered(display_id: str) -> list[dict]:
    """The services a phone may take at this display, with their state now, in config order."""
    return [s for s in ctx().read.services() if offers(display_id, s["id"])]


def limiter() -> Limiter:
    """One limiter per config (a reload with other limits starts again)."""
    cfg = ctx().config.remote
    held = current_app.extensions.get("qms_remote_limiter")
    if held is None or held[0] is not cfg:
        held = (cfg, Limiter(limit=cfg.per_address, window_ms=cfg.window_minutes * 60_000))
        current_app.extensions["qms_remote_limiter"] = held
    return held[1]


def held_tickets() -> list[dict]:
    """This browser's remote tickets still active (from its cookie), oldest first."""
    out = []
    for token in (request.cookies.get(COOKIE) or "").split(".")[:COOKIE_TICKETS]:
        if not _TOKEN.match(token):
            continue
        try:
            t = ctx().store.ticket_by_token(token)
        except DomainError:
            continue
        if t["status"] in ACTIVE_STATUSES and t["source"] == "remote":
            out.append(t)
    return out


def keep_cookie(resp, tickets: list[dict]) -> None:
    tokens = [t["token"] for t in tickets][-COOKIE_TICKETS:]
    resp.set_cookie(COOKIE, ".".join(tokens), max_age=16 * 3600, httponly=True, samesite="Lax",
                    secure=request.is_secure, path="/")


def private(resp):
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"  # the address carries the proof
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


# ------------------------------------------------------------------ the display's code
@bp.get("/api/v1/displays/<display_id>/remote-qr")
def remote_qr(display_id: str):
    p = require("display")
    if p.device_id != display_id:
        raise DomainError("forbidden", reason="a display asks for its own code")
    remote_display(display_id)
    now = ctx().store.now_ms()
    minute = presence.minute_of(now)
    cache = current_app.extensions.setdefault("qms_remote_qr", {})
    key = (display_id, minute, secret(), ctx().config.centre.public_url)
    if display_id not in cache or cache[display_id][0] != key:
        cache[display_id] = (key, qr_answer(display_id, minute))
    taking = any(s["state"] == "open" for s in offered(display_id))  # outside hours the board says so instead
    out = dict(cache[display_id][1], renew_in_ms=presence.renews_in_ms(now), open=taking)
    return private(jsonify(out))


# White modules around the code, as ISO/IEC 18004 asks (4): the board around the picture is dark.
QUIET_ZONE = 4


def qr_answer(display_id: str, minute: int) -> dict:
    import qrcode
    import qrcode.image.svg

    base = ctx().config.centre.public_url.rstrip("/")
    url = f"{base}/lay-so/{display_id}?m={minute}&p={presence.sign(secret(), display_id, minute)}"
    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=QUIET_ZONE)
    buf = io.BytesIO()
    img.save(buf)
    return {"display": display_id, "url": url, "minute": minute, "svg": buf.getvalue().decode("utf-8")}


# ------------------------------------------------------------------ the phone page
@bp.get("/lay-so/<display_id>")
def take_page(display_id: str):
    cfg = ctx().config
    page = {"display": display_id, "centre": {"name": cfg.centre.name, "name_en": cfg.centre.name_en}}
    try:
        disp = remote_display(display_id)
        minute = request.args.get("m", "")
        minute = int(minute) if re.fullmatch(r"[0-9]{1,13}", minute) else -1
        presence.check_proof(secret(), display_id, minute, request.args.get("p", ""), ctx().store.now_ms())
    except DomainError as err:
        page["refused"] = {"error": err.code, "message": err.message("vi"), "message_en": err.message("en")}
        return private(make_response(render_template("remote_take.html", centre=cfg.centre, page=page),
                                     err.http_status))
    held = held_tickets()
    page.update({
        "display_name": disp.name, "minute": minute,
        "presence": presence.sign(secret(), display_id, minute, "page"), "page_minutes": cfg.remote.page_minutes,
        "services": offered(display_id),
        "held": [{"code": t["code"], "service": t["service_id"], "token": t["token"]} for t in held],
    })
    return private(make_response(render_template("remote_take.html", centre=cfg.centre, page=page)))


# ------------------------------------------------------------------ taking the number
@bp.post("/api/v1/remote/tickets")
def take_number():
    req: TakeRemote = body(TakeRemote)
    c = ctx()
    cfg = c.config
    remote_display(req.display)
    wait_ms = limiter().admit(client_address(), c.store.now_ms())
    if wait_ms:
        raise DomainError("too_many_remote_tickets", retry_after=max(1, -(-wait_ms // 1000)))
    presence.check_pass(secret(), req.display, req.minute, req.presence, c.store.now_ms(), cfg.remote.page_minutes)
    if req.service not in cfg.services():
        raise DomainError("service_unknown", service=req.service)
    if not offers(req.display, req.service):
        raise DomainError("remote_not_offered", service=cfg.service(req.service).name)
    phone = presence.mobile_number(req.phone) if req.phone and req.phone.strip() else None
    held = held_tickets()
    same = next((t for t in held if t["service_id"] == req.service), None)
    if same is not None:
        raise DomainError("remote_ticket_active", code=same["code"], status_url=f"/t/{same['token']}")
    wait = c.read.wait_for_new(req.service)  # from the board made before the write, as for the kiosk
    result = c.store.issue(req.service, source="remote", phone=phone, lang=req.lang,
                           actor=f"remote@{req.display}")
    c.push.publish(result)
    out = c.read.issued(result, wait)
    out["issued_by"] = f"remote@{req.display}"
    for hook in c.commands.after_issue:  # the wait estimate's record; a slip is printed for kiosks only
        try:
            hook(ANONYMOUS, result, out)
        except Exception:  # noqa: BLE001 - the ticket is committed; a failing hook must not lose it
            log.exception("after_issue hook failed for ticket %s", out.get("id"))
    out["status_path"] = f"/t/{out['token']}"
    resp = make_response(jsonify(out), 201)
    keep_cookie(resp, [*held, result.ticket])
    return private(resp)

