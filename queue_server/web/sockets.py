"""Socket.IO handlers: connect with a room (and a token where needed), then actions mirroring REST with acks.

connect auth: {"room": "display:hall-a" | "counter:3" | "kiosk:kiosk-1" | "ticket:<secret token>" |
               "supervisors", "token": "<staff or device token>", "last_seq": 1234, "lang": "vi"}
The client gets `hello`, then either the events it missed since last_seq or a fresh `snapshot`.
"""
from __future__ import annotations

import logging

from flask import request
from flask_socketio import ConnectionRefusedError, join_room

from queue_server.accounts import ANONYMOUS, Principal
from queue_server.core.rules import UNSET
from queue_server.core.errors import DomainError

log = logging.getLogger(__name__)


class Sockets:
    def __init__(self, socketio, ctx):
        self.socketio = socketio
        self.ctx = ctx
        self.clients: dict[str, dict] = {}  # sid -> {principal, room, ticket_id, lang}
        # More room kinds, added by other parts (ticket_printer.jobs adds printer:<kiosk id> for printer agents):
        # kind -> handler with authorize(principal, ident) (raises DomainError) and joined(sid, ident).
        self.room_kinds: dict[str, object] = {}
        socketio.on_event("connect", self.on_connect)
        socketio.on_event("disconnect", self.on_disconnect)
        socketio.on_event("action", self.on_action)
        socketio.on_event("resync", self.on_resync)

    # ------------------------------------------------------------ connect
    def _refuse(self, err: DomainError, lang: str):
        raise ConnectionRefusedError(err.message(lang), err.to_dict(lang))

    def on_connect(self, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        lang = auth.get("lang") if auth.get("lang") in ("vi", "en") else "vi"
        try:
            p = self._principal(auth.get("token"))
            room, ticket = self._authorize_room(p, str(auth.get("room") or ""))
            last_seq = auth.get("last_seq")
            if last_seq is not None and not isinstance(last_seq, int):
                raise DomainError("bad_request", detail="last_seq must be a whole number")
        except DomainError as err:
            self._refuse(err, lang)
        push = self.ctx.push
        sid = request.sid
        for r in push.rooms_for(room if not room.startswith("ticket:") else f"ticket:{ticket['id']}"):
            join_room(r)
        if ticket is not None:
            push.follow(ticket["id"])
        self.clients[sid] = {"principal": p, "room": room, "ticket_id": ticket["id"] if ticket else None, "lang": lang}
        device = self._device_of(p, room)
        if device is not None:
            self.ctx.devices.report(*device, "online", actor=p.name)
        push.greet(sid, room if not room.startswith("ticket:") else f"ticket:{ticket['id']}", last_seq, ticket)
        extra = self.room_kinds.get(room.partition(":")[0])
        if extra is not None:
            extra.joined(sid, room.partition(":")[2])

    def _principal(self, token) -> Principal:
        if not token:
            return ANONYMOUS
        p = self.ctx.accounts.principal_for(str(token))
        if p is None:
            raise DomainError("unauthenticated")
        return p

    def _authorize_room(self, p: Principal, room: str) -> tuple[str, dict | None]:
        kind, _, ident = room.partition(":")
        cfg = self.ctx.store.config
        if kind == "display":
            if not any(d.id == ident for d in cfg.devices.displays):
                raise DomainError("display_unknown", display=ident)
            return room, None
        if kind == "kiosk":
            if not any(k.id == ident for k in cfg.devices.kiosks):
                raise DomainError("kiosk_unknown", kiosk=ident)
            return room, None
        if kind == "ticket":
            return room, self.ctx.store.ticket_by_token(ident)
        if kind == "counter":
            counter = self.ctx.store.counter(ident)
            if p.kind == "device" and p.device_kind == "agent":
                return room, None
            self.ctx.commands.need_staff(p)
            if not p.is_supervisor and ident not in p.counters:
                raise DomainError("forbidden", reason=f"counter {counter['number']} is not assigned to you")
            return room, None
        if kind == "supervisors":
            self.ctx.commands.need_supervisor(p)
            return room, None
        if kind in self.room_kinds:
            self.room_kinds[kind].authorize(p, ident)
            return room, None
        raise DomainError("bad_request", detail="room must be display:<id>, counter:<id>, kiosk:<id>, ticket:<token> or supervisors")

    def on_disconnect(self, *args):
        client = self.clients.pop(request.sid, None)
        if client and client["ticket_id"] is not None:
            self.ctx.push.unfollow(client["ticket_id"])
        device = self._device_of(client["principal"], client["room"]) if client else None
        if device is not None and device not in self.connected_devices():
            self.ctx.devices.report(*device, "offline", "disconnected", actor=client["principal"].name)

    @staticmethod
    def _device_of(p: Principal, room: str) -> tuple[str, str] | None:
        """The device a connection stands for: a display page, a kiosk page or an agent."""
        kind, _, ident = room.partition(":")
        if kind == "display":
            return ("display", ident)
        if kind == "kiosk" and p.kind == "device" and p.device_kind == "kiosk":
            return ("kiosk", p.device_id)
        if p.kind == "device" and p.device_kind == "agent":
            return ("agent", p.device_id)
        return None

    def connected_devices(self) -> set[tuple[str, str]]:
        out = set()
        for client in list(self.clients.values()):
            device = self._device_of(client["principal"], client["room"])
            if device is not None:
                out.add(device)
        return out

    # ------------------------------------------------------------ actions
    def on_resync(self, data=None):
        """A client that saw something odd asks for a fresh snapshot."""
        client = self.clients.get(request.sid)
        if client is None:
            return {"ok": False, "error": "unauthenticated"}
        ticket = self.ctx.store.ticket(client["ticket_id"]) if client["ticket_id"] else None
        room = client["room"] if ticket is None else f"ticket:{ticket['id']}"
        self.ctx.push.greet(request.sid, room, None, ticket)
        return {"ok": True}

    def on_action(self, data=None):
        client = self.clients.get(request.sid) or {"principal": ANONYMOUS, "lang": "vi"}
        lang = client["lang"]
        try:
            if not isinstance(data, dict):
                raise DomainError("bad_request", detail="an action is an object with an op")
            return {"ok": True, **self._act(client["principal"], data)}
        except DomainError as err:
            return {"ok": False, **err.to_dict(lang)}
        except Exception:  # noqa: BLE001 - an ack must always come back
            log.exception("socket action failed: %r", data)
            return {"ok": False, "error": "internal", "message": "internal error"}

    ALLOWED = {"op", "counter", "ticket", "code", "service", "to_counter", "go_last", "current", "priority",
               "priority_group", "state", "daily_cap", "services"}

    def _act(self, p: Principal, data: dict) -> dict:
        unknown = set(data) - self.ALLOWED
        if unknown:
            raise DomainError("bad_request", detail=f"unknown field(s) {sorted(unknown)}")
        op = data.get("op")
        svc = self.ctx.commands
        if op == "issue":
            return {"ticket": svc.issue(p, _str(data, "service"), bool(data.get("priority", False)), data.get("priority_group"))}
        if op == "cancel":
            return svc.ticket_op(p, _int(data, "ticket"), "cancel")
        if op == "set_service":
            return {"service": svc.set_service(p, _str(data, "service"), state=data.get("state"),
                                               cap=data.get("daily_cap", "keep"))}
        if op == "assign_services":
            return {"counter": svc.assign_services(p, _str(data, "counter"), data.get("services"))}
        counter = _str(data, "counter")
        ticket = data.get("ticket")
        if ticket is not None and not isinstance(ticket, int):
            raise DomainError("bad_request", detail="ticket must be a ticket id (a whole number)")
        if op == "next":
            current = data["current"] if "current" in data else UNSET
            if current is not UNSET and current is not None and not isinstance(current, int):
                raise DomainError("bad_request", detail="current must be a ticket id or null")
            return svc.counter_op(p, counter, "next", expect_current=current)
        if op == "call":
            return svc.counter_op(p, counter, "call", code=_str(data, "code"), service=data.get("service"))
        if op in ("open", "break", "close", "recall", "no_show", "start", "finish", "park", "resume"):
            return svc.counter_op(p, counter, op, ticket=ticket)
        if op == "transfer":
            return svc.counter_op(p, counter, "transfer", ticket=ticket, service=data.get("service"),
                                  to_counter=data.get("to_counter"), go_last=bool(data.get("go_last", False)))
        raise DomainError("bad_request", detail=f"unknown op {op!r}")


def _str(data: dict, key: str) -> str:
    v = data.get(key)
    if not isinstance(v, str) or not v:
        raise DomainError("bad_request", detail=f"{key} is required (text)")
    return v


def _int(data: dict, key: str) -> int:
    v = data.get(key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise DomainError("bad_request", detail=f"{key} is required (a whole number)")
    return v
