"""Ratings over HTTP: keypad agents and the rating page deliver them; supervisors read them.

  POST /api/v1/ratings                 a keypad agent (agent token, `keypad`) or the rating page (`counter`)
  POST /api/v1/ratings/<id>/reason     the reason for a low rating (from rating.low_reasons)
  GET  /api/v1/ratings?day=            supervisors: the day's ratings, figures and suspicious patterns
  GET  /api/v1/tickets/<id>/rating     staff: a ticket's counted rating and how often it was pressed
  GET  /api/v1/keypads                 a keypad agent: the keypads it reads and the rating scale
  GET  /api/v1/rate/<counter>          the rating page: what it may rate now
  GET  /rate/<counter>                 the rating page (tablet at the counter, or a PC with a USB keypad)

The rating page without a token may rate only the ticket its counter finished within rating.window_seconds,
naming that ticket; docs/keypad-protocol.md ("The rating page") explains the choice and its abuse limits.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from pydantic import Field

from queue_server.web.toolkit import Body, body, client_address, client_tag, ctx, lang, principal, require
from queue_server.core.errors import DomainError
from queue_server.core.rate_limit import Limiter

from feedback_buttons.server.recorder import RatingIn, RatingRecorder

log = logging.getLogger(__name__)

bp = Blueprint("ratings", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/ratings")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RatingBody(Body):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
    keypad: str | None = Field(None, min_length=1, max_length=40)
    counter: str | None = Field(None, min_length=1, max_length=40)
    button: str | None = Field(None, pattern=r"^[0-9]{1,2}$")
    level: int | None = Field(None, ge=1, le=10)
    ticket: int | None = Field(None, ge=1, le=2**53)
    ticket_token: str | None = Field(None, min_length=8, max_length=64)  # the slip's secret (phone page)
    age_ms: int = Field(0, ge=0, le=2**53)
    seq: int | None = Field(None, ge=0, le=65535)  # the keypad's own sequence number (informative)


class ReasonBody(Body):
    reason: str = Field(min_length=1, max_length=200)
    ticket_token: str | None = Field(None, min_length=8, max_length=64)  # a phone's slip: its own rating only


def recorder() -> RatingRecorder:
    return current_app.extensions["qms_ratings"]


def _agent_may_read(p, keypad) -> None:
    """An agent token may deliver a keypad's ratings if the agent drives keypads and the keypad is its own."""
    cfg = ctx().config
    agent = next((a for a in cfg.devices.agents if a.id == p.device_id), None)
    if agent is not None and agent.kind not in ("keypad", "any"):
        raise DomainError("forbidden", reason=f"agent {agent.id} drives {agent.kind} devices, not keypads")
    if keypad is not None and keypad.agent not in (None, p.device_id):
        raise DomainError("forbidden", reason=f"keypad {keypad.id} is read by agent {keypad.agent}")


def _limit_stranger() -> None:
    """Ratings and reasons without a device token: at most rating.anonymous_per_minute per client address
    (counted in this process), then 429 with retry_after."""
    limiter = current_app.extensions["qms_rating_limiter"]
    limit = ctx().config.rating.anonymous_per_minute
    if limiter.limit != limit:  # a config reload changed it
        limiter.limit = limit
    wait_ms = limiter.admit(client_address(), ctx().store.now_ms())
    if wait_ms:
        raise DomainError("too_many_ratings", retry_after=max(1, -(-wait_ms // 1000)))


def _page_caller(counter_id: str) -> tuple[bool, str]:
    """Who delivers for the rating page: (anonymous, actor). Officers never rate their own service. Outside a
    demo a stranger needs the counter's device token (or the slip's secret, handled by the caller)."""
    p = principal()
    cfg = ctx().config
    if p.kind == "anonymous":
        if cfg.rating_token_required():
            raise DomainError("unauthenticated")
        _limit_stranger()
        return True, f"anonymous@{client_tag()}"
    if p.kind == "staff":
        raise DomainError("forbidden", reason="staff accounts do not give ratings")
    if p.device_kind == "agent":
        _agent_may_read(p, None)
        return False, p.name
    if p.device_kind == "display":
        disp = next((d for d in cfg.devices.displays if d.id == p.device_id), None)
        if disp is not None and disp.kind == "counter" and disp.counter == counter_id:
            return False, p.name
    raise DomainError("forbidden", reason=f"this token may not rate at counter {counter_id}")


@bp.post("/api/v1/ratings")
def post_rating():
    b = body(RatingBody)
    if (b.keypad is None) == (b.counter is None):
        raise DomainError("bad_request", detail="send keypad (a keypad agent) or counter (the rating page), not both")
    if (b.button is None) == (b.level is None):
        raise DomainError("bad_request", detail="send button or level, not both")
    rec = recorder()
    if b.keypad is not None:
        p = require("agent", reason="keypad ratings come from keypad agents")
        keypad = rec.keypad(b.keypad)
        _agent_may_read(p, keypad)
        rin = RatingIn(b.id, keypad.counter, f"keypad:{keypad.id}", b.button, b.level, b.age_ms, actor=p.name)
    else:
        ticket = b.ticket
        if b.ticket_token is not None:  # a phone holding the slip: the secret token names the ticket
            ticket = ctx().store.ticket_by_token(b.ticket_token)["id"]
            if b.ticket is not None and b.ticket != ticket:
                raise DomainError("bad_request", detail="ticket and ticket_token name different tickets")
            _limit_stranger()
            anonymous, actor = True, f"slip@{client_tag()}"
        else:
            anonymous, actor = _page_caller(b.counter)
        if anonymous and ticket is None:
            raise DomainError("bad_request", detail="ticket is required: the rating page rates the ticket it shows")
        rin = RatingIn(b.id, b.counter, f"tablet:{b.counter}", b.button, b.level, b.age_ms, ticket=ticket,
                       anonymous=anonymous, actor=actor)
    view, created = rec.record(rin)
    return jsonify(rating=view, duplicate=not created), (201 if created else 200)


@bp.post("/api/v1/ratings/<rating_id>/reason")
def post_reason(rating_id: str):
    b = body(ReasonBody)
    p = principal()
    if p.kind == "staff":
        raise DomainError("forbidden", reason="staff accounts do not give ratings")
    anonymous = p.kind == "anonymous"
    if anonymous:
        if ctx().config.rating_token_required() and not _slip_may_give_reason(rating_id, b.ticket_token):
            raise DomainError("unauthenticated")
        _limit_stranger()
    actor = f"anonymous@{client_tag()}" if anonymous else p.name
    return jsonify(rating=recorder().set_reason(rating_id, b.reason, anonymous=anonymous, actor=actor))


@bp.get("/api/v1/ratings")
def get_ratings():
    require("supervisor")
    day = request.args.get("day") or ctx().store.today()
    if not DAY.match(day):
        raise DomainError("bad_request", detail="day must be YYYY-MM-DD")
    return jsonify(recorder().day(day))


@bp.get("/api/v1/tickets/<int:ticket_id>/rating")
def get_ticket_rating(ticket_id: int):
    require("staff")
    return jsonify(recorder().of_ticket(ticket_id))


@bp.get("/api/v1/keypads")
def get_keypads():
    p = require("supervisor", "agent", reason="keypad agents and supervisors only")
    cfg = ctx().config
    if p.kind == "staff":
        mine = list(cfg.devices.keypads)
    elif p.device_kind == "agent":
        _agent_may_read(p, None)
        owned = cfg.devices.agent_devices(p.device_id)
        mine = [k for k in cfg.devices.keypads if ("keypad", k.id) in owned]
    else:
        raise DomainError("forbidden", reason="keypad agents and supervisors only")
    return jsonify(agent=p.device_id, keypads=[k.model_dump(mode="json") for k in mine],
                   rating={"buttons": cfg.rating.buttons, "levels": [lv.value for lv in cfg.rating.levels]},
                   timeouts={"serial_reconnect_max_seconds": cfg.devices.timeouts.get("serial_reconnect_max_seconds", 30)})


def _slip_may_give_reason(rating_id: str, ticket_token: str | None) -> bool:
    """A phone holding the slip may give the reason of the rating of that slip's ticket."""
    if ticket_token is None:
        return False
    ticket = ctx().store.ticket_by_token(ticket_token)["id"]
    return recorder().ticket_of_rating(rating_id) == ticket


@bp.get("/api/v1/rate/<counter_id>")
def get_rate_state(counter_id: str):
    """What the rating page may rate now. Outside a demo a stranger reads it only with a slip's secret
    (`?ticket=`): the ticket a counter just finished is not announced to the whole network."""
    ticket_token = request.args.get("ticket") or None
    if ticket_token is None:
        _page_caller_may_read(counter_id)
    return jsonify(recorder().target(counter_id, ticket_token=ticket_token))


def _page_caller_may_read(counter_id: str) -> None:
    p = principal()
    if p.kind == "anonymous" and not ctx().config.rating_token_required():
        return
    _page_caller(counter_id)


@bp.get("/rate/<counter_id>")
def rate_page(counter_id: str):
    cfg = ctx().config
    try:
        counter = cfg.counter(counter_id)
    except KeyError:
        raise DomainError("counter_unknown", counter=counter_id) from None
    page = {"counter": {"id": counter.id, "number": counter.number, "name": counter.name or f"Quầy {counter.number}"},
            "scale": cfg.rating.scale, "levels": [lv.model_dump(mode="json") for lv in cfg.rating.levels],
            "buttons": cfg.rating.buttons,
            "low_reasons": cfg.rating.low_reasons, "idle_seconds": cfg.rating.tablet_idle_seconds,
            "window_seconds": cfg.rating.window_seconds, "token_required": cfg.rating_token_required(),
            "centre": cfg.centre.name, "centre_en": cfg.centre.name_en, "lang": lang()}
    resp = make_response(render_template("ratings/rate.html", page=page, counter=page["counter"], centre=cfg.centre))
    resp.headers["Referrer-Policy"] = "no-referrer"  # the address may carry a device token or a slip's secret
    return resp


def init_app(app, ctx) -> None:
    """Register the recorder and the routes."""
    app.extensions["qms_ratings"] = RatingRecorder(ctx.store, ctx.push)
    app.extensions["qms_rating_limiter"] = Limiter(limit=ctx.config.rating.anonymous_per_minute, window_ms=60_000)
    app.register_blueprint(bp)


def start_keypads(app, ctx) -> None:
    """Start the in-server reader for keypads with run_in: server (none: nothing starts)."""
    from feedback_buttons.server.inserver import start_in_server

    try:
        app.extensions["qms_keypads"] = start_in_server(ctx, app.extensions["qms_ratings"])
    except Exception:  # noqa: BLE001 - a keypad problem must never stop the server
        log.exception("the in-server keypad reader did not start")

