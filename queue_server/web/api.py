"""REST API under /api/v1 (JSON). Every route is listed in docs/api.md; a test checks that."""
from __future__ import annotations

from flask import Blueprint, jsonify

from queue_server.core.errors import DomainError
from queue_server.web import actions as A
from queue_server.web.toolkit import Body, bearer, body, ctx, lang, principal, require  # noqa: F401 - re-exported for older imports
from queue_server.web.toolkit import whole_number_arg

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def run(model: type[A.Action], *, optional: bool = False, **path):
    """Validate the action from the URL and the body, then do it (the same models serve the socket actions)."""
    action = A.from_rest(model, optional=optional, **path)
    return jsonify(action.run(principal(), ctx())), model.status


# ------------------------------------------------------------------ accounts
@bp.post("/login")
def login():
    return run(A.Login)


@bp.post("/logout")
def logout():
    if principal().kind != "staff":  # a device token cannot sign out
        raise DomainError("unauthenticated")
    ctx().accounts.logout(bearer())
    ctx().accounts.credentials_changed()
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
    require("staff", "agent", reason="staff and device agents only")
    seq = ctx().store.last_seq()
    return jsonify(seq=seq, services=ctx().read.services(), departments=ctx().read.departments(),
                   counters=[ctx().read.counter_state(c) for c in ctx().store.counters()])


@bp.get("/counters")
def counters():
    require("staff", "agent", reason="staff and device agents only")
    return jsonify(counters=[ctx().read.counter_state(c) for c in ctx().store.counters()])


@bp.get("/counters/<counter_id>")
def counter(counter_id: str):
    require("staff", "agent", reason="staff and device agents only")
    ctx().store.counter(counter_id)  # raises counter_unknown
    return jsonify(ctx().push.snapshot(f"counter:{counter_id}"))


@bp.get("/events")
def events():
    p = require("staff")
    since = whole_number_arg("since", 0)
    limit = whole_number_arg("limit", 500, low=1, high=1000, clamp=True)
    # accounts, tokens, notices, config and sign-in failures (usernames, addresses): the admins' own log
    hide = () if p.role == "admin" else ("admin.", "login.")
    return jsonify(events=ctx().store.events_since(since, limit, hide_prefixes=hide), last_seq=ctx().store.last_seq())


# ------------------------------------------------------------------ issuing
@bp.post("/tickets")
def issue():
    return run(A.Issue)


# ------------------------------------------------------------------ counter actions
@bp.post("/counters/<counter_id>/next")
def call_next(counter_id: str):
    return run(A.Next, optional=True, counter=counter_id)


@bp.post("/counters/<counter_id>/call")
def call_code(counter_id: str):
    return run(A.Call, counter=counter_id)


def _counter_route(model: type[A.Action]):
    def view(counter_id: str):
        return run(model, optional=True, counter=counter_id)
    view.__name__ = f"counter_{model.op}"
    bp.add_url_rule(f"/counters/<counter_id>/{model.op}", view_func=view, methods=["POST"])


for _model in (A.Open, A.Break, A.Close):
    _counter_route(_model)


def _ticket_route(model: type[A.Action]):
    def view(ticket_id: int):
        return run(model, optional=model is not A.Transfer, ticket=ticket_id)
    view.__name__ = f"ticket_{model.op}"
    bp.add_url_rule(f"/tickets/<int:ticket_id>/{model.op.replace('_', '-')}", view_func=view, methods=["POST"])


for _model in (A.Recall, A.NoShow, A.Start, A.Finish, A.Transfer, A.Park, A.Resume, A.Cancel):
    _ticket_route(_model)


# ------------------------------------------------------------------ supervision
@bp.post("/services/<service_id>")
def set_service(service_id: str):
    action = A.from_rest(A.SetService, service=service_id)
    return jsonify(action.run(principal(), ctx())["service"])


@bp.put("/counters/<counter_id>/services")
def assign(counter_id: str):
    action = A.from_rest(A.AssignServices, counter=counter_id)
    return jsonify(action.run(principal(), ctx())["counter"])


# ------------------------------------------------------------------ devices
@bp.post("/devices/<kind>/<device_id>/status")
def device_status(kind: str, device_id: str):
    """An agent or device reports a device's state (printer, LED board, keypad, ...)."""
    return run(A.DeviceStatus, kind=kind, device=device_id)


@bp.get("/devices")
def devices():
    require("staff")
    return jsonify(devices=ctx().devices.states())
