"""One pydantic model per action, shared by REST and Socket.IO, so that an action is validated once.

REST builds an action from the URL's path parameters and the JSON body (`from_rest`); a socket builds the
same model from its `action` event, `{"op": ..., <fields>}` (`from_socket`). Both then `run` it, which calls
queue_server/commands.py (or the accounts and devices for sign-in and device states). The role an action
needs is checked in Commands, which also keeps the counter-assignment rules.

Each model lists its fields once, with the bounds that hold for that field: ids are short text, numbers are
whole and (where it makes sense) not negative, and unknown fields are refused (`Body`: extra="forbid",
strict types, so "abc", 1.5 and true are not numbers).
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from queue_server.accounts import Principal
from queue_server.core import age_priority, citizen_card, dossiers as dossier_codes
from queue_server.core.errors import DomainError
from queue_server.core.rules import UNSET
from queue_server.web.toolkit import Body, client_address, json_object, require, validate

Id = Annotated[str, StringConstraints(min_length=1, max_length=40)]
TicketId = Annotated[int, Field(ge=1, le=2**53)]


class Action(Body):
    """An action: `op` names it on a socket; `path` are the fields REST takes from the URL."""

    op: ClassVar[str] = ""
    path: ClassVar[tuple[str, ...]] = ()
    socket: ClassVar[bool] = True  # also a socket op
    status: ClassVar[int] = 200  # the REST status of a success

    def run(self, p: Principal, ctx) -> dict:  # pragma: no cover - every action overrides it
        raise NotImplementedError


# ------------------------------------------------------------------ accounts and devices (REST only)
class Login(Action):
    op = "login"
    socket = False
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)

    def run(self, p, ctx):
        got = ctx.accounts.login(self.username, self.password, address=client_address())
        if got is None:
            raise DomainError("invalid_credentials")
        token, staff = got
        counters = [ctx.read.counter_state(ctx.store.counter(c)) for c in staff.counters]
        return {"token": token, "staff": staff.public(), "counters": counters}


class DeviceStatus(Action):
    """An agent or device reports a device's state (printer, LED board, keypad, ...)."""

    op = "device_status"
    path = ("kind", "device")
    socket = False
    kind: Id
    device: Id
    state: str = Field(min_length=2, max_length=24)
    detail: str = Field("", max_length=300)

    def run(self, p, ctx):
        require("device", "supervisor", p=p)
        ctx.devices.may_report(p, self.kind, self.device)
        return ctx.devices.report(self.kind, self.device, self.state, self.detail, actor=p.name)


# ------------------------------------------------------------------ issuing
class Issue(Action):
    op = "issue"
    status = 201
    service: Id
    priority: bool = False
    priority_group: Id | None = None
    # A citizen ID card's QR text scanned at the kiosk: a priority ticket of the age group the card's date of
    # birth reaches (core/age_priority.py). Read for this one decision, never stored or logged.
    cccd_qr: str | None = Field(None, min_length=1, max_length=citizen_card.QR_MAX_CHARS)
    # The dossier code the kiosk was shown (a receipt scanned or typed): attached to the ticket, so the officer
    # who calls it has the dossier at once (docs/integrations.md).
    dossier: str | None = Field(None, min_length=3, max_length=60, pattern=dossier_codes.CODE_PATTERN.pattern)

    def run(self, p, ctx):
        dossier = None if self.dossier is None else dossier_codes.clean_code(self.dossier)
        if self.cccd_qr is None:
            return ctx.commands.issue(p, self.service, self.priority, self.priority_group, dossier=dossier)
        require("kiosk", "staff", p=p)  # who may issue at all, before the card is read
        group = card_priority_group(ctx.store, self.cccd_qr, self.priority_group)
        out = ctx.commands.issue(p, self.service, True, group, by_card=True, dossier=dossier)
        out["priority_group"] = group  # the kiosk that asked names the group to the công dân
        return out


def card_priority_group(store, qr_text: str, wanted: str | None) -> str:
    """The priority group a card's QR proves on the centre's local day: its age from the date of birth (or the
    least its year of birth allows), the groups with a `min_age` (a DomainError when none fits)."""
    today = store.local_now().date()
    scan = citizen_card.parse_card_qr(qr_text, today)
    age = age_priority.least_age(scan.birth_date, citizen_card.check_cccd(scan.number, today).birth_year, today)
    groups = [age_priority.AgeGroup(g.id, g.min_age) for g in store.config.priority.groups if g.min_age is not None]
    return age_priority.group_for_age(groups, age, wanted)


# ------------------------------------------------------------------ counter actions
class CounterAction(Action):
    path = ("counter",)
    counter: Id


class Next(CounterAction):
    op = "next"
    # The ticket the counter shows now (None: none): a repeated press calls nobody new. Any id that is not the
    # counter's current ticket (clients use -1) says "someone else is current".
    current: int | None = Field(None, le=2**53)

    def run(self, p, ctx):
        expect = self.current if "current" in self.model_fields_set else UNSET
        return ctx.commands.counter_op(p, self.counter, "next", expect_current=expect)


class Call(CounterAction):
    op = "call"
    code: str = Field(min_length=1, max_length=20)
    service: Id | None = None

    def run(self, p, ctx):
        return ctx.commands.counter_op(p, self.counter, "call", code=self.code, service=self.service)


class _CounterState(CounterAction):
    def run(self, p, ctx):
        return ctx.commands.counter_op(p, self.counter, self.op)


class Open(_CounterState):
    op = "open"


class Break(_CounterState):
    op = "break"


class Close(_CounterState):
    op = "close"


# ------------------------------------------------------------------ ticket actions
class TicketAction(Action):
    """A ticket action: by ticket id (the counter holding it unless named), or the counter's current ticket."""

    path = ("ticket",)
    ticket: TicketId | None = None
    counter: Id | None = None

    @model_validator(mode="after")
    def _names_a_ticket(self):
        if self.ticket is None and self.counter is None:
            raise ValueError("ticket or counter is required")
        return self

    def run(self, p, ctx):
        return self._do(p, ctx)

    def _do(self, p, ctx, **kw):
        if self.ticket is not None:
            return ctx.commands.ticket_op(p, self.ticket, self.op, counter=self.counter, **kw)
        return ctx.commands.counter_op(p, self.counter, self.op, **kw)


class Recall(TicketAction):
    op = "recall"


class NoShow(TicketAction):
    op = "no_show"


class Start(TicketAction):
    op = "start"


class Finish(TicketAction):
    op = "finish"


class Park(TicketAction):
    op = "park"


class Resume(TicketAction):
    op = "resume"


class Transfer(TicketAction):
    op = "transfer"
    service: Id | None = None
    to_counter: Id | None = None
    go_last: bool = False

    def run(self, p, ctx):
        return self._do(p, ctx, service=self.service, to_counter=self.to_counter, go_last=self.go_last)


class Cancel(Action):
    op = "cancel"
    path = ("ticket",)
    ticket: TicketId

    def run(self, p, ctx):
        return ctx.commands.ticket_op(p, self.ticket, "cancel")


# ------------------------------------------------------------------ supervision
class SetService(Action):
    op = "set_service"
    path = ("service",)
    service: Id
    state: Literal["open", "closed", "auto"] | None = None
    daily_cap: int | None = Field(None, ge=0, le=100_000)  # null: back to config.yaml's cap
    reset_cap: bool = False

    def run(self, p, ctx):
        cap = None if self.reset_cap else (self.daily_cap if "daily_cap" in self.model_fields_set else "keep")
        return {"service": ctx.commands.set_service(p, self.service, state=self.state, cap=cap)}


class AssignServices(Action):
    op = "assign_services"
    path = ("counter",)
    counter: Id
    services: list[Id] | None = Field(max_length=200)  # null: back to config.yaml

    def run(self, p, ctx):
        return {"counter": ctx.commands.assign_services(p, self.counter, self.services)}


ACTIONS: dict[str, type[Action]] = {
    m.op: m for m in (Login, DeviceStatus, Issue, Next, Call, Open, Break, Close, Recall, NoShow, Start, Finish,
                      Park, Resume, Transfer, Cancel, SetService, AssignServices)}
SOCKET_OPS: dict[str, type[Action]] = {op: m for op, m in ACTIONS.items() if m.socket}


def from_rest(model: type[Action], *, optional: bool = False, **path) -> Action:
    """The action from the URL's path parameters and the JSON body (a field is given by one or the other)."""
    data = json_object(optional=optional)
    given_twice = sorted(set(data) & set(path))
    if given_twice:
        raise DomainError("bad_request", detail=f"{', '.join(given_twice)}: given by the URL, not the body")
    return validate(model, {**data, **path})


def from_socket(data) -> Action:
    """The action from a socket's `action` event: {"op": ..., <the same fields as the REST action>}."""
    if not isinstance(data, dict):
        raise DomainError("bad_request", detail="an action is an object with an op")
    op = data.get("op")
    model = SOCKET_OPS.get(op) if isinstance(op, str) else None
    if model is None:
        raise DomainError("bad_request", detail=f"unknown op {op!r}")
    return validate(model, {k: v for k, v in data.items() if k != "op"})
