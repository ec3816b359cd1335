"""The app factory: one Flask app, its Socket.IO server, and the parts they share."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import Flask, jsonify
from flask_socketio import SocketIO

from queue_server import __version__
from queue_server.accounts import Accounts
from queue_server.config import CentreConfig, load_config
from queue_server.devices import Devices
from queue_server.push import Push
from queue_server.web.toolkit import install_error_handlers
from queue_server.commands import Commands
from queue_server.web.sockets import Sockets
from queue_server.store import Store, utc_now
from queue_server.read_models import ReadModels

log = logging.getLogger(__name__)


@dataclass
class Context:
    """Everything a request handler needs, hung on app.extensions['qms'] (no module-level state)."""

    config: CentreConfig
    store: Store
    accounts: Accounts
    read: ReadModels
    push: Push
    commands: Commands
    socketio: SocketIO
    devices: Devices | None = None
    sockets: Sockets | None = None


def create_app(config: CentreConfig | str | Path, *, db_path: str | None = None, async_mode: str | None = None,
               clock: Callable[[], datetime] = utc_now, start_background: bool = True) -> Flask:
    if not isinstance(config, CentreConfig):
        config = load_config(config)
    app = Flask("queue_server")  # the package: its templates/ and static/ folders
    app.config["SECRET_KEY"] = config.server.secret_key
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    store = Store(db_path or config.server.db_path, config, clock=clock)
    store.close_stale_days()
    accounts = Accounts(store.conn, store.writer, config, store.now_ms)
    accounts.seed_from_config()
    socketio = SocketIO(app, async_mode=async_mode or config.server.async_mode,
                        message_queue=config.server.message_queue, cors_allowed_origins=[],
                        ping_interval=10, ping_timeout=10, max_http_buffer_size=64_000)
    read = ReadModels(store)
    push = Push(socketio, read, coalesce_ms=config.server.coalesce_ms, shared_queue=bool(config.server.message_queue))
    commands = Commands(store, push, read, accounts)
    ctx = Context(config, store, accounts, read, push, commands, socketio, devices=Devices(store, push))
    app.extensions["qms"] = ctx
    ctx.sockets = Sockets(socketio, ctx)

    from queue_server.web.api import bp as api_bp
    from queue_server.web.pages import bp as pages_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    from ticket_printer.kiosk import bp as kiosk_bp; app.register_blueprint(kiosk_bp)  # noqa: E702 - kiosk, procedures, ticket status
    from ticket_printer.print_routes import install as install_printing; install_printing(app, ctx, start_background=start_background)  # noqa: E702,E501 - slips, printers, printer agents
    from displays.clips_web import bp as clips_bp; app.register_blueprint(clips_bp)  # noqa: E702 - voice clip packs
    from displays.led_server import bp as led_bp; app.register_blueprint(led_bp)  # noqa: E702 - LED boards
    from queue_server.web.terminal import bp as terminal_bp; app.register_blueprint(terminal_bp)  # noqa: E702 - counter terminal
    from displays.pages import bp as display_pages_bp; app.register_blueprint(display_pages_bp)  # noqa: E702 - display pages
    from queue_server.web.supervision import bp as supervision_bp; app.register_blueprint(supervision_bp)  # noqa: E702 - supervisor, reports
    from queue_server.web.admin import bp as admin_bp; app.register_blueprint(admin_bp)  # noqa: E702 - admin
    from feedback_buttons.routes import init_app as init_ratings; init_ratings(app, start_background=start_background)  # noqa: E702,E501 - ratings, keypads, rating page

    @app.get("/healthz")
    def healthz():
        row = store.conn.execute("PRAGMA quick_check").fetchone()[0]
        journal = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
        ok = row == "ok"
        return jsonify(ok=ok, version=__version__, store={"path": store.path, "integrity": row, "journal_mode": journal,
                                                          "last_seq": store.last_seq(), "today": store.today()},
                       async_mode=socketio.async_mode), (200 if ok else 503)

    install_error_handlers(app)

    if start_background:
        push.start()
        socketio.start_background_task(_day_keeper, ctx)
        from queue_server.web.supervision import start as start_supervision; start_supervision(ctx)  # noqa: E702 - alerts, report days
        from displays.led_server import start_in_server; start_in_server(ctx)  # noqa: E702 - LED boards run_in: server
    return app


def _day_keeper(ctx: Context) -> None:
    """Every 30 s, one step of keep_day."""
    while True:
        ctx.socketio.sleep(30)
        try:
            keep_day(ctx)
        except Exception:  # noqa: BLE001 - the keeper must keep running
            log.exception("day keeper failed")


def keep_day(ctx: Context) -> None:
    """Close the day at hours.close_day_at, and close leftovers of earlier days after midnight."""
    store = ctx.store
    result = store.close_stale_days()
    now = store.local_now()
    last = store.conn.execute("SELECT value FROM meta WHERE key = 'last_close'").fetchone()
    closed_today = last is not None and f'"day": "{store.today()}"' in last[0]
    if not closed_today and now.time() >= ctx.config.hours.close_day_at:
        result = store.close_day(actor="schedule")
    if result.events:
        ctx.push.publish(result)
    ctx.devices.sweep(ctx.sockets.connected_devices() if ctx.sockets else set())
