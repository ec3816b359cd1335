"""Administration (admin role only): staff accounts, device tokens, display notices, config reload, audit log.

GET /admin is the page (static HTML + JavaScript, sign-in as on the other staff pages); the REST routes are under
/api/v1/admin. Every change writes an `admin.*` event to the event log in the same transaction, with the admin
as staff_id and actor; passwords and tokens are never logged.

config.yaml stays the source of the centre's structure. A reload re-reads the file the server was started with,
validates it completely, checks it against the running day (a service with active tickets, or a counter that is
open or holds a ticket, cannot disappear; the time zone cannot change), and only then swaps it in. A refused
reload answers 422 config_invalid with every problem, and the running config stays as it was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from flask import Blueprint, current_app, jsonify, render_template, request
from pydantic import Field

from queue_server.accounts import ROLES, AccountError, Principal, token_digest
from queue_server.store import event_log as events
from queue_server.store import client_addresses, queue_reads
from queue_server.store import display_notices as notice_rows
from queue_server.store.event_log import Audit
from queue_server.web.audit_words import describe, logged_addresses
from queue_server.web.toolkit import Body, body, lang, require
from queue_server.config import CentreConfig, ConfigError, load_config
from queue_server.core.errors import DomainError
from queue_server.deploy_check import demo_offenders, is_loopback

bp = Blueprint("admin", __name__)
USERNAME = re.compile(r"^[a-z0-9_.-]{2,40}$")
ALL_DISPLAYS = "_all"  # path segment meaning every display (stored as '*'); never a display id


def ctx():
    return current_app.extensions["qms"]


def need_admin() -> Principal:
    return require("admin")


def audit_of(p: Principal, etype: str, data: dict) -> Audit:
    """The admin.* event of a change, written by the store in the change's own transaction."""
    return Audit(etype, p.staff_id, p.name, data)


def audit(p: Principal, etype: str, data: dict) -> int:
    """An audit event on its own (reload, refused reload)."""
    return events.record(ctx().store, etype, data=data, actor=p.name, staff_id=p.staff_id)


# ------------------------------------------------------------------ page
@bp.get("/admin")
def admin_page():
    cfg = ctx().config
    page = {"centre": cfg.centre.name, "centre_en": cfg.centre.name_en, "tz": cfg.centre.timezone, "title": "Quản trị"}
    return render_template("admin.html", centre=cfg.centre, page=page)


# ------------------------------------------------------------------ staff accounts
class StaffCreate(Body):
    username: str = Field(min_length=2, max_length=40)
    password: str = Field(min_length=6, max_length=200)
    full_name: str = Field("", max_length=120)
    role: Literal["admin", "supervisor", "staff"] = "staff"
    counters: list[str] = []


class StaffChange(Body):
    full_name: str | None = Field(None, max_length=120)
    role: Literal["admin", "supervisor", "staff"] | None = None
    counters: list[str] | None = None
    active: bool | None = None


class PasswordBody(Body):
    password: str = Field(min_length=6, max_length=200)


def _user(username: str) -> dict:
    for u in ctx().accounts.users():
        if u["username"] == username:
            return u
    raise DomainError("staff_unknown", username=username)


def _check_counters(counters: list[str]) -> None:
    known = {c.id for c in ctx().config.counters}
    unknown = [c for c in counters if c not in known]
    if unknown:
        raise DomainError("account_invalid", detail=f"unknown counter(s) {', '.join(unknown)}")


@bp.get("/api/v1/admin/staff")
def staff_list():
    need_admin()
    return jsonify(staff=ctx().accounts.users(), roles=list(ROLES),
                   counters=[{"id": c.id, "number": c.number, "name": c.name or f"Quầy {c.number}"} for c in ctx().config.counters])


@bp.post("/api/v1/admin/staff")
def staff_create():
    p = need_admin()
    b = body(StaffCreate)
    if not USERNAME.match(b.username):
        raise DomainError("account_invalid", detail="username: 2-40 lowercase letters, digits, '.', '_' or '-'")
    if any(u["username"] == b.username for u in ctx().accounts.users()):
        raise DomainError("staff_exists", username=b.username)
    _check_counters(b.counters)
    data = {"username": b.username, "full_name": b.full_name, "role": b.role, "counters": b.counters}
    try:
        ctx().accounts.add_user(b.username, b.password, b.role, b.counters, b.full_name,
                                audit=audit_of(p, "admin.staff_created", data))
    except AccountError as exc:
        raise DomainError("account_invalid", detail=str(exc)) from None
    return jsonify(_user(b.username)), 201


@bp.patch("/api/v1/admin/staff/<username>")
def staff_change(username: str):
    p = need_admin()
    b = body(StaffChange)
    user = _user(username)
    if b.counters is not None:
        _check_counters(b.counters)
    demoted = b.role is not None and b.role != "admin"
    if user["role"] == "admin" and user["active"] and (b.active is False or demoted):
        admins = [u for u in ctx().accounts.users() if u["role"] == "admin" and u["active"]]
        if len(admins) <= 1:
            raise DomainError("last_admin")
    changes = {k: v for k, v in b.model_dump().items() if k in b.model_fields_set and v is not None}
    if not changes:
        raise DomainError("bad_request", detail="nothing to change: send full_name, role, counters or active")
    etype = "admin.staff_disabled" if changes == {"active": False} else (
        "admin.staff_enabled" if changes == {"active": True} else "admin.staff_updated")
    try:
        ctx().accounts.update_user(username, audit=audit_of(p, etype, {"username": username, **changes}), **changes)
    except AccountError as exc:
        raise DomainError("account_invalid", detail=str(exc)) from None
    ctx().accounts.credentials_changed()  # a disabled account's sockets go at once; others follow new counters
    return jsonify(_user(username))


@bp.post("/api/v1/admin/staff/<username>/password")
def staff_password(username: str):
    p = need_admin()
    b = body(PasswordBody)
    _user(username)
    try:
        ctx().accounts.set_password(username, b.password, audit=audit_of(p, "admin.password_reset", {"username": username}))
    except AccountError as exc:
        raise DomainError("account_invalid", detail=str(exc)) from None
    ctx().accounts.credentials_changed()  # its sockets end with its sessions
    return jsonify(ok=True, username=username, sessions_ended=True)


# ------------------------------------------------------------------ device tokens
class TokenCreate(Body):
    kind: Literal["kiosk", "display", "agent"]
    device_id: str = Field(min_length=1, max_length=60)
    note: str = Field("", max_length=200)


def _config_devices() -> list[dict]:
    d = ctx().config.devices
    out = [{"kind": "kiosk", "device_id": k.id, "name": k.name} for k in d.kiosks]
    out += [{"kind": "display", "device_id": x.id, "name": x.name} for x in d.displays if x.token]
    out += [{"kind": "agent", "device_id": a.id, "name": a.name} for a in d.agents]
    return out


@bp.get("/api/v1/admin/device-tokens")
def tokens_list():
    need_admin()
    return jsonify(tokens=ctx().accounts.device_tokens(), config_tokens=_config_devices(),
                   devices={"kiosk": [k.id for k in ctx().config.devices.kiosks],
                            "display": [x.id for x in ctx().config.devices.displays],
                            "agent": [a.id for a in ctx().config.devices.agents]})


@bp.post("/api/v1/admin/device-tokens")
def token_create():
    p = need_admin()
    b = body(TokenCreate)
    known = {"kiosk": ctx().config.devices.kiosks, "display": ctx().config.devices.displays,
             "agent": ctx().config.devices.agents}[b.kind]
    if not any(x.id == b.device_id for x in known):
        raise DomainError("bad_request", detail=f"device_id: config.yaml has no {b.kind} {b.device_id!r}")
    token = ctx().accounts.add_device_token(
        b.kind, b.device_id, b.note,
        audit=audit_of(p, "admin.device_token_created", {"kind": b.kind, "device": b.device_id, "note": b.note}))
    return jsonify(token=token, id=token_digest(token), kind=b.kind, device_id=b.device_id, note=b.note,
                   shown_once=True), 201


@bp.post("/api/v1/admin/device-tokens/<token_id>/revoke")
def token_revoke(token_id: str):
    p = need_admin()
    if not re.fullmatch(r"[0-9a-f]{64}", token_id):
        raise DomainError("device_token_unknown", token=token_id[:12])
    try:
        dev = ctx().accounts.revoke_device_token(
            token_id, audit=audit_of(p, "admin.device_token_revoked", {"token_id": token_id[:12]}))
    except AccountError:
        raise DomainError("device_token_unknown", token=token_id[:12]) from None
    ctx().accounts.credentials_changed()  # the device's open sockets are disconnected at once
    return jsonify(ok=True, id=token_id, **dev)


# ------------------------------------------------------------------ display notices
class NoticeBody(Body):
    text: str = Field(max_length=500)
    text_en: str = Field("", max_length=500)


@dataclass
class NoticeUpdated:
    display: str  # a display id, or "*" for every display
    notice: str
    notice_en: str
    event = "notice.updated"


def notices() -> list[dict]:
    c = ctx()
    rows = notice_rows.all_notices(c.store)
    out = [{"display": ALL_DISPLAYS, "name": "Tất cả màn hình / every display", **rows.get("*", {"text": "", "text_en": ""})}]
    for d in c.config.devices.displays:
        shown = c.push.notice_of(d)
        out.append({"display": d.id, "name": d.name or d.id, "config_notice": d.notice,
                    **rows.get(d.id, {"text": "", "text_en": ""}), "shown": shown["notice"]})
    return out


@bp.get("/api/v1/admin/notices")
def notices_list():
    need_admin()
    return jsonify(notices=notices())


@bp.put("/api/v1/admin/notices/<display_id>")
def notice_set(display_id: str):
    p = need_admin()
    b = body(NoticeBody)
    c = ctx()
    if display_id != ALL_DISPLAYS and not any(d.id == display_id for d in c.config.devices.displays):
        raise DomainError("display_unknown", display=display_id)
    key = "*" if display_id == ALL_DISPLAYS else display_id
    text, text_en = b.text.strip(), b.text_en.strip()
    # an empty notice returns the display to the next one down (every display's, then config.yaml's)
    notice_rows.set_notice(c.store, key, text, text_en, staff_id=p.staff_id,
                           audit=audit_of(p, "admin.notice_set", {"display": key, "text": text, "text_en": text_en}))
    targets = c.config.devices.displays if key == "*" else [d for d in c.config.devices.displays if d.id == key]
    for d in targets:
        shown = c.push.notice_of(d)
        c.push.broadcast(NoticeUpdated(d.id, shown["notice"], shown["notice_en"]))
    return jsonify(notices=notices())


# ------------------------------------------------------------------ config reload
@dataclass
class ConfigReloaded:
    config_hash: str
    event = "config.reloaded"


def reload_problems(running: CentreConfig, new: CentreConfig, store) -> tuple[list[str], list[str]]:
    """(problems that refuse the new file, notes on what it does not change until a restart)."""
    problems, notes = [], []
    if new.centre.timezone != running.centre.timezone:
        problems.append(f"centre.timezone: changing the time zone ({running.centre.timezone} -> {new.centre.timezone}) "
                        "needs a restart after the day is closed")
    kept = set(new.services())
    for sid, n in queue_reads.active_tickets_by_service(store).items():
        if sid not in kept:
            problems.append(f"departments: service {sid!r} is removed but has {n} active ticket(s); close the day first")
    counters = {c.id for c in new.counters}
    for row in queue_reads.counter_rows(store):
        if row["id"] not in counters and any(c.id == row["id"] for c in running.counters) and (
                row["state"] != "closed" or row["current_ticket_id"] is not None):
            problems.append(f"counters: counter {row['id']!r} is removed but is {row['state']}; close it first")
    if new.server != running.server:
        changed = [k for k in new.server.model_fields if getattr(new.server, k) != getattr(running.server, k)]
        notes.append(f"server.{', server.'.join(changed)} changed: these apply at the next restart")
    return problems, notes


def apply_config(c, new: CentreConfig) -> None:
    """Swap the running config everywhere it is held."""
    c.store.reload_config(new)
    c.accounts.load_config_devices(new)
    c.accounts.seed_from_config()
    c.config = new


@bp.post("/api/v1/admin/reload")
def reload_config():
    p = need_admin()
    body(Body, optional=True)
    c = ctx()
    path = current_app.config.get("QMS_CONFIG_PATH")
    if not path:
        raise DomainError("config_invalid", detail="this server was not started from a config file")
    try:
        new = load_config(path)
    except ConfigError as exc:
        audit(p, "admin.config_refused", {"path": str(path), "problems": len(exc.problems)})
        raise DomainError("config_invalid", detail=str(exc), problems=[
            {"key": k, "line": line, "message": m} for k, line, m in exc.problems]) from None
    problems, notes = reload_problems(c.config, new, c.store)
    host = current_app.config.get("QMS_LISTEN_HOST", "127.0.0.1")
    if not is_loopback(host):  # a public server takes no demo value back, in the file or left in the database
        problems += [f"{x} (the server listens on {host})" for x in demo_offenders(new, c.accounts)]
    if problems:
        audit(p, "admin.config_refused", {"path": str(path), "problems": len(problems)})
        raise DomainError("config_invalid", detail="\n".join(f"{path}: {x}" for x in problems),
                          problems=[{"key": x.split(":")[0], "line": None, "message": x} for x in problems])
    old_hash = c.config.config_hash()
    apply_config(c, new)
    audit(p, "admin.config_reloaded", {"path": str(path), "from": old_hash, "to": new.config_hash()})
    c.push.broadcast(ConfigReloaded(new.config_hash()))
    return jsonify(ok=True, path=str(Path(path)), config_hash=new.config_hash(), previous_hash=old_hash, notes=notes,
                   departments=len(new.departments), counters=len(new.counters))


# ------------------------------------------------------------------ audit log
@bp.get("/api/v1/admin/audit")
def audit_log():
    need_admin()
    try:
        limit = min(500, max(1, int(request.args.get("limit", "100"))))
    except ValueError:
        raise DomainError("bad_request", detail="limit must be a whole number") from None
    c = ctx()
    rows = events.audit_log(c.store, limit)
    kept = client_addresses.addresses_of(c.store, [a for e in rows for a in logged_addresses(e)])
    return jsonify(events=[describe(e, c.config, lang(), kept) for e in rows])
