"""Run the benchmarks: `python -m bench` runs every section in order, `python -m bench engine` one of them.

A section is a function `fn(seconds: float) -> dict` returning flat figures (name -> number or text);
`seconds` is the length of each timed phase. To add a section, import its function and add it to SECTIONS.
Results go to bench/results/<section>-<timestamp>.json and bench/results/latest-<section>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import booking, catalogue, engine, server
from . import year
from . import estimates
from . import issue_path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench"  # git-ignored scratch space on the repository's own disk

# name -> function(seconds) -> figures. Sections run in this order.
SECTIONS: dict[str, Callable[..., dict]] = {
    "engine": engine.run,
    "issue_path": issue_path.run,  # one issued ticket in process with 300 waiting: CPU per request and per tick
    "server": server.run,  # a real server process under load, both async modes (a few minutes)
    "catalogue": catalogue.run,  # procedure search over 2,000 procedures: the index and GET /api/v1/procedures
    "year": year.run,  # a busy year (300,000 tickets) generated, then every report over it (< 1 s each)
    "estimates": estimates.run,  # the wait estimate against simulated waits and two baselines; a simulated year
    "faults": lambda seconds: _faults(seconds),  # the scripted bad day: a simulated hour with faults (~5 minutes)
    "booking": booking.run,  # the booking rush: 10,000 attempts, one server then two over Redis (~3 minutes)
}


def _faults(seconds: float) -> dict:
    from . import faults  # imported when run: it uses the test suite's helpers (redis-server, ptys, emulators)

    return faults.run(seconds)


def filesystem_of(path: Path) -> str:
    """The file system type holding `path` (from /proc/mounts), e.g. 'ext4 on /dev/vda'."""
    try:
        best = ("", "?", "?")
        target = str(path.resolve())
        for line in Path("/proc/mounts").read_text().splitlines():
            dev, mnt, fstype = line.split()[:3]
            if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
                best = (mnt, fstype, dev)
        return f"{best[1]} on {best[2]} (mounted at {best[0]})"
    except OSError:
        return "unknown"


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "filesystem": filesystem_of(WORK if WORK.exists() else ROOT),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews the figures
    }


def fmt(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(section: str, figures: dict) -> None:
    width = max((len(k) for k in figures), default=10)
    print(f"\n== {section} " + "=" * max(0, width + 20 - len(section)))
    for k, v in figures.items():
        print(f"  {k:<{width}}  {fmt(v):>14}")


def save(section: str, started: datetime, elapsed: float, figures: dict, seconds: float, info: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    record = {"section": section, "started": started.isoformat(timespec="seconds"), "elapsed_s": round(elapsed, 2),
              "phase_seconds": seconds, "machine": info, "figures": rounded}
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{section}-{stamp}.json"
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    (RESULTS / f"latest-{section}.json").write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description="Run the project's benchmarks.")
    p.add_argument("sections", nargs="*", metavar="SECTION", help=f"sections to run (default: all of {', '.join(SECTIONS)})")
    p.add_argument("--seconds", type=float, default=3.0, help="length of each timed phase (default 3)")
    p.add_argument("--no-save", action="store_true", help="print only, write no JSON")
    args = p.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    chosen = args.sections or list(SECTIONS)

    WORK.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"python {info['python']}, {info['cpus']} CPUs, SQLite {info['sqlite']}, scratch {WORK} ({info['filesystem']}), "
          f"load average {info['load_average_1m']}")
    for name in chosen:
        started = datetime.now(timezone.utc)
        info = machine()  # load average before the section runs
        t0 = time.perf_counter()
        figures = SECTIONS[name](seconds=args.seconds)
        elapsed = time.perf_counter() - t0
        print_table(name, figures)
        if not args.no_save:
            path = save(name, started, elapsed, figures, args.seconds, info)
            print(f"  -> {path.relative_to(ROOT)} ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
