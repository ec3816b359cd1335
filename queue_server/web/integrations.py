"""The admin's view of the centre's links outward: each webhook receiver's delivery state.

GET /api/v1/admin/webhooks (admin only): per receiver of `integrations.webhooks`, its address and events (never
its secret), how many events are pending, delivered and dead, the first pending one (attempts, next try, last
error), the last delivery, and the latest dead letters. The admin page shows it; `qms webhooks replay` re-sends.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from queue_server.store import webhooks as outbox
from queue_server.web.toolkit import require

bp = Blueprint("integrations", __name__)


@bp.get("/api/v1/admin/webhooks")
def webhook_states():
    require("admin")
    store = current_app.extensions["qms"].store
    out = []
    for hook in store.config.integrations.webhooks:
        state = outbox.delivery_state(store, hook.id)
        out.append({"id": hook.id, "url": hook.url, "events": list(hook.events), "enabled": hook.enabled,
                    "timeout": hook.timeout, "max_attempts": hook.max_attempts, **state})
    return jsonify(webhooks=out, now_ms=store.now_ms(), last_seq=store.last_seq())
