"""`qms`: the project's one command-line entry point."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import ConfigError, CentreConfig, load_config

DEFAULT_CONFIG = "config.yaml"


def _load(path: str) -> CentreConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"config error:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _db_path(args, cfg: CentreConfig) -> str:
    return args.db or cfg.server.db_path


def cmd_check_config(args) -> int:
    cfg = _load(args.file)
    services = sum(len(d.services) for d in cfg.departments)
    print(f"{args.file}: OK — {len(cfg.departments)} departments, {services} services, {len(cfg.counters)} counters, "
          f"config hash {cfg.config_hash()}")
    return 0


def cmd_migrate(args) -> int:
    from .store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    print(f"{store.path}: migrations applied now: {', '.join(store.migrated) or 'none (up to date)'}")
    store.close()
    return 0


def summary(cfg: CentreConfig, store) -> str:
    statuses = store.service_statuses()
    waiting = store.waiting_counts()
    lines = [f"{cfg.centre.name}", f"  {cfg.centre.name_en}" if cfg.centre.name_en else "",
             f"  time zone {cfg.centre.timezone}; local day {store.today()}; database {store.path}",
             f"  {len(cfg.departments)} departments, {len(store.config.counters)} counters"]
    for d in cfg.departments:
        lines.append(f"  {d.name}")
        for s in d.services:
            st = statuses[s.id]
            state = "open" if st.open else f"closed ({st.reason}{', opens ' + st.opens_at if st.opens_at else ''})"
            _, rng = cfg.numbering_of(s.id)
            lines.append(f"    - {s.name}: numbers {rng.code(rng.start)}-{rng.code(rng.end)}, {waiting[s.id]} waiting, {state}")
    return "\n".join(x for x in lines if x)


def cmd_summary(args) -> int:
    from .store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    print(summary(cfg, store))
    store.close()
    return 0


def cmd_close_day(args) -> int:
    from .store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    result = store.close_day(actor="cli")
    unserved = sum(1 for e in result.events if e["type"] == "ticket.unserved")
    print(f"closed the day {store.today()}: {unserved} tickets marked unserved, counters closed")
    store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qms", description="Queue management for a public administrative service centre")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check-config", help="validate a config file and print a summary line")
    c.add_argument("file", nargs="?", default=DEFAULT_CONFIG)
    c.set_defaults(fn=cmd_check_config)

    for name, fn, help_ in (("migrate", cmd_migrate, "apply database migrations"),
                            ("summary", cmd_summary, "print the centre's services and queues"),
                            ("close-day", cmd_close_day, "end the day now: leftovers become unserved, counters close")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("--config", default=DEFAULT_CONFIG)
        s.add_argument("--db", help="database file (default: server.db_path of the config)")
        s.set_defaults(fn=fn)

    add_server_commands(sub)
    return p


def cmd_serve(args) -> int:
    from .serve import serve

    return serve(args.config, host=args.host, port=args.port, db=args.db, async_mode=args.async_mode)


def cmd_user(args) -> int:
    from .accounts import AccountError, Accounts
    from .store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    accounts = Accounts(store.conn, store.writer, cfg, store.now_ms)
    accounts.seed_from_config()
    password = args.password
    if password is None:
        import getpass

        password = getpass.getpass(f"password for {args.username}: ")
    try:
        if args.user_command == "add":
            counters = [c for c in (args.counters or "").split(",") if c]
            accounts.add_user(args.username, password, args.role, counters, args.full_name or "")
            print(f"user {args.username} added ({args.role}{', counters ' + ','.join(counters) if counters else ''})")
        else:
            accounts.set_password(args.username, password)
            print(f"password of {args.username} changed; their sessions are signed out")
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def cmd_device_token(args) -> int:
    from .accounts import AccountError, Accounts
    from .store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    try:
        token = Accounts(store.conn, store.writer, cfg, store.now_ms).add_device_token(args.kind, args.device_id, args.note or "")
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(token)
    return 0


def add_server_commands(sub) -> None:
    s = sub.add_parser("serve", help="start the server (eventlet by default)")
    s.add_argument("--config", default=DEFAULT_CONFIG)
    s.add_argument("--db", help="database file (default: server.db_path of the config)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--async-mode", choices=["eventlet", "gevent"])
    s.set_defaults(fn=cmd_serve)

    u = sub.add_parser("user", help="staff accounts")
    usub = u.add_subparsers(dest="user_command", required=True)
    for name in ("add", "passwd"):
        x = usub.add_parser(name)
        x.add_argument("username")
        x.add_argument("--password", help="(asked for when left out)")
        x.add_argument("--config", default=DEFAULT_CONFIG)
        x.add_argument("--db")
        if name == "add":
            x.add_argument("--role", choices=["admin", "supervisor", "staff"], default="staff")
            x.add_argument("--counters", help="comma-separated counter ids")
            x.add_argument("--full-name")
        x.set_defaults(fn=cmd_user)

    d = sub.add_parser("device-token", help="make a token for a kiosk, display or agent (printed once)")
    d.add_argument("kind", choices=["kiosk", "display", "agent"])
    d.add_argument("device_id")
    d.add_argument("--note")
    d.add_argument("--config", default=DEFAULT_CONFIG)
    d.add_argument("--db")
    d.set_defaults(fn=cmd_device_token)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve" and args.async_mode is None:
        args.async_mode = "eventlet"
    return args.fn(args) or 0


if __name__ == "__main__":
    sys.exit(main())
