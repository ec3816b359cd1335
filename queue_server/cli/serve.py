"""`qms serve`: the real server (eventlet by default, gevent as the maintained alternative).

Monkey patching must come before Flask, sockets or threads are imported, so `qms serve` calls
`patch(mode)` first and imports the app afterwards.
"""
from __future__ import annotations

from pathlib import Path
import sys
import warnings


def patch(mode: str) -> None:
    if mode == "eventlet":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # eventlet announces its own retirement on import
            import eventlet
        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        raise ValueError(f"unknown async mode {mode!r}")


def nodelay_gevent() -> None:
    """gevent's WSGI server leaves Nagle on: an answer written in two parts waits for the client's delayed ACK
    (~40 ms per request on a kept-alive connection). Eventlet sets TCP_NODELAY itself."""
    import socket

    from gevent import pywsgi

    handle = pywsgi.WSGIHandler.handle

    def handle_nodelay(self):
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return handle(self)

    pywsgi.WSGIHandler.handle = handle_nodelay


def serve(config_path: str, *, host: str | None, port: int | None, db: str | None, async_mode: str) -> int:
    from queue_server.deploy_check import is_loopback
    from queue_server.web.app import create_app
    from queue_server.web.device_links import print_links
    from queue_server.config import ConfigError, load_config

    try:
        cfg = load_config(config_path)
    except ConfigError as exc:
        print(f"config error:\n{exc}", file=sys.stderr)
        return 2
    host = host or cfg.server.host
    port = port or cfg.server.port
    if not is_loopback(host):
        demo = public_refusals(cfg, db)
        if demo:
            print(f"refusing to listen on {host}: demo values are still in force:\n"
                  + "".join(f"  - {x}\n" for x in demo)
                  + "Fix each one (docs/security.md; `qms check-deploy` lists them), or listen on 127.0.0.1.",
                  file=sys.stderr)
            return 2
    app = create_app(cfg, db_path=db, async_mode=async_mode)
    app.config["QMS_CONFIG_PATH"] = str(Path(config_path).resolve())  # what POST /api/v1/admin/reload re-reads
    app.config["QMS_LISTEN_HOST"] = host  # a reload on a public address is refused demo values too
    ctx = app.extensions["qms"]
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    print(f"{cfg.centre.name} — qms on {base} ({async_mode}), database {ctx.store.path}")
    print(f"  start page       {base}/")
    print_links(cfg, base, sys.stdout)  # with the demo tokens in demo mode: each opens a working device
    print(f"  counter terminal {base}/counter")
    print(f"  supervisor       {base}/supervisor")
    print(f"  API              {base}/api/v1/services   health {base}/healthz")
    if cfg.centre.demo:
        print(f"  demo accounts and device tokens: {config_path} (sections staff and devices)")
    sys.stdout.flush()
    kwargs = {"log_output": False}
    if async_mode == "eventlet":
        kwargs["max_size"] = cfg.server.max_connections  # eventlet caps at 1,024 connections otherwise
    import gc

    gc.freeze()  # what startup built lives as long as the process: the collector skips it from now on
    gc.set_threshold(50_000, 20, 100)  # fewer full collections: one over 2,000 sockets' objects stalls the hub ~0.3 s
    if async_mode == "gevent":
        nodelay_gevent()
    ctx.socketio.run(app, host=host, port=port, **kwargs)
    return 0


def public_refusals(cfg, db: str | None) -> list[str]:
    """The demo values a public address refuses, in the file and in the database (the accounts are seeded
    first, so a password the file changed counts as changed)."""
    from queue_server.accounts import Accounts
    from queue_server.deploy_check import demo_offenders
    from queue_server.store import Store

    store = Store(db or cfg.server.db_path, cfg)
    try:
        accounts = Accounts(store, cfg)
        accounts.seed_from_config()
        return demo_offenders(cfg, accounts)
    finally:
        store.close()
