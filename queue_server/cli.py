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

    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.fn(args) or 0


if __name__ == "__main__":
    sys.exit(main())
