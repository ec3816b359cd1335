"""REST API under /api/v1 (JSON). Every route is listed in docs/api.md; a test checks that."""
from __future__ import annotations

from typing import Literal

from flask import Blueprint, jsonify, request
from pydantic import Field

from queue_server.core.rules import UNSET
from queue_server.core.errors import DomainError
from queue_server.web.toolkit import Body, bearer, body, ctx, lang, principal  # noqa: F401 - re-exported for older imports

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class LoginBody(Body):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class IssueBody(Body):
    service: str = Field(min_length=1, max_length=80)
    priority: bool = False
    priority_group: str | None = None


class NextBody(Body):
    current: int | None = None  # the ticket the counter shows now: a repeated press calls nobody new


class CallBody(Body):
    code: str = Field(min_length=1, max_length=20)
    service: str | None = None


class TicketActionBody(Body):
    counter: str | None = None


class TransferBody(Body):
    counter: str | None = None
    service: str | None = None
    to_counter: str | None = None
    go_last: bool = False


class ServiceBody(Body):
    state: Literal["open", "closed", "auto"] | None = None
    daily_cap: int | None = Field(None, ge=0, le=100_000)
    reset_cap: bool = False


class AssignBody(Body):
    services: list[str] | None


class DeviceStatusBody(Body):
    state: str = Field(min_length=2, max_length=24)
    detail: str = Field("", max_length=300)


# ------------------------------------------------------------------ accounts
@bp.post("/login")
def login():
    b = body(LoginBody)
    got = ctx().accounts.login(b.username, b.password)
    if got is None:
        raise DomainError("invalid_credentials")
    token, p = got
    counters = [ctx().read.counter_state(ctx().store.counter(c)) for c in p.counters]
    return jsonify(token=token, staff=p.public(), counters=counters)


@bp.post("/logout")
def logout():
    p = principal()
    if p.kind != "staff":
        raise DomainError("unauthenticated")
    ctx().accounts.logout(bearer())
    return jsonify(ok=True)


@bp.get("/me")
def me():
    return jsonify(principal().public())


# ------------------------------------------------------------------ public reads
@bp.get("/services")
def services():
    return jsonify(services=ctx().read.services())


@bp.get("/departments")
def departments():
    return jsonify(departments=ctx().read.departments())


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int):
    return jsonify(ctx().read.ticket_public(ctx().store.ticket(ticket_id)))


@bp.get("/status/<token>")
def ticket_by_token(token: str):
    return jsonify(ctx().read.ticket_public(ctx().store.ticket_by_token(token)))


@bp.get("/displays/<display_id>")
def display_feed(display_id: str):
    push = ctx().push
    if push.display_departments(display_id) is None:
        raise DomainError("display_unknown", display=display_id)
    return jsonify(seq=ctx().store.last_seq(), state=push.snapshot(f"display:{display_id}"))


# ------------------------------------------------------------------ staff and device reads
@bp.get("/state")
def state():
    p = principal()
    if p.kind == "anonymous":
        raise DomainError("unauthenticated")
    seq = ctx().store.last_seq()
    return jsonify(seq=seq, services=ctx().read.services(), departments=ctx().read.departments(),
                   counters=[ctx().read.counter_state(c) for c in ctx().store.counters()])


@bp.get("/counters")
def counters():
    if principal().kind == "anonymous":
        raise DomainError("unauthenticated")
    return jsonify(counters=[ctx().read.counter_state(c) for c in ctx().store.counters()])


@bp.get("/counters/<counter_id>")
def counter(counter_id: str):
    if principal().kind == "anonymous":
        raise DomainError("unauthenticated")
    return jsonify(ctx().push.snapshot(f"counter:{counter_id}") if _known_counter(counter_id) else {})


def _known_counter(counter_id: str) -> bool:
    ctx().store.counter(counter_id)  # raises counter_unknown
    return True


@bp.get("/events")
def events():
    p = principal()
    ctx().commands.need_staff(p)
    try:
        since = int(request.args.get("since", "0"))
        limit = min(1000, max(1, int(request.args.get("limit", "500"))))
    except ValueError:
        raise DomainError("bad_request", detail="since and limit must be whole numbers") from None
    return jsonify(events=ctx().store.events_since(since, limit), last_seq=ctx().store.last_seq())


# ------------------------------------------------------------------ issuing
@bp.post("/tickets")
def issue():
    b = body(IssueBody)
    out = ctx().commands.issue(principal(), b.service, b.priority, b.priority_group)
    return jsonify(out), 201


# ------------------------------------------------------------------ counter actions
@bp.post("/counters/<counter_id>/next")
def call_next(counter_id: str):
    b = body(NextBody, optional=True)
    expect = b.current if "current" in b.model_fields_set else UNSET
    return jsonify(ctx().commands.counter_op(principal(), counter_id, "next", expect_current=expect))


@bp.post("/counters/<counter_id>/call")
def call_code(counter_id: str):
    b = body(CallBody)
    return jsonify(ctx().commands.counter_op(principal(), counter_id, "call", code=b.code, service=b.service))


def _counter_state_route(op: str):
    def view(counter_id: str):
        body(TicketActionBody, optional=True)
        return jsonify(ctx().commands.counter_op(principal(), counter_id, op))
    view.__name__ = f"counter_{op}"
    bp.add_url_rule(f"/counters/<counter_id>/{op}", view_func=view, methods=["POST"])


for _op in ("open", "break", "close"):
    _counter_state_route(_op)


def _ticket_route(path: str, op: str):
    def view(ticket_id: int):
        if op == "transfer":
            b = body(TransferBody)
            return jsonify(ctx().commands.ticket_op(principal(), ticket_id, op, counter=b.counter, service=b.service,
                                                   to_counter=b.to_counter, go_last=b.go_last))
        b = body(TicketActionBody, optional=True)
        return jsonify(ctx().commands.ticket_op(principal(), ticket_id, op, counter=b.counter))
    view.__name__ = f"ticket_{op}"
    bp.add_url_rule(f"/tickets/<int:ticket_id>/{path}", view_func=view, methods=["POST"])


for _path, _op in (("recall", "recall"), ("no-show", "no_show"), ("start", "start"), ("finish", "finish"),
                   ("transfer", "transfer"), ("park", "park"), ("resume", "resume"), ("cancel", "cancel")):
    _ticket_route(_path, _op)


# ------------------------------------------------------------------ supervision
@bp.post("/services/<service_id>")
def set_service(service_id: str):
    b = body(ServiceBody)
    cap = None if b.reset_cap else (b.daily_cap if "daily_cap" in b.model_fields_set else "keep")
    return jsonify(ctx().commands.set_service(principal(), service_id, state=b.state, cap=cap))


@bp.put("/counters/<counter_id>/services")
def assign(counter_id: str):
    b = body(AssignBody)
    return jsonify(ctx().commands.assign_services(principal(), counter_id, b.services))


# ------------------------------------------------------------------ devices
@bp.post("/devices/<kind>/<device_id>/status")
def device_status(kind: str, device_id: str):
    """An agent or device reports a device's state (printer, LED board, keypad, ...)."""
    p = principal()
    if p.kind == "anonymous":
        raise DomainError("unauthenticated")
    if p.kind == "staff" and not p.is_supervisor:
        raise DomainError("forbidden", reason="devices and supervisors only")
    if p.kind == "device" and p.device_kind != "agent" and (p.device_kind, p.device_id) != (kind, device_id):
        raise DomainError("forbidden", reason="a device reports only its own state")
    b = body(DeviceStatusBody)
    return jsonify(ctx().devices.report(kind, device_id, b.state, b.detail, actor=p.name))


@bp.get("/devices")
def devices():
    ctx().commands.need_staff(principal())
    return jsonify(devices=ctx().devices.states())
