"""A year of a busy centre, then every report over it: the < 1 s target of the reports (docs/reports.md).

(a) Generate: the demo centre (config.yaml: 15 departments, 32 counters) through 2025's working days, about
    1,200 tickets a day (300,000 in the year; QMS_BENCH_YEAR_TICKETS changes it). A small discrete-event
    simulation per day: arrivals peaking early in each session, each service's counters calling the earliest
    ticket (priority first), lognormal serving times around each service's avg_service_minutes, and the
    things that make reports hard: no-shows, recalls, transfers (a second leg in another queue), parked and
    resumed tickets, citizens who leave (cancelled), tickets left at closing time (unserved), priority
    tickets, and ratings (counted, repeated, flagged, unattributed). Rows are written exactly as the store and
    the ratings recorder write them (same columns, same event data), in bulk, into a scratch database.
(b) Derive: report_legs for the whole year from the event log, once (what the server's background task does a
    few days at a time; a report finds finished days ready).
(c) Report: the year grouped by department, service, counter, officer, hour, day and total (the median of
    three runs each), a month and a day, and the XLSX and CSV exports of the year. Target: each year grouping
    under 1 s.
"""
from __future__ import annotations

import heapq
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path

import yaml

from queue_server import exports, reports
from queue_server.accounts import Accounts
from queue_server.config import parse_config
from queue_server.store import Store

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
YEAR = 2025
DAY_END = dtime(16, 45)  # counters call nobody new after this; the day closes at hours.close_day_at


def year_config():
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["hours"]["holidays"] = ["2025-01-01", "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",
                                 "2025-04-07", "2025-04-30", "2025-05-01", "2025-05-02", "2025-09-01", "2025-09-02"]
    return parse_config(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "config.yaml (bench year)")


def working_days(cfg) -> list[date]:
    wd = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
    open_days = {wd[d] for d in cfg.hours.weekdays}
    holidays = set(cfg.hours.holidays)
    d, out = date(YEAR, 1, 1), []
    while d.year == YEAR:
        if d.weekday() in open_days and d not in holidays:
            out.append(d)
        d += timedelta(days=1)
    return out


class Day:
    """One simulated day: tickets, events and ratings as rows, in the store's shapes."""

    def __init__(self, gen: "Generator", day: date, n: int):
        self.g, self.day, self.n = gen, day, n
        self.iso = day.isoformat()
        self.tickets: dict[int, dict] = {}
        self.events: list[tuple] = []  # (ts, order, row without id)
        self.ratings: list[tuple] = []
        self.order = 0

    def ms(self, t: dtime, extra_s: float = 0) -> int:
        return int(datetime.combine(self.day, t, self.g.tz).timestamp() * 1000 + extra_s * 1000)

    def ev(self, ts: int, etype: str, t: dict | None, counter: str | None, staff: int | None, data: dict,
           service: str | None = None) -> None:
        self.order += 1
        self.events.append((ts, self.order, (ts, self.iso, etype, t["id"] if t else None, counter,
                                             service or (t["service_id"] if t else None), staff,
                                             "staff:bench" if staff else "system",
                                             json.dumps(data, ensure_ascii=False, separators=(",", ":")))))

    def simulate(self) -> None:
        g, rnd = self.g, self.g.rnd
        cfg = g.cfg
        officers = {c: g.officer_of(c, self.day) for c in g.counter_ids}
        open_ms = self.ms(dtime(7, 30))
        for c in g.counter_ids:
            self.ev(open_ms, "counter.state", None, c, officers[c], {"counter": c, "from": "closed", "to": "open"})
        # arrivals
        arrivals = []
        for _ in range(self.n):
            w = cfg.hours.windows[0] if rnd.random() < 0.62 else cfg.hours.windows[-1]
            a, b = w.start.hour * 3600 + w.start.minute * 60, w.end.hour * 3600 + w.end.minute * 60
            sec = rnd.triangular(a, b, a + (b - a) * 0.3)
            arrivals.append(self.ms(dtime(0), sec))
        arrivals.sort()
        seq: dict[str, int] = {}
        future: dict[str, list] = {s: [] for s in g.services}
        for ts in arrivals:
            sid = rnd.choices(g.services, g.weights)[0]
            key, rng = cfg.numbering_of(sid)
            idx = seq.get(key, -1) + 1
            seq[key] = idx
            number = rng.start + idx % (rng.end - rng.start + 1)
            tid = g.next_ticket_id()
            prio = rnd.random() < 0.05
            t = {"id": tid, "day": self.iso, "service_id": sid, "seq_key": key, "seq_index": idx, "number": number,
                 "code": rng.code(number), "status": "waiting", "priority": int(prio),
                 "priority_group": g.priority_group if prio else None, "source": "priority" if prio else "walk_in",
                 "issued_ms": ts, "queued_ms": ts, "counter_id": None, "target_counter_id": None, "called_ms": None,
                 "started_ms": None, "finished_ms": None, "recall_count": 0, "transfer_count": 0, "staff_id": None,
                 "token": f"y{tid}", "patience": rnd.uniform(600, 3600) * 1000 if rnd.random() < 0.02 else None}
            self.tickets[tid] = t
            self.ev(ts, "ticket.issued", t, None, None, {"ticket": tid, "code": t["code"], "priority": prio,
                                                           "source": t["source"]})
            heapq.heappush(future[sid], (ts, tid))
        waiting: dict[str, list] = {s: [] for s in g.services}
        free = [(open_ms, c) for c in g.counter_ids]
        heapq.heapify(free)
        end_ms = self.ms(DAY_END)

        def admit(sid: str, now: int) -> None:
            f = future[sid]
            while f and f[0][0] <= now:
                ts, tid = heapq.heappop(f)
                t = self.tickets[tid]
                heapq.heappush(waiting[sid], (0 if t["priority"] else 1, t["queued_ms"], tid, ts))

        while free:
            now, c = heapq.heappop(free)
            if now > end_ms:
                continue
            best = None
            for sid in g.counter_services[c]:
                admit(sid, now)
                q = waiting[sid]
                while q:
                    rank, queued, tid, joined = q[0]
                    t = self.tickets[tid]
                    if t["patience"] is not None and now - joined > t["patience"]:
                        heapq.heappop(q)  # the citizen left before being called
                        self.cancel(t, int(joined + t["patience"]))
                        continue
                    break
                if q and (best is None or q[0][:3] < best[0][:3]):
                    best = (q[0], sid)
            if best is None:
                nxt = min((future[s][0][0] for s in g.counter_services[c] if future[s]), default=None)
                if nxt is not None:
                    heapq.heappush(free, (nxt, c))
                continue
            heapq.heappop(waiting[best[1]])
            t = self.tickets[best[0][2]]
            done_at, moved = self.serve(t, c, officers[c], now)
            if moved is not None:
                heapq.heappush(future[moved], (done_at, t["id"]))
            heapq.heappush(free, (done_at + int(rnd.uniform(5, 40) * 1000), c))
        close_ms = self.ms(self.g.cfg.hours.close_day_at)
        for t in self.tickets.values():
            if t["status"] == "waiting":
                if t["patience"] is not None and t["queued_ms"] + t["patience"] < close_ms:
                    self.cancel(t, int(t["queued_ms"] + t["patience"]))
                else:
                    t["status"], t["finished_ms"] = "unserved", close_ms
                    self.ev(close_ms, "ticket.unserved", t, None, None, {"ticket": t["id"]})
        for c in g.counter_ids:
            self.ev(close_ms, "counter.state", None, c, None, {"counter": c, "to": "closed", "reason": "close_day"})

    def cancel(self, t: dict, ts: int) -> None:
        t["status"], t["finished_ms"] = "cancelled", ts
        self.ev(ts, "ticket.cancelled", t, None, None, {"ticket": t["id"]})

    def serve(self, t: dict, c: str, staff: int, now: int) -> tuple[int, str | None]:
        """Call `t` at counter `c` at `now`; returns (when the counter is free, the service it moved to or None)."""
        rnd, g = self.g.rnd, self.g
        t.update(status="called", counter_id=c, called_ms=now, started_ms=None, staff_id=staff)
        self.ev(now, "ticket.called", t, c, staff, {"ticket": t["id"], "counter": c, "recall": False})
        at = now
        if rnd.random() < 0.10:
            at += 30_000
            t["recall_count"] += 1
            self.ev(at, "ticket.called", t, c, staff, {"ticket": t["id"], "counter": c, "recall": True,
                                                         "recall_count": t["recall_count"]})
        r = rnd.random()
        if r < 0.04:
            at += 90_000
            t.update(status="no_show", finished_ms=at)
            self.ev(at, "ticket.no_show", t, c, staff, {"ticket": t["id"]})
            return at, None
        at += int(rnd.uniform(20, 60) * 1000)
        t.update(status="serving", started_ms=at)
        self.ev(at, "ticket.started", t, c, staff, {"ticket": t["id"]})
        avg = g.avg_ms[t["service_id"]]
        if r < 0.07 and t["transfer_count"] < 2:  # sent on to another queue (keeps its place by issue time)
            at += int(avg * 0.3)
            to = rnd.choice(g.services)
            if to == t["service_id"]:
                to = g.services[(g.services.index(to) + 1) % len(g.services)]
            old = t["service_id"]
            t.update(status="waiting", service_id=to, counter_id=None, called_ms=None, started_ms=None,
                     transfer_count=t["transfer_count"] + 1, staff_id=None)
            self.ev(at, "ticket.transferred", t, c, staff, {"ticket": t["id"], "from_service": old, "to_service": to,
                                                             "to_counter": None, "go_last": False})
            return at, to
        if r < 0.08:  # parked while the citizen fetches a paper, then resumed at the same counter
            at += 120_000
            t["status"] = "parked"
            self.ev(at, "ticket.parked", t, c, staff, {"ticket": t["id"]})
            at += int(rnd.uniform(3, 12) * 60_000)
            t.update(status="called", called_ms=at, started_ms=None)
            self.ev(at, "ticket.resumed", t, c, staff, {"ticket": t["id"], "counter": c, "recall": False})
            at += 20_000
            t.update(status="serving", started_ms=at)
            self.ev(at, "ticket.started", t, c, staff, {"ticket": t["id"]})
        at += int(min(avg * rnd.lognormvariate(-0.125, 0.5), 6 * avg))  # mean: the service's average
        t.update(status="done", finished_ms=at)
        self.ev(at, "ticket.finished", t, c, staff, {"ticket": t["id"], "auto": False})
        self.rate(t, c, staff, at)
        return at, None

    def rate(self, t: dict, c: str, staff: int, finished: int) -> None:
        rnd, g = self.g.rnd, self.g
        if rnd.random() < 0.012:  # a press with nobody to attribute it to
            self.rating(None, c, None, rnd.choice((1, 2, 3)), "unattributed", [], finished + 90_000)
        if rnd.random() > 0.7:
            return
        level = rnd.choices((3, 2, 1), (0.62, 0.30, 0.08))[0]
        flags = ["burst"] if rnd.random() < 0.01 else []
        pressed = finished + int(rnd.uniform(3, 40) * 1000)
        self.rating(t, c, staff, level, "attributed", flags, pressed)
        if rnd.random() < 0.03:
            self.rating(t, c, staff, rnd.choice((1, 2, 3)), "repeat", [], pressed + 2000)

    def rating(self, t, c, staff, level, status, flags, pressed) -> None:
        g = self.g
        g.rating_seq += 1
        sid = t["service_id"] if t else None
        self.ratings.append((f"y{g.rating_seq}", self.iso, t["id"] if t else None, c, staff, sid,
                             g.dept_of[sid] if sid else None, level, str(level), "keypad", pressed, pressed + 50,
                             status, json.dumps(flags), None, "agent:bench"))


class Generator:
    def __init__(self, cfg, seed: int = 7):
        self.cfg = cfg
        self.tz = cfg.tz
        self.rnd = random.Random(seed)
        self.counter_ids = [c.id for c in cfg.counters]
        self.counter_services = {c.id: list(c.services) for c in cfg.counters}
        served = {s for c in cfg.counters for s in c.services}
        self.services = [s for s in cfg.services() if s in served]
        # demand follows each service's capacity (its share of counters / serving time), the police a bit above it
        capacity = {s: 0.0 for s in self.services}
        for c in cfg.counters:
            for s in c.services:
                capacity[s] += 60 / cfg.service(s).avg_service_minutes / len(c.services)
        busy = {cfg.departments[0].id: 1.1}
        self.weights = [capacity[s] * busy.get(cfg.department_of(s).id, 1.0) * self.rnd.uniform(0.8, 1.2)
                        for s in self.services]
        self.avg_ms = {s: cfg.service(s).avg_service_minutes * 60_000 for s in cfg.services()}
        self.dept_of = {s: d.id for s, (d, _) in cfg.services().items()}
        self.priority_group = cfg.priority.groups[0].id if cfg.priority.groups else None
        self.ticket_id = 0
        self.rating_seq = 0
        self.officers: list[int] = []

    def next_ticket_id(self) -> int:
        self.ticket_id += 1
        return self.ticket_id

    def officer_of(self, counter: str, day: date) -> int:
        i = self.counter_ids.index(counter)
        return self.officers[(i + (day.toordinal() % 5 == 0) * 3) % len(self.officers)]


TICKET_COLS = ("id", "day", "service_id", "seq_key", "seq_index", "number", "code", "status", "priority",
               "priority_group", "source", "issued_ms", "queued_ms", "counter_id", "target_counter_id", "called_ms",
               "started_ms", "finished_ms", "recall_count", "transfer_count", "staff_id", "token")


def generate(path: Path, cfg, total: int) -> dict:
    """Write a year into a fresh database at `path`; returns counts."""
    store = Store(path, cfg, clock=lambda: datetime(YEAR, 1, 1, 0, 0, tzinfo=timezone.utc))
    accounts = Accounts(store, cfg)
    accounts.seed_from_config()
    gen = Generator(cfg)
    with store.writer.transaction() as c:
        for i in range(1, 41):
            c.execute("""INSERT OR IGNORE INTO staff (username, full_name, role, password_hash, counters, created_ms, updated_ms)
                         VALUES (?, ?, 'staff', 'x', '[]', 0, 0)""", (f"canbo{i}", f"Cán bộ số {i}"))
        gen.officers = [r[0] for r in c.execute("SELECT id FROM staff WHERE role = 'staff' ORDER BY id")]
    days = working_days(cfg)
    weights = [1.15 if d.weekday() == 0 else 1.0 for d in days]  # Mondays are busier
    sizes = [int(total * w / sum(weights)) for w in weights]
    for i in range(total - sum(sizes)):  # exactly `total` over the year
        sizes[i % len(sizes)] += 1
    store.conn.execute("PRAGMA synchronous=OFF")  # a scratch database: bulk load
    counts = {"tickets": 0, "events": 0, "ratings": 0}
    for d, n in zip(days, sizes):
        day = Day(gen, d, n)
        day.simulate()
        day.events.sort(key=lambda e: (e[0], e[1]))
        with store.writer.transaction() as c:
            c.executemany(f"INSERT INTO tickets ({', '.join(TICKET_COLS)}) VALUES ({', '.join('?' * len(TICKET_COLS))})",
                          [tuple(t[k] for k in TICKET_COLS) for t in day.tickets.values()])
            c.executemany("""INSERT INTO events (ts_ms, day, type, ticket_id, counter_id, service_id, staff_id, actor, data)
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""", [e[2] for e in day.events])
            if day.ratings:
                c.executemany("""INSERT INTO ratings (id, day, ticket_id, counter_id, staff_id, service_id, department_id,
                                 level, button, source, pressed_ms, received_ms, status, flags, reason, actor)
                                 VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", day.ratings)
        counts["tickets"] += len(day.tickets)
        counts["events"] += len(day.events)
        counts["ratings"] += len(day.ratings)
    store.conn.execute("PRAGMA synchronous=FULL")
    store.conn.execute("ANALYZE")
    store.close()
    counts["days"] = len(days)
    return counts


def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def run(seconds: float = 3.0) -> dict:
    total = int(os.environ.get("QMS_BENCH_YEAR_TICKETS", "300000"))
    cfg = year_config()
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="year-", dir=WORK))
    figures: dict = {}
    try:
        path = tmp / "year.sqlite3"
        t0 = time.perf_counter()
        counts = generate(path, cfg, total)
        figures["generate_s"] = time.perf_counter() - t0
        figures.update({k: v for k, v in counts.items()})
        figures["db_mb"] = round(sum(p.stat().st_size for p in tmp.iterdir()) / 1e6, 1)
        clock = lambda: datetime(YEAR + 1, 1, 12, 2, 0, tzinfo=timezone.utc)  # noqa: E731 - every 2025 day is finished
        store = Store(path, cfg, clock=clock)
        try:
            names = Accounts(store, cfg).staff_name
            first, last = f"{YEAR}-01-01", f"{YEAR}-12-31"
            t0 = time.perf_counter()
            derived = reports.ensure_legs(store, first, last)
            figures["derive_year_once_s"] = time.perf_counter() - t0
            figures["derived_days"] = derived
            figures["legs"] = store.conn.execute("SELECT COUNT(*) FROM report_legs").fetchone()[0]
            worst = 0.0
            year_service = None
            for g in reports.GROUPINGS:
                took, rep = _timed(lambda g=g: reports.build_report(store, first, last, g, staff_names=names))
                figures[f"year_by_{g}_s"] = took
                worst = max(worst, took)
                if g == "service":
                    year_service = rep
            figures["year_worst_grouping_s"] = worst
            figures["year_under_1s"] = worst < 1.0
            total_row = year_service["total"]
            figures["year_issued"] = total_row["issued"]
            figures["year_served"] = total_row["served"]
            figures["year_no_show"] = total_row["no_show"]
            figures["year_transferred"] = total_row["transferred"]
            figures["year_cancelled"] = total_row["cancelled"]
            figures["year_unserved"] = total_row["unserved"]
            figures["year_wait_avg_min"] = round(total_row["wait_avg_s"] / 60, 2)
            figures["year_wait_p90_min"] = round(total_row["wait_p90_s"] / 60, 2)
            figures["year_within_target"] = total_row["within_target"]
            figures["year_satisfaction_rate"] = total_row["satisfaction_rate"]
            figures["month_by_service_s"] = _timed(lambda: reports.build_report(store, f"{YEAR}-11-01", f"{YEAR}-11-30", "service"))[0]
            figures["week_by_counter_s"] = _timed(lambda: reports.build_report(store, *reports.period("week", f"{YEAR}-11-12"), "counter"))[0]
            figures["day_by_hour_s"] = _timed(lambda: reports.build_report(store, f"{YEAR}-11-12", f"{YEAR}-11-12", "hour"))[0]
            figures["year_xlsx_s"] = _timed(lambda: exports.to_xlsx(year_service), repeat=1)[0]
            figures["year_csv_s"] = _timed(lambda: exports.to_csv(year_service), repeat=1)[0]
            # the open day: today's legs are derived again at every report (a busy day, 1,200 tickets)
            busy = f"{YEAR}-11-12"
            with store.writer.transaction() as c:
                c.execute("UPDATE report_days SET final = 0 WHERE day = ?", (busy,))
            figures["rederive_one_day_s"] = _timed(lambda: reports.ensure_legs(store, busy, busy), repeat=1)[0]
        finally:
            store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:28} {v}")
