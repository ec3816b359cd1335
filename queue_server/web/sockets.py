"""Socket.IO handlers: connect with a room (and a token where needed), then actions mirroring REST with acks.

connect auth: {"room": "display:hall-a" | "counter:3" | "kiosk:kiosk-1" | "ticket:<secret token>" |
               "supervisors", "token": "<staff or device token>", "last_seq": 1234, "lang": "vi"}
The client gets `hello`, then either the events it missed since last_seq or a fresh `snapshot`.

A socket's token is checked again on every action and at least every RECHECK_SECONDS while idle; a sign-out,
a disabled account, a revoked device token (Accounts.credentials_changed) or an expired token disconnects it.
"""
from __future__ import annotations

import logging

from flask import request
from flask_socketio import ConnectionRefusedError, join_room
from pydantic import Field

from queue_server.accounts import ANONYMOUS, Principal
from queue_server.core.errors import DomainError
from queue_server.web.actions import from_socket
from queue_server.web.toolkit import LARGEST_ID, Body, require, unicode_text, validate

log = logging.getLogger(__name__)
RECHECK_SECONDS = 30  # an idle socket's token is checked again this often (a change made by another process)


class CatchUpRequest(Body):
    """catch_up: a client saw a `prev` it never applied and asks for what its room was sent after last_seq."""
    last_seq: int = Field(ge=0, le=LARGEST_ID)


class Sockets:
    def __init__(self, socketio, ctx):
        self.socketio = socketio
        self.ctx = ctx
        self.clients: dict[str, dict] = {}  # sid -> {principal, token, room, ticket_id, lang, revoked}
        # More room kinds, added by other parts (ticket_printer.server.jobs adds printer:<kiosk id> for printer agents):
        # kind -> handler with authorize(principal, ident) (raises DomainError) and joined(sid, ident).
        self.room_kinds: dict[str, object] = {}
        self.dropping: list = []  # the delayed disconnects still to run (`_drop` after an answer); see `drain`
        socketio.on_event("connect", self.on_connect)
        socketio.on_event("disconnect", self.on_disconnect)
        socketio.on_event("action", self.on_action)
        socketio.on_event("resync", self.on_resync)
        socketio.on_event("catch_up", self.on_catch_up)
        ctx.accounts.listeners.append(self.recheck_all)

    # ------------------------------------------------------------ connect
    def _refuse(self, err: DomainError, lang: str):
        raise ConnectionRefusedError(err.message(lang), err.to_dict(lang))

    def on_connect(self, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        lang = auth.get("lang") if auth.get("lang") in ("vi", "en") else "vi"
        try:
            if not all(unicode_text(auth.get(k) or "") for k in ("room", "token")):
                raise DomainError("bad_request", detail="room and token must be text without lone surrogates")
            p = self._principal(auth.get("token"))
            room, ticket = self._authorize_room(p, str(auth.get("room") or ""))
            last_seq = auth.get("last_seq")
            if last_seq is not None and (not isinstance(last_seq, int) or isinstance(last_seq, bool)
                                         or not 0 <= last_seq <= LARGEST_ID):
                raise DomainError("bad_request", detail=f"last_seq must be a whole number from 0 to {LARGEST_ID}")
        except DomainError as err:
            self._refuse(err, lang)
        push = self.ctx.push
        sid = request.sid
        for r in push.rooms_for(room if not room.startswith("ticket:") else f"ticket:{ticket['id']}"):
            join_room(r)
        if ticket is not None:
            push.follow(ticket["id"])
        self.clients[sid] = {"principal": p, "token": str(auth["token"]) if auth.get("token") else None, "room": room,
                             "ticket_id": ticket["id"] if ticket else None, "lang": lang, "revoked": False}
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
                if ident not in cfg.devices.agent_counters(p.device_id):
                    raise DomainError("forbidden", reason=f"agent {p.device_id} has no LED board or keypad at counter {ident}")
                return room, None
            require("staff", p=p)
            if not p.is_supervisor and ident not in p.counters:
                raise DomainError("forbidden", reason=f"counter {counter['number']} is not assigned to you")
            return room, None
        if kind == "supervisors":
            require("supervisor", p=p)
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
        """The device a connection stands for: a display page or a kiosk page with its own token, or an agent.
        Anonymous viewers of a display page get its live data but do not make it count as online."""
        kind, _, ident = room.partition(":")
        if kind == "display" and p.kind == "device" and p.device_kind == "display" and p.device_id == ident:
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

    # ------------------------------------------------------------ credentials
    def current(self, sid: str) -> dict | None:
        """The client of `sid` with its credentials checked again now (None: anonymous, never connected).

        A token that no longer holds (signed out, account disabled, device token revoked, expired) or no longer
        lets it stay in its room raises unauthenticated, and the socket is disconnected right after the answer.
        """
        client = self.clients.get(sid)
        if client is None:
            return None
        if client["revoked"] or not self._still_valid(client):
            self._drop(sid, client, after_answer=True)
            raise DomainError("unauthenticated")
        return client

    def _still_valid(self, client: dict) -> bool:
        if client["token"] is None:
            return True
        p = self.ctx.accounts.principal_for(client["token"])
        if p is None:
            return False
        if p != client["principal"]:  # another role, other counters: may it stay in its room?
            try:
                self._authorize_room(p, client["room"])
            except DomainError:
                return False
            client["principal"] = p
        return True

    def recheck_all(self) -> int:
        """Check every signed-in socket's token again; disconnect those that no longer hold. Returns how many."""
        dropped = 0
        for sid, client in list(self.clients.items()):
            try:
                if client["token"] is not None and (client["revoked"] or not self._still_valid(client)):
                    self._drop(sid, client)
                    dropped += 1
            except Exception:  # noqa: BLE001 - one bad socket must not keep the others connected
                log.exception("re-checking the credentials of socket %s failed", sid)
        return dropped

    def keep_checking(self, rounds: int | None = None) -> None:
        """Background task: idle sockets' tokens are checked again every RECHECK_SECONDS (expiry; changes made
        by another process on the same database, such as a device token revoked with the CLI). `rounds`: stop
        after that many (tests); None: for ever."""
        while rounds is None or rounds > 0:
            self.socketio.sleep(RECHECK_SECONDS)
            self.recheck_all()
            rounds = None if rounds is None else rounds - 1

    def _drop(self, sid: str, client: dict, *, after_answer: bool = False) -> None:
        if client["revoked"] and after_answer:
            return  # already on its way out
        client["revoked"] = True
        log.info("socket %s of %s disconnected: its credentials no longer hold", sid, client["principal"].name)
        if after_answer:  # let the refusal's acknowledgement go out first
            def later():
                self.socketio.sleep(0.05)
                self.socketio.server.disconnect(sid, namespace="/")
            self.dropping = [t for t in self.dropping if _alive(t)]
            self.dropping.append(self.socketio.start_background_task(later))
        else:
            self.socketio.server.disconnect(sid, namespace="/")

    def drain(self, timeout: float = 2.0) -> None:
        """Wait for the delayed disconnects still running: a server that closes its store first must not have one
        of them report a device offline through a closed database connection."""
        for task in self.dropping:
            if hasattr(task, "join"):
                task.join(timeout)
        self.dropping = []

    # ------------------------------------------------------------ actions
    def on_resync(self, data=None):
        """A client that saw something odd asks for a fresh snapshot."""
        client = self.clients.get(request.sid)
        if client is None:
            return {"ok": False, "error": "unauthenticated"}
        try:
            self.current(request.sid)
        except DomainError as err:
            return {"ok": False, **err.to_dict(client["lang"])}
        ticket = self.ctx.store.ticket(client["ticket_id"]) if client["ticket_id"] else None
        room = client["room"] if ticket is None else f"ticket:{ticket['id']}"
        self.ctx.push.greet(request.sid, room, None, ticket)
        return {"ok": True}

    def on_catch_up(self, data=None):
        """A client that saw a gap in `prev` asks for what its room was sent after `last_seq` (push.catch_up)."""
        client = self.clients.get(request.sid)
        if client is None:
            return {"ok": False, "error": "unauthenticated"}
        try:
            self.current(request.sid)
            if not isinstance(data, dict):
                raise DomainError("bad_request", detail="send {\"last_seq\": <the last seq applied>}")
            ask = validate(CatchUpRequest, data)
        except DomainError as err:
            return {"ok": False, **err.to_dict(client["lang"])}
        ticket = self.ctx.store.ticket(client["ticket_id"]) if client["ticket_id"] else None
        room = client["room"] if ticket is None else f"ticket:{ticket['id']}"
        return {"ok": True, "as_of": self.ctx.push.catch_up(request.sid, room, ask.last_seq, ticket)}

    def on_action(self, data=None):
        """An action, validated by the same model as its REST route (web/actions.py), then done by Commands."""
        lang = (self.clients.get(request.sid) or {}).get("lang", "vi")
        try:
            client = self.current(request.sid)
            p = client["principal"] if client else ANONYMOUS
            return {"ok": True, **from_socket(data).run(p, self.ctx)}
        except DomainError as err:
            return {"ok": False, **err.to_dict(lang)}
        except Exception:  # noqa: BLE001 - an ack must always come back
            # the op only: an action may carry what is never kept (a citizen ID card's QR text)
            log.exception("socket action %r failed", data.get("op") if isinstance(data, dict) else type(data).__name__)
            return {"ok": False, "error": "internal", "message": "internal error"}


def _alive(task) -> bool:
    """Whether a background task (a thread or a green thread, by async mode) has still to finish."""
    if hasattr(task, "is_alive"):
        return task.is_alive()
    return not getattr(task, "dead", True)
