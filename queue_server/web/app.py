"""The app factory: one Flask app, its Socket.IO server, and the parts they share."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import Flask, jsonify
from flask_socketio import SocketIO

from queue_server import __version__
from queue_server.accounts import Accounts
from queue_server.config import CentreConfig, load_config
from queue_server.devices import DeviceStates
from queue_server.push import Push
from queue_server.push.bus import Bus
from queue_server.web.parts import plug_in
from queue_server.web.toolkit import MAX_BODY_BYTES, WholeNumber, install_error_handlers, install_security_headers
from queue_server.commands import Commands
from queue_server.day_keeper import day_keeper_pass, run_day_keeper  # noqa: F401 - day_keeper_pass: tests' entry
from queue_server.web.sockets import Sockets
from queue_server.store import Store, meta, utc_now
from queue_server.read_models import ReadModels
from queue_server.webhooks import Deliverer



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
    devices: DeviceStates | None = None
    sockets: Sockets | None = None
    forecaster: object | None = None  # web/forecasting.py: the supervisors' forecast of today


def create_app(config: CentreConfig | str | Path, *, db_path: str | None = None, async_mode: str | None = None,
               clock: Callable[[], datetime] = utc_now, start_background: bool = True) -> Flask:
    if not isinstance(config, CentreConfig):
        config = load_config(config)
    app = Flask("queue_server")  # the package: its templates/ and static/ folders
    app.config["SECRET_KEY"] = config.server.secret_key
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # a larger body is refused (413) before it is read
    app.url_map.converters["int"] = WholeNumber  # ids in URLs stay within what SQLite holds: 404, not 500

    store = Store(db_path or config.server.db_path, config, clock=clock)
    store.close_stale_days()
    accounts = Accounts(store, config)
    accounts.seed_from_config()
    socketio = SocketIO(app, async_mode=async_mode or config.server.async_mode,
                        # the server's own origin (None), plus those the centre lists; never every origin
                        cors_allowed_origins=_origins(config),
                        ping_interval=10, ping_timeout=10, max_http_buffer_size=64_000)
    read = ReadModels(store)
    push = Push(socketio, read, coalesce_ms=config.server.coalesce_ms)
    if config.server.message_queue:  # other server processes on this database hear of our writes through Redis
        push.bus = Bus(config.server.message_queue, socketio, on_committed=push.deliver_committed,
                       on_emit=push.emit_forwarded)
    commands = Commands(store, push, read, accounts)
    ctx = Context(config, store, accounts, read, push, commands, socketio, devices=DeviceStates(store, push))
    app.extensions["qms"] = ctx
    ctx.sockets = Sockets(socketio, ctx)

    from queue_server.web import admin, api, integrations, pages, public, supervision, terminal  # the app's context

    app.extensions["qms_webhooks"] = webhooks = Deliverer(store)  # signed webhooks, sent from the outbox
    for bp in (api.bp, pages.bp, terminal.bp, supervision.bp, admin.bp, integrations.bp, public.bp):
        app.register_blueprint(bp)
    from queue_server.web import dossiers  # the dossier look-up (GET /api/v1/dossiers/<code>)

    app.register_blueprint(dossiers.bp)
    from queue_server.web import estimate_log  # each ticket's estimate at issue, and how far they held

    app.register_blueprint(estimate_log.bp)
    from queue_server.web import bookings  # online bookings (docs/booking.md)

    app.register_blueprint(bookings.bp)
    commands.after_issue.append(estimate_log.recorder(store))
    part_starts = plug_in(app, ctx, config.server.device_parts)  # kiosk and printing, displays, ratings

    @app.get("/healthz")
    def healthz():
        health = meta.health(store)
        ok = health["integrity"] == "ok"
        return jsonify(ok=ok, version=__version__, store={"path": store.path, **health,
                                                          "last_seq": store.last_seq(), "today": store.today()},
                       async_mode=socketio.async_mode,
                       message_queue=push.bus.health() if push.bus is not None else None), (200 if ok else 503)

    install_error_handlers(app)
    install_security_headers(app)

    if start_background:
        push.start()
        if push.bus is not None:
            push.bus.start()
        socketio.start_background_task(run_day_keeper, ctx)
        socketio.start_background_task(ctx.sockets.keep_checking)  # idle sockets' tokens, checked again
        supervision.start(ctx)  # alerts, report days
        webhooks.start(socketio)  # one task per receiver; never inside a request
        for start in part_starts:
            start()
    return app


def _origins(config: CentreConfig):
    """Socket.IO's allowed origins: None is the server's own origin only (as the browser reached it, proxies'
    X-Forwarded-Host/Proto included); a list adds the configured ones to it."""
    if not config.server.allowed_origins:
        return None
    return lambda origin, environ: origin in config.server.allowed_origins or origin in _own_origins(environ)


def _own_origins(environ) -> set[str]:
    host = environ.get("HTTP_HOST", "")
    out = {f"{environ.get('wsgi.url_scheme', 'http')}://{host}"}
    if "HTTP_X_FORWARDED_HOST" in environ or "HTTP_X_FORWARDED_PROTO" in environ:
        scheme = environ.get("HTTP_X_FORWARDED_PROTO", environ.get("wsgi.url_scheme", "http")).split(",")[0].strip()
        out.add(f"{scheme}://{environ.get('HTTP_X_FORWARDED_HOST', host).split(',')[0].strip()}")
    return out
