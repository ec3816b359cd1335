"""The notification outbox for admins (docs/notifications.md): every message to a phone and its status.

GET /api/v1/notifications/outbox (admin only): the latest messages, filtered by `state` and `kind`, with each
one's attempts, last error, sent time and how it left; phone numbers masked but their last 3 digits, the
text of a one-time code masked (admins need the status, not the code). A demo centre (`centre.demo`) with
`notifications.demo_show_bodies` shows whole texts, so the booking can be tried end to end without a gateway.
POST /api/v1/notifications/outbox/<id>/retry (admin only): a dead message is due again (audited).
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request

from queue_server.core.errors import DomainError
from queue_server.store import notifications as outbox
from queue_server.store.event_log import Audit
from queue_server.web.toolkit import Body, body, require

bp = Blueprint("notifications", __name__)
SHOWN = ("id", "created_ms", "kind", "channel", "lang", "ticket_id", "booking_id", "state", "attempts", "next_ms",
         "last_status", "last_error", "last_attempt_ms", "sent_ms", "via")
MESSAGE_ID = re.compile(r"^[1-9][0-9]{0,15}$")


def mask_phone(phone: str) -> str:
    """Every character but the last 3 digits hidden: 0912345678 -> •••••••678."""
    return "•" * max(0, len(phone) - 3) + phone[-3:]


def mask_body(kind: str, text: str) -> str:
    """A one-time code's text with every digit hidden; other texts as they are."""
    return re.sub(r"[0-9]", "•", text) if kind == "otp" else text


def shown(row: dict, whole: bool) -> dict:
    out = {k: row.get(k) for k in SHOWN}
    out["to"] = row["to_phone"] if whole else mask_phone(row["to_phone"])
    out["body"] = row["body"] if whole else mask_body(row["kind"], row["body"])
    return out


def _choice(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise DomainError("bad_request", detail=f"{name} must be one of {', '.join(sorted(allowed))}")
    return value


@bp.get("/api/v1/notifications/outbox")
def outbox_list():
    require("admin")
    store = current_app.extensions["qms"].store
    state, kind = _choice("state", outbox.STATES), _choice("kind", outbox.KINDS)
    raw = request.args.get("limit", "200")
    if not raw.isdigit() or not 1 <= int(raw) <= outbox.OUTBOX_MAX:
        raise DomainError("bad_request", detail=f"limit must be a whole number from 1 to {outbox.OUTBOX_MAX}")
    cfg = store.config
    whole = cfg.centre.demo and cfg.notifications.demo_show_bodies
    rows = outbox.outbox(store, state=state, kind=kind, limit=int(raw))
    return jsonify(messages=[shown(r, whole) for r in rows], counts=outbox.counts(store),
                   backend=cfg.notifications.backend, channel=cfg.notifications.channel, unmasked=whole,
                   now_ms=store.now_ms())


@bp.post("/api/v1/notifications/outbox/<message_id>/retry")
def outbox_retry(message_id: str):
    p = require("admin")
    body(Body, optional=True)
    store = current_app.extensions["qms"].store
    if not MESSAGE_ID.match(message_id):
        raise DomainError("message_unknown", message=message_id[:20])
    mid = int(message_id)
    row = outbox.message(store, mid)
    if row is None:
        raise DomainError("message_unknown", message=mid)
    if not outbox.retry_dead(store, mid, now=store.now_ms(),
                             audit=Audit("admin.message_retried", p.staff_id, p.name, {"message": mid, "kind": row["kind"]})):
        raise DomainError("message_not_dead", message=mid, state=row["state"])
    return jsonify(shown(outbox.message(store, mid), False))
