"""LED boards on the server's side: the boards an agent drives (GET /api/v1/led_boards), and the in-server
mode for boards with run_in: server (adapter plugged into the server PC).

In-server mode is deliberately small: the same driver (displays.led.LedDriver) as the agent, fed by a
background task that reads the boards' counters from the store every devices.timeouts.led_poll_seconds
(default 0.5 s) and reports board states through ctx.devices (state changes at once, a heartbeat every
minute). Reading the store rather than hooking the push keeps it independent of the live-push code and
also sees changes made by another process (the CLI).
"""
from __future__ import annotations

import logging
import queue
import time

from flask import Blueprint, current_app, jsonify

from queue_server.core.errors import DomainError

from displays.agent.driver import LedDriver
from displays.shared.led_values import shown_for

log = logging.getLogger(__name__)

bp = Blueprint("led_boards", __name__)

DEFAULT_POLL = 0.5


@bp.get("/api/v1/led_boards")
def led_boards():
    """The LED boards the calling agent drives (supervisors: every board)."""
    from queue_server.web.toolkit import require

    ctx = current_app.extensions["qms"]
    cfg = ctx.config
    p = require("supervisor", "agent", reason="LED agents and supervisors only")
    if p.kind == "device":
        kind = cfg.devices.agent_kind(p.device_id)
        if kind not in ("led", "any"):
            raise DomainError("forbidden", reason=f"agent {p.device_id} is a {kind} agent, not an LED agent")
        owned = cfg.devices.agent_devices(p.device_id)
        boards = [b for b in cfg.devices.led_boards if ("led_board", b.id) in owned]
        agent = p.device_id
    else:
        boards, agent = list(cfg.devices.led_boards), None
    return jsonify(agent=agent, boards=[b.model_dump(mode="json") for b in boards],
                   timeouts=dict(cfg.devices.timeouts))


def start_in_server(ctx) -> LedDriver | None:
    """Drive the boards with run_in: server from this process. Returns the driver (None: no such board)."""
    boards = [b for b in ctx.config.devices.led_boards if b.run_in == "server"]
    if not boards:
        return None
    reports: queue.Queue = queue.Queue()
    driver = LedDriver(boards, timeouts=ctx.config.devices.timeouts,
                       on_state=lambda board_id, state, detail: reports.put((board_id, state, detail)))
    driver.start()
    ctx.socketio.start_background_task(_watch, ctx, driver, reports)
    log.info("driving %d LED board(s) in the server: %s", len(boards), ", ".join(b.id for b in boards))
    return driver


def _watch(ctx, driver: LedDriver, reports: queue.Queue) -> None:
    timeouts = ctx.config.devices.timeouts
    poll = float(timeouts.get("led_poll_seconds", DEFAULT_POLL))
    beat = min(60.0, float(timeouts.get("missing_seconds", 120)) / 2)
    next_beat = time.monotonic() + beat
    counters = sorted(driver.counters())
    while True:
        ctx.socketio.sleep(poll)
        try:
            store = ctx.store
            for cid in counters:
                c = store.counter(cid)
                code = store.ticket(c["current_ticket_id"])["code"] if c["current_ticket_id"] else None
                driver.show_counter(cid, shown_for(c["state"], code))
            while True:
                try:
                    board_id, state, detail = reports.get_nowait()
                except queue.Empty:
                    break
                ctx.devices.report("led_board", board_id, state, detail, actor="server")
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + beat
                for board_id, st in driver.states().items():
                    ctx.devices.report("led_board", board_id, st["state"], st["detail"], actor="server")
        except Exception:  # noqa: BLE001 - the watcher must keep the boards going
            log.exception("LED watcher failed")
