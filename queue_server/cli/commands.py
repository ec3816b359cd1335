"""`qms`: the project's one command-line entry point."""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from queue_server.config import ConfigError, CentreConfig, load_config
from queue_server.config.settings import DEFAULT_DEVICE_PARTS
from queue_server.cli.webhooks import add_webhook_commands

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
    from queue_server.store import Store

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
    from queue_server.store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    print(summary(cfg, store))
    store.close()
    return 0


def cmd_close_day(args) -> int:
    from queue_server.store import Store

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

    for name in DEFAULT_DEVICE_PARTS:  # the device packages' own commands (import-procedures, dispenser)
        add_commands = getattr(importlib.import_module(f"{name}.server"), "add_commands", None)
        if add_commands is not None:
            add_commands(sub, _load, DEFAULT_CONFIG)

    from queue_server.dossiers.importing import add_command as add_dossier_import

    add_dossier_import(sub, _load, DEFAULT_CONFIG)  # qms import-dossiers
    add_server_commands(sub)
    add_supervision_commands(sub)
    from queue_server.simulate.cli import add_commands as add_simulator_commands  # qms simulate, qms calibrate
    add_simulator_commands(sub, DEFAULT_CONFIG)
    add_webhook_commands(sub, _load, DEFAULT_CONFIG)
    return p


def cmd_serve(args) -> int:
    from queue_server.cli.serve import serve

    return serve(args.config, host=args.host, port=args.port, db=args.db, async_mode=args.async_mode)


def _account_command(args, act) -> int:
    """Run `act(accounts)` on the config's database (its accounts seeded first); an AccountError exits 2."""
    from queue_server.accounts import AccountError, Accounts
    from queue_server.store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    try:
        accounts = Accounts(store, cfg)
        accounts.seed_from_config()
        act(accounts)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def cmd_user(args) -> int:
    password = args.password
    if password is None:
        import getpass

        password = getpass.getpass(f"password for {args.username}: ")

    def act(accounts):
        if args.user_command == "add":
            counters = [c for c in (args.counters or "").split(",") if c]
            accounts.add_user(args.username, password, args.role, counters, args.full_name or "")
            print(f"user {args.username} added ({args.role}{', counters ' + ','.join(counters) if counters else ''})")
        else:
            accounts.set_password(args.username, password)
            print(f"password of {args.username} changed; their sessions are signed out")

    return _account_command(args, act)


def cmd_user_reset(args) -> int:
    """`qms user reset-from-config [USERNAME ...]`: the accounts take config.yaml's passwords again (all the file
    lists when none is named), are owned by the file again and their sessions end."""

    def act(accounts):
        for username in args.usernames or [s.username for s in accounts.config.staff]:
            accounts.reset_from_config(username)
            print(f"{username}: password from {args.config}; their sessions are signed out")

    return _account_command(args, act)


def cmd_check_deploy(args) -> int:
    """`qms check-deploy`: what must change before the server goes public (docs/security.md), each with its fix.
    Exit status 1 when any error is found."""
    from queue_server.accounts import Accounts
    from queue_server.deploy_check import deploy_findings
    from queue_server.store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    try:
        findings = deploy_findings(cfg, Accounts(store, cfg), host=args.host)
    finally:
        store.close()
    for f in findings:
        print(f"{f.level.upper():8} {f.what}\n         fix: {f.fix}")
    errors = sum(f.level == "error" for f in findings)
    print(f"{errors} error(s), {len(findings) - errors} warning(s)"
          + ("" if errors else ": nothing blocks a public address"))
    return 1 if errors else 0


def cmd_device_token(args) -> int:
    from queue_server.accounts import AccountError, Accounts
    from queue_server.store import Store

    cfg = _load(args.config)
    store = Store(_db_path(args, cfg), cfg)
    try:
        token = Accounts(store, cfg).add_device_token(args.kind, args.device_id, args.note or "")
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

    x = usub.add_parser("reset-from-config", help="give accounts config.yaml's passwords again (default: all it lists)")
    x.add_argument("usernames", nargs="*")
    x.add_argument("--config", default=DEFAULT_CONFIG)
    x.add_argument("--db")
    x.set_defaults(fn=cmd_user_reset)

    k = sub.add_parser("check-deploy", help="list what must change before the server leaves 127.0.0.1, with fixes")
    k.add_argument("--config", default=DEFAULT_CONFIG)
    k.add_argument("--db")
    k.add_argument("--host", help="the address the server will listen on (default: server.host)")
    k.set_defaults(fn=cmd_check_deploy)

    d = sub.add_parser("device-token", help="make a token for a kiosk, display or agent (printed once)")
    d.add_argument("kind", choices=["kiosk", "display", "agent"])
    d.add_argument("device_id")
    d.add_argument("--note")
    d.add_argument("--config", default=DEFAULT_CONFIG)
    d.add_argument("--db")
    d.set_defaults(fn=cmd_device_token)


def cmd_report(args) -> int:
    """`qms report`: the report of a day, week, month or range (docs/reports.md), as a table, CSV or XLSX."""
    from queue_server import exports
    from queue_server import reports
    from queue_server.accounts import Accounts
    from queue_server.store import Store

    cfg = _load(args.config)
    if args.format == "json" and args.kind != "satisfaction-766":
        print("error: --format json is for --kind satisfaction-766 (the API gives any report as JSON)", file=sys.stderr)
        return 2
    if args.format == "xlsx" and not args.out:
        print("error: --format xlsx needs --out FILE", file=sys.stderr)
        return 2
    store = Store(_db_path(args, cfg), cfg)
    try:
        if args.day or args.week or args.month:
            if args.day:
                kind, on = "day", args.day
            elif args.week:
                kind, on = "week", args.week
            else:
                kind, on = "month", (args.month + "-01" if len(args.month) == 7 else args.month)
            try:
                day_from, day_to = reports.period(kind, on)
            except reports.ReportError:
                raise  # its own message (e.g. a year out of range)
            except ValueError:
                raise reports.ReportError(f"dates must be YYYY-MM-DD (a month YYYY-MM), got {on!r}") from None
        else:
            day_from, day_to = args.from_ or store.today(), args.to or args.from_ or store.today()
        accounts = Accounts(store, cfg)
        if args.kind == "satisfaction-766":
            return _satisfaction_766(args, store, accounts, day_from, day_to)
        rep = reports.build_report(store, day_from, day_to, args.group_by, staff_names=accounts.staff_name, lang=args.lang)
    except reports.ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if args.format == "table":
        text = exports.to_text(rep, args.lang)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return 0
    data, _, _ = exports.export(rep, args.format, args.lang)
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"{args.out}: {len(rep['rows'])} rows, {rep['from']} – {rep['to']}, by {args.group_by}")
    else:
        sys.stdout.buffer.write(data)
    return 0


def _satisfaction_766(args, store, accounts, day_from: str, day_to: str) -> int:
    """`qms report --kind satisfaction-766`: the export for the province (XLSX, or JSON to a file or stdout)."""
    from queue_server import satisfaction_766

    if args.format not in ("xlsx", "json"):
        print("error: --kind satisfaction-766 writes --format xlsx or json", file=sys.stderr)
        return 2
    rep = satisfaction_766.build(store, day_from, day_to, staff_names=accounts.staff_name,
                                 usernames=accounts.staff_username, lang=args.lang)
    data, _, _ = satisfaction_766.export(rep, args.format)
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"{args.out}: {len(rep['department'])} agencies, {len(rep['field'])} fields, {len(rep['officer'])} "
              f"officers, {rep['from']} – {rep['to']}")
    else:
        sys.stdout.buffer.write(data)
    return 0


def exports_formats() -> list[str]:
    from queue_server.exports import FORMATS

    return list(FORMATS)


def cmd_reload(args) -> int:
    """`qms reload`: check the file here, then ask the running server to reload its config (an admin's sign-in)."""
    import getpass
    import json
    import os
    import urllib.error
    import urllib.request

    cfg = _load(args.config)  # a bad file stops here, with every problem listed
    host = cfg.server.host if cfg.server.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    url = (args.url or f"http://{host}:{cfg.server.port}").rstrip("/")

    def post(path: str, body: dict, token: str | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"{}")
            except ValueError:
                return exc.code, {"message": str(exc)}

    try:
        token = args.token or os.environ.get("QMS_TOKEN")
        if not token:
            password = args.password or os.environ.get("QMS_PASSWORD") or getpass.getpass(f"password for {args.user}: ")
            status, answer = post("/api/v1/login", {"username": args.user, "password": password})
            if status != 200:
                print(f"error: sign-in refused: {answer.get('message', status)}", file=sys.stderr)
                return 2
            token = answer["token"]
        status, answer = post("/api/v1/admin/reload", {}, token)
    except (urllib.error.URLError, OSError) as exc:
        print(f"error: no server at {url}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"error: the server refused the reload and keeps its running config:\n{answer.get('message', status)}",
              file=sys.stderr)
        return 2
    print(f"reloaded {answer.get('path')}: config hash {answer.get('config_hash')}"
          + "".join(f"\n  note: {n}" for n in answer.get("notes", [])))
    return 0


def add_supervision_commands(sub) -> None:
    from queue_server.reports import GROUPINGS

    r = sub.add_parser("report", help="report of a day, week, month or range (table, CSV or XLSX)")
    r.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", help="first local day (default: today)")
    r.add_argument("--to", metavar="YYYY-MM-DD", help="last local day (default: --from)")
    r.add_argument("--day", metavar="YYYY-MM-DD", help="one day")
    r.add_argument("--week", metavar="YYYY-MM-DD", help="the week (Monday to Sunday) holding this day")
    r.add_argument("--month", metavar="YYYY-MM", help="one month")
    r.add_argument("--group-by", choices=GROUPINGS, default="service")
    r.add_argument("--kind", choices=["report", "satisfaction-766"], default="report",
                   help="satisfaction-766: the satisfaction export per agency, field and officer (xlsx or json)")
    r.add_argument("--format", choices=["table", *exports_formats(), "json"], default="table",
                   help="csv-semicolon: semicolons and decimal commas, for Vietnamese Excel")
    r.add_argument("--out", help="file to write (needed for xlsx)")
    r.add_argument("--lang", choices=["vi", "en"], default="vi")
    r.add_argument("--config", default=DEFAULT_CONFIG)
    r.add_argument("--db", help="database file (default: server.db_path of the config)")
    r.set_defaults(fn=cmd_report)

    x = sub.add_parser("reload", help="check config.yaml, then make the running server reload it (admin sign-in)")
    x.add_argument("--config", default=DEFAULT_CONFIG, help="the file the server was started with")
    x.add_argument("--url", help="the server (default: http://127.0.0.1:<server.port>)")
    x.add_argument("--user", default="admin", help="an admin account (default admin)")
    x.add_argument("--password", help="its password (or QMS_PASSWORD; asked for when missing)")
    x.add_argument("--token", help="an admin sign-in token instead (or QMS_TOKEN)")
    x.set_defaults(fn=cmd_reload)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve" and args.async_mode is None:
        args.async_mode = "eventlet"
    return args.fn(args) or 0


if __name__ == "__main__":
    sys.exit(main())
