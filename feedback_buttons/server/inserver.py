"""Keypads plugged into the server itself (devices.keypads[].run_in: server): the same reader as the agent,
delivering straight to the recorder and reporting states straight to the device registry.

Started by create_app (through routes.init_app) when background tasks run. Under `qms serve` the threads are
green threads (eventlet or gevent monkey-patch threading, select and time), so serial reads do not block the
server. Ratings still go through the outbox on disk (next to the database), so a rating the database refuses
for a moment (locked by the CLI, say) is retried, not lost.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from queue_server.core.errors import DomainError

from feedback_buttons.agent.keypads import KeypadAgent, KeypadSpec
from feedback_buttons.agent.delivery import DELIVERED, DUPLICATE, REJECTED, RETRY
from feedback_buttons.server.recorder import RatingIn, RatingRecorder

log = logging.getLogger(__name__)


def local_transport(recorder: RatingRecorder):
    def send(rec: dict, age: int) -> tuple[str, str]:
        try:
            keypad = recorder.keypad(rec["keypad"])
            _, created = recorder.record(RatingIn(rec["id"], keypad.counter, f"keypad:{keypad.id}", rec.get("button"),
                                                  rec.get("level"), age, actor="server:keypad-reader"))
        except DomainError as err:
            if err.http_status >= 500:
                return RETRY, err.message("en")
            return REJECTED, f"{err.code}: {err.message('en')}"
        except Exception as exc:  # noqa: BLE001 - e.g. database locked: try again
            return RETRY, repr(exc)
        return (DELIVERED if created else DUPLICATE), ""

    return send


def local_status(devices):
    def send(kind: str, device_id: str, state: str, detail: str) -> bool:
        devices.report(kind, device_id, state, detail, actor="server:keypad-reader")
        return True

    return send


def start_in_server(ctx, recorder: RatingRecorder) -> KeypadAgent | None:
    cfg = ctx.config
    keypads = [KeypadSpec.from_dict(k.model_dump(mode="json")) for k in cfg.devices.keypads
               if k.run_in == "server" and k.port != "page"]
    if not keypads:
        return None
    db = Path(ctx.store.path)
    outbox = db.parent / "keypad-outbox" if str(db) != ":memory:" else Path(tempfile.mkdtemp(prefix="qms-keypads-"))
    agent = KeypadAgent(keypads, buttons=cfg.rating.buttons, level_values=[lv.value for lv in cfg.rating.levels],
                        transport=local_transport(recorder), status_send=local_status(ctx.devices), outbox_dir=outbox,
                        backoff_max=float(cfg.devices.timeouts.get("serial_reconnect_max_seconds", 30)))
    agent.start()
    log.info("reading %d keypad(s) in the server: %s", len(keypads), ", ".join(k.id for k in keypads))
    return agent
