"""Durable write rates: raw SQLite, and the queue engine through Store (no HTTP, no push).

(a) raw SQLite on this disk: WAL, synchronous=FULL, one INSERT + COMMIT per row;
(b) Store.issue in a tight loop (each call one BEGIN IMMEDIATE ... COMMIT with the real rules: service
    status, next number, insert, position, event), then call_next + finish pairs, then issue from 4 threads
    sharing one Store (the single-writer lock);
(c) issue rate / raw commit rate;
(d) integrity: no duplicate number, code, token or sequence index, no gap in the sequence indexes, one
    ticket.issued event per ticket.

The database lives under var/bench/ (git-ignored), on the same file system as the repository.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

from queue_server.config import CentreConfig, parse_config
from queue_server.core.errors import DomainError

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"


def midday_zone(now: datetime | None = None) -> str:
    """A whole-hour UTC offset zone in which `now` (default: this instant) reads 12:xx.

    The bench centre lives on the real clock. Always open (`queue.always_open`), the day keeper never closes its
    day at `hours.close_day_at`; placed in this zone, local midnight (when a day's leftovers are closed) is
    about 11 hours away from the start of any bench. So the results do not depend on the hour the bench runs."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    offset = (12 - now.hour) % 24
    if offset > 14:
        offset -= 24  # Etc/GMT zones run from UTC-12 to UTC+14
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-7 is UTC+7


def bench_config() -> tuple[CentreConfig, str]:
    """The repo's config.yaml (else the test fixture), always open and without daily caps."""
    path = ROOT / "config.yaml"
    if not path.exists():
        path = ROOT / "tests" / "fixtures" / "centre.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("queue", {})["always_open"] = True
    data["centre"]["timezone"] = midday_zone()
    for dept in data["departments"]:
        for svc in dept["services"]:
            svc.pop("daily_cap", None)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return parse_config(text, f"{path.name} (bench variant)"), str(path.relative_to(ROOT))


def one_service_per_range(cfg: CentreConfig) -> list[str]:
    """One service for each number range, so the load spreads over every range evenly."""
    chosen: dict[str, str] = {}
    for sid in cfg.services():
        chosen.setdefault(cfg.numbering_of(sid)[0], sid)
    return list(chosen.values())


# ------------------------------------------------------------------ (a) raw SQLite

def raw_commits(dir_: Path, seconds: float) -> dict:
    conn = sqlite3.connect(str(dir_ / "raw.sqlite3"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, day TEXT NOT NULL, code TEXT NOT NULL, ts_ms INTEGER NOT NULL)")
    n = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (day, code, ts_ms) VALUES ('2026-11-25', ?, ?)", (f"A{n:06d}", n))
        conn.execute("COMMIT")
        n += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    conn.close()
    return {"raw_commits": n, "raw_commits_per_s": n / wall, "raw_cpu_ms_per_commit": cpu * 1000 / n}


# ------------------------------------------------------------------ (b) the engine through Store

def issue_loop(store, services: list[str], seconds: float, codes: list[str]) -> tuple[int, float, float, int]:
    """Issue round-robin over `services` for `seconds`; a range used up drops out. (n, wall, cpu, exhausted)."""
    live = list(services)
    n = exhausted = i = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    end = t0 + seconds
    while live and time.perf_counter() < end:
        sid = live[i % len(live)]
        i += 1
        try:
            r = store.issue(sid)
        except DomainError as exc:
            if exc.code != "range_exhausted":
                raise
            live.remove(sid)
            exhausted += 1
            continue
        codes.append(r.ticket["code"])
        n += 1
    return n, time.perf_counter() - t0, time.process_time() - cpu0, exhausted


def call_finish_loop(store, seconds: float) -> tuple[int, float, float]:
    """Open every counter, then round-robin: call_next + finish, until nothing waits or time is up."""
    for c in store.config.counters:
        store.set_counter_state(c.id, "open", actor="bench")
    live = [c.id for c in store.config.counters]
    n = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    end = t0 + seconds
    i = 0
    while live and time.perf_counter() < end:
        cid = live[i % len(live)]
        try:
            r = store.call_next(cid, actor="bench")
        except DomainError as exc:
            if exc.code != "nothing_waiting":
                raise
            live.remove(cid)
            continue
        store.finish(r.ticket["id"], cid, actor="bench")
        n += 1
        i += 1
    return n, time.perf_counter() - t0, time.process_time() - cpu0


def threaded_issue(store, services: list[str], seconds: float, threads: int, codes: list[str]) -> tuple[int, float]:
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(k: int):
        mine: list[str] = []
        try:
            issue_loop(store, services[k:] + services[:k], seconds, mine)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        with lock:
            codes.extend(mine)

    before = len(codes)
    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return len(codes) - before, time.perf_counter() - t0


def integrity(conn: sqlite3.Connection, codes: list[str]) -> dict:
    one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731
    tickets = one("SELECT COUNT(*) FROM tickets")
    figures = {
        "tickets_total": tickets,
        "dup_numbers": one("SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY day, seq_key, number HAVING COUNT(*) > 1)"),
        "dup_codes": one("SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY day, code HAVING COUNT(*) > 1)"),
        "dup_seq_index": one("SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY day, seq_key, seq_index HAVING COUNT(*) > 1)"),
        "dup_tokens": one("SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY token HAVING COUNT(*) > 1)"),
        "seq_index_gaps": one("""SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY day, seq_key
                                 HAVING MAX(seq_index) + 1 != COUNT(*) OR MIN(seq_index) != 0)"""),
        "dup_codes_returned": len(codes) - len(set(codes)),
        "issued_events_mismatch": abs(tickets - one("SELECT COUNT(DISTINCT ticket_id) FROM events WHERE type = 'ticket.issued'")),
        "event_id_gaps": one("SELECT COALESCE(MAX(id) - MIN(id) + 1 - COUNT(*), 0) FROM events"),
    }
    figures["duplicates_total"] = sum(v for k, v in figures.items() if k.startswith("dup_"))
    figures["integrity_ok"] = all(v == 0 for k, v in figures.items() if k != "tickets_total")
    return figures


def run(seconds: float = 3.0) -> dict:
    from queue_server.store import Store

    WORK.mkdir(parents=True, exist_ok=True)
    dir_ = Path(tempfile.mkdtemp(prefix="engine-", dir=WORK))
    try:
        figures: dict = {}
        figures.update(raw_commits(dir_, seconds))

        cfg, source = bench_config()
        services = one_service_per_range(cfg)
        figures.update({"config": source, "ranges_used": len(services)})

        # Stress: issue as fast as possible, then call + finish against that deep queue.
        store = Store(dir_ / "qms.sqlite3", cfg)
        try:
            codes: list[str] = []
            n, wall, cpu, exhausted = issue_loop(store, services, seconds, codes)
            figures.update({"issue_tickets": n, "issue_per_s": n / wall, "issue_cpu_ms_per_ticket": cpu * 1000 / n,
                            "issue_ranges_exhausted": exhausted})
            figures["issue_over_raw"] = figures["issue_per_s"] / figures["raw_commits_per_s"]

            waiting = sum(store.waiting_counts().values())
            pairs, wall, cpu = call_finish_loop(store, seconds)
            figures.update({
                "deep_queue_waiting_at_start": waiting, "deep_call_finish_pairs": pairs,
                "deep_call_finish_pairs_per_s": pairs / wall,
                "deep_call_finish_cpu_ms_per_pair": cpu * 1000 / pairs if pairs else 0.0,
            })

            threads = 4
            n4, wall4 = threaded_issue(store, services, min(seconds, 2.0), threads, codes)
            figures.update({"issue_threads": threads, "issue_threaded_tickets": n4, "issue_threaded_per_s": n4 / wall4})
            figures.update(integrity(store.conn, codes))
        finally:
            store.close()

        # A busy day's depth: 20 waiting per range, then call + finish until the hall is empty.
        store = Store(dir_ / "day.sqlite3", cfg)
        try:
            day_codes: list[str] = []
            for _ in range(20):
                for sid in services:
                    day_codes.append(store.issue(sid).ticket["code"])
            waiting = sum(store.waiting_counts().values())
            pairs, wall, cpu = call_finish_loop(store, max(seconds, 30.0))
            figures.update({
                "day_queue_waiting_at_start": waiting, "day_call_finish_pairs": pairs,
                "day_call_finish_pairs_per_s": pairs / wall,
                "day_call_finish_cpu_ms_per_pair": cpu * 1000 / pairs if pairs else 0.0,
                "day_integrity_ok": integrity(store.conn, day_codes)["integrity_ok"] and pairs == waiting,
            })
        finally:
            store.close()
        return figures
    finally:
        shutil.rmtree(dir_, ignore_errors=True)
