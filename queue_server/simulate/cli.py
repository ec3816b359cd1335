"""`qms simulate` and `qms calibrate` (docs/simulator.md)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

from queue_server.simulate import params as P
from queue_server.simulate import report, run


def add_commands(sub, default_config: str) -> None:
    s = sub.add_parser("simulate", help="simulate days of the centre (staffing what-ifs, the estimate's accuracy)")
    s.add_argument("--config", default=default_config)
    s.add_argument("--days", type=int, default=20, help="working days to simulate (default 20)")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--tickets-per-day", type=float, default=P.FOUNDING_DAILY,
                   help="the centre's tickets on an average working day (default: the founding centre's 275)")
    s.add_argument("--params", help="a calibration file from `qms calibrate` (replaces demand and service times)")
    s.add_argument("--what-if", dest="what_if", action="append", default=[],
                   help="a YAML file of staffing or demand changes, run beside the base (may be given again)")
    s.add_argument("--estimate-every", type=int, default=1, help="estimate every n-th ticket (default every one)")
    s.add_argument("--out", help="folder for services.csv, counters.csv, report.html and its PNG plots")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=cmd_simulate)

    c = sub.add_parser("calibrate", help="fit the simulator's parameters from the event log of real days")
    c.add_argument("--config", default=default_config)
    c.add_argument("--db", help="database file (default: server.db_path of the config)")
    c.add_argument("--from", dest="from_", metavar="YYYY-MM-DD")
    c.add_argument("--to", metavar="YYYY-MM-DD")
    c.add_argument("--out", default="-", help="YAML file to write (default: print it)")
    c.set_defaults(fn=cmd_calibrate)


def build_params(args, config) -> P.Params:
    p = P.from_config(config, args.tickets_per_day)
    if args.params:
        p = P.apply_calibration(p, P.load_yaml(args.params))
    return p


def _progress(days: int, label: str, quiet: bool):
    if quiet or days < 5:
        return None, None
    try:
        from rich.progress import Progress
    except ImportError:  # no progress bar without rich; the run is the same
        return None, None
    bar = Progress(transient=True)
    task = bar.add_task(label, total=days)
    bar.start()
    return bar, (lambda done: bar.update(task, completed=done))


def cmd_simulate(args) -> int:
    from queue_server.config import ConfigError, load_config

    if args.days < 1 or args.days > 5000 or args.tickets_per_day <= 0 or args.estimate_every < 1:
        print("qms simulate: --days 1-5000, --tickets-per-day > 0, --estimate-every >= 1", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
        base = build_params(args, config)
        plans = {"base": base}
        for i, path in enumerate(args.what_if):
            other = P.apply_what_if(base, P.load_yaml(path), Path(path).stem)
            plans[other.name if other.name not in plans else f"what-if-{i + 1}"] = other
    except (ConfigError, P.ParamsError) as e:
        print(f"qms simulate: {e}", file=sys.stderr)
        return 2
    opts = P.Options(days=args.days, seed=args.seed, estimate_every=args.estimate_every)
    results, started = {}, time.perf_counter()
    for name, p in plans.items():
        bar, tick = _progress(args.days, f"simulating {name}", args.quiet)
        try:
            results[name] = run.simulate(p, opts, tick)
        finally:
            if bar is not None:
                bar.stop()
    elapsed = time.perf_counter() - started
    names = {sid: svc.name for sid, (_, svc) in config.services().items()}
    services = {name: run.service_rows(plans[name], days) for name, days in results.items()}
    counters = {name: run.counter_rows(plans[name], days) for name, days in results.items()}
    preds = [x for d in results["base"] for x in d.predictions]
    acc = run.accuracy_table(preds, list(base.services))["overall"]
    tables = [("Per service (waits in minutes)", report.service_table(services, names)),
              ("Per counter", report.counter_table(counters)),
              ("The wait estimate against its baselines (base run)", report.accuracy_table(acc))]
    for caption, text in tables:
        print(caption)
        print(text)
        print()
    print(f"{args.days} days x {len(plans)} run(s), {sum(sum(sum(d.issued.values()) for d in r) for r in results.values())} "
          f"tickets, in {elapsed:.1f} s")
    if args.out:
        out = Path(args.out)
        report.write_csv(out, services, counters)
        focus = _focus(services)
        images = report.plots(out, services, counters, names, focus)
        page = report.write_html(out, f"{config.centre.name}: {args.days} simulated days", tables, images)
        print(f"wrote {out / 'services.csv'}, {out / 'counters.csv'}, {page}")
    return 0


def _focus(services: dict[str, list]) -> list[str]:
    """The services whose queues the plot follows: the three longest on average in any run."""
    best: dict[str, float] = {}
    for rows in services.values():
        for r in rows:
            best[r.service] = max(best.get(r.service, 0.0), r.mean_queue)
    return sorted(best, key=best.get, reverse=True)[:3]


def cmd_calibrate(args) -> int:
    from queue_server.cli.commands import _db_path
    from queue_server.config import ConfigError, load_config
    from queue_server.simulate.calibrate import fit
    from queue_server.store import Store, queue_reads

    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"qms calibrate: {e}", file=sys.stderr)
        return 2
    store = Store(_db_path(args, config), config)
    try:
        fitted = fit(queue_reads.ticket_history(store, args.from_, args.to), config.tz)
    finally:
        store.close()
    text = yaml.safe_dump(fitted, allow_unicode=True, sort_keys=False)
    if args.out == "-":
        print(text, end="")
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: {fitted['days']} days, {len(fitted['services'])} services")
    return 0
