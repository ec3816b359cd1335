"""The booking rush (issue 13 item 8): `python -m bench booking`.

When a day's slots open, thousands try at once. Against a real `qms serve` process on 127.0.0.1 (then against
two processes sharing one SQLite file and their push over a real redis-server), client processes make
ATTEMPTS booking attempts, as fast as their keep-alive connections allow, aiming to finish within WINDOW_S:

- every attempt is POST /api/v1/bookings {service, date, start, cccd, phone}; a 202 is confirmed at once with
  POST /api/v1/bookings/<booking_id>/confirm {otp}, the one-time code read from the outbox table (the SQLite
  file opened read-only by the client: no SMS gateway in the measurement);
- half the attempts aim at two popular slots, the rest at any slot of the booked services;
- 1 % of the identities (a CCCD number and a mobile number each, valid in structure) try HOARDER_TRIES times
  each, on many services and slots; the others try once.

Figures: POST /bookings and confirm p50/p99 (target p99 <= 300 ms), attempts and confirmed bookings per second,
answers by status and error code, and the database check read from the file after the servers have gone:
0 slots over capacity, 0 identities (CCCD or phone, per day and per service and day) over their limits, 0 lost
confirmations (every 201 a client saw is a confirmed booking in the file, and no confirmed booking in the file
that no client saw confirmed). `check_database` is what the smoke test feeds a broken file.
"""
from __future__ import annotations

import random
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import yaml

from .lean_client import HttpConn
from .loadgen import cpu_seconds
from .server import ROOT, WORK, Procs, Server, Window, bench_centre, latency_figures, recv_bounded

ATTEMPTS = 10_000
WINDOW_S = 60.0
SEND_SHARE = 0.75  # the attempts are sent at a steady rate over this share of the window (45 s of 60)
CLIENT_PROCESSES = 2  # two cores: two client processes beside the server(s)
THREADS = 16  # keep-alive connections per client process
HOARDER_SHARE, HOARDER_TRIES = 0.01, 20
POPULAR_SHARE = 0.5
BOOKED_SERVICES = 4
CAPACITY = 20  # places per slot of each booked service
TARGET_P99_MS = 300
OTP = re.compile(r":\s(\d{4,8})\.")
PHONE_PREFIXES = ("03", "05", "07", "08", "09")


# ------------------------------------------------------------------ the centre and the crowd
def rush_centre(dir_: Path, *, redis_url: str | None = None, capacity: int = CAPACITY,
                services: int = BOOKED_SERVICES) -> tuple[Path, dict]:
    """The bench centre (bench/server.py) taking bookings for its first `services` services, `capacity` places
    per slot, the per-address rate limit out of the way (every client here is 127.0.0.1). Returns the config's
    path and its `booking` mapping."""
    data, _ = bench_centre()
    data["server"]["message_queue"] = redis_url
    booked = [s["id"] for d in data["departments"] for s in d["services"]][:services]
    data["booking"] = {**data.get("booking", {}), "enabled": True, "services": booked,
                       "capacity": {s: capacity for s in booked}, "attempts_per_minute": 100_000}
    path = dir_ / "rush.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    from queue_server.config import load_config

    cfg = load_config(path)  # refused here, not in a server log, if the bench's config is wrong
    return path, cfg.booking.model_dump()


def cccd(i: int, rng: random.Random, today: date) -> str:
    """A 12-digit CCCD number whose structure holds (core/citizen_card): a province code, a gender and century
    digit and a year of birth between 18 and 90 years ago, then a serial unique to `i`."""
    from queue_server.core.citizen_card import PROVINCES

    year = today.year - rng.randint(18, 90)
    century = (year // 100 - 19) * 2 + rng.randint(0, 1)
    return f"{rng.choice(sorted(PROVINCES))}{century}{year % 100:02d}{i:06d}"


def phone(i: int) -> str:
    return f"{PHONE_PREFIXES[i % len(PHONE_PREFIXES)]}{i:08d}"


def plan(attempts: int, slots: dict[str, list[str]], today: date, send_s: float,
         seed: int = 13) -> list[tuple[float, str, str, str, str]]:
    """(send time in s from the start, cccd, phone, service, start) per attempt, shuffled, sent at a steady rate
    over `send_s`: 1 % of the identities try HOARDER_TRIES times, the others once; POPULAR_SHARE of the
    attempts on two popular slots."""
    rng = random.Random(seed)
    hoarders = max(1, round(attempts * HOARDER_SHARE / (HOARDER_TRIES * HOARDER_SHARE + (1 - HOARDER_SHARE))))
    if hoarders * HOARDER_TRIES > attempts:  # a small run (the smoke test): fewer tries for the hoarders
        hoarders = 1
    tries = min(HOARDER_TRIES, attempts)
    people = [(cccd(i, rng, today), phone(i)) for i in range(hoarders + attempts - hoarders * tries)]
    services = sorted(slots)
    popular = [(services[0], slots[services[0]][0]), (services[-1], slots[services[-1]][1 % len(slots[services[-1]])])]
    everything = [(s, t) for s in services for t in slots[s]]
    out = []
    for k, person in enumerate(people):
        for _ in range(tries if k < hoarders else 1):
            service, start = rng.choice(popular) if rng.random() < POPULAR_SHARE else rng.choice(everything)
            out.append((*person, service, start))
    rng.shuffle(out)
    return [(k * send_s / attempts, *item) for k, item in enumerate(out[:attempts])]


# ------------------------------------------------------------------ the clients
def read_otp(conn: sqlite3.Connection, ref: str) -> str | None:
    """The one-time code of booking `ref`, from its latest otp message in the outbox."""
    row = conn.execute("""SELECT m.body FROM messages m JOIN bookings b ON m.booking_id = b.id
                          WHERE b.ref = ? AND m.kind = 'otp' ORDER BY m.id DESC LIMIT 1""", (ref,)).fetchone()
    found = OTP.search(row[0]) if row else None
    return found.group(1) if found else None


def client_worker(pipe, ports: list[int], db: str, day: str, attempts: list, threads: int, start_at: float,
                  stop_at: float) -> None:
    """`threads` keep-alive connections (round-robin over `ports`) sending `attempts` at their times from
    start_at; none starts an attempt after stop_at. An attempt's latency runs from its planned time, so a
    request held back because every connection was busy counts its wait too. One record per attempt made."""
    cpu0 = cpu_seconds()
    records: list[tuple] = []
    lock = threading.Lock()
    todo = iter(attempts)

    def work(k: int) -> None:
        http = HttpConn("127.0.0.1", ports[k % len(ports)], timeout=30)
        ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        time.sleep(max(0.0, start_at - time.monotonic()))
        try:
            while time.monotonic() < stop_at:
                with lock:
                    item = next(todo, None)
                if item is None:
                    return
                at, id_number, mobile, service, start = item
                t0 = start_at + at
                time.sleep(max(0.0, t0 - time.monotonic()))
                status, body = http.call("POST", "/api/v1/bookings", {"service": service, "date": day,
                                                                      "start": start, "cccd": id_number, "phone": mobile})
                made = (status, body.get("error", ""), time.monotonic() - t0)
                confirm = (0, "", 0.0, "")
                otp = read_otp(ro, body["booking_id"]) if status == 202 else None
                if status == 202 and otp is None:
                    confirm = (0, "otp_not_found", 0.0, "")
                elif otp is not None:
                    t1 = time.monotonic()
                    cs, cb = http.call("POST", f"/api/v1/bookings/{body['booking_id']}/confirm", {"otp": otp})
                    confirm = (cs, cb.get("error", ""), time.monotonic() - t1, cb.get("code", "") if cs == 201 else "")
                with lock:
                    records.append((*made, *confirm, t0))
        finally:
            http.close()
            ro.close()

    pool = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(max(1.0, stop_at - time.monotonic() + 60))
    pipe.send({"records": records, "unstarted": sum(1 for _ in todo), "cpu_s": cpu_seconds() - cpu0})


# ------------------------------------------------------------------ the database check
def check_database(db: Path, booking: dict, seen_codes: set[str]) -> dict:
    """Read the file: slots over capacity, identities over their limits, lost and unseen confirmations."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        held = "state IN ('confirmed', 'checked_in')"
        over_slots = sum(1 for service, n in conn.execute(
            f"SELECT service_id, COUNT(*) FROM bookings WHERE {held} GROUP BY service_id, day, slot_start")
            if n > booking["capacity"].get(service, 0))
        over = 0
        for key, per_day, per_service in (("id_hash", "per_id_per_day", "per_id_per_service_per_day"),
                                          ("phone_hash", "per_phone_per_day", "per_phone_per_service_per_day")):
            over += conn.execute(f"""SELECT COUNT(*) FROM (SELECT 1 FROM bookings WHERE {held} GROUP BY {key}, day
                                     HAVING COUNT(*) > ?)""", (booking[per_day],)).fetchone()[0]
            over += conn.execute(f"""SELECT COUNT(*) FROM (SELECT 1 FROM bookings WHERE {held}
                                     GROUP BY {key}, service_id, day HAVING COUNT(*) > ?)""",
                                 (booking[per_service],)).fetchone()[0]
        confirmed = {code for (code,) in conn.execute(f"SELECT code FROM bookings WHERE {held}")}
        states = dict(conn.execute("SELECT state, COUNT(*) FROM bookings GROUP BY state").fetchall())
    finally:
        conn.close()
    lost, unseen = len(seen_codes - confirmed), len(confirmed - seen_codes)
    return {"db_confirmed": len(confirmed), "db_pending_otp": states.get("pending_otp", 0),
            "db_expired": states.get("expired", 0), "db_slots_over_capacity": over_slots,
            "db_identities_over_limit": over, "db_lost_confirmations": lost, "db_unseen_confirmations": unseen,
            "db_check_ok": over_slots == 0 and over == 0 and lost == 0 and unseen == 0}


# ------------------------------------------------------------------ one rush
def rush(dir_: Path, *, servers: int = 1, attempts: int = ATTEMPTS, processes: int = CLIENT_PROCESSES,
         threads: int = THREADS, window_s: float = WINDOW_S, mode: str = "eventlet", capacity: int = CAPACITY,
         lead_s: float = 2.0) -> dict:
    """One rush against `servers` server processes (2: one file, push over a real redis-server); the clock
    starts `lead_s` after the client processes are started (every connection open by then)."""
    redis = None
    if servers > 1:
        sys.path.insert(0, str(ROOT / "tests"))  # the suite's real redis-server helper
        from server_util import RedisServer

        redis = RedisServer(dir_).start()
    cfg_path, booking = rush_centre(dir_, redis_url=redis.url if redis else None, capacity=capacity)
    db = dir_ / f"rush-{servers}.sqlite3"
    running: list[Server] = []
    procs = Procs()
    try:
        for _ in range(servers):  # one after the other: the first one makes the file
            running.append(Server(cfg_path, db, mode).start(timeout=60))
        http = HttpConn("127.0.0.1", running[0].port)
        status, info = http.call("GET", "/api/v1/booking")
        assert status == 200 and info["enabled"], info
        day = info["days"][1] if len(info["days"]) > 1 else info["days"][0]  # the day whose slots open now
        slots = {}
        for s in info["services"]:
            status, body = http.call("GET", f"/api/v1/booking/slots?service={s['id']}&date={day}")
            assert status == 200, body
            slots[s["id"]] = [x["start"] for x in body["slots"] if x["left"] > 0]
        http.close()
        work = plan(attempts, {s: v for s, v in slots.items() if v}, date.fromisoformat(day), window_s * SEND_SHARE)
        ports = [s.port for s in running]
        start_at = time.monotonic() + lead_s
        pipes = [procs.start(client_worker, ports[k % len(ports):] + ports[:k % len(ports)], str(db), day,
                             work[k::processes], threads, start_at, start_at + window_s + 30)
                 for k in range(processes)]
        windows = [Window(s.pid).start() for s in running]
        results = [recv_bounded(p, window_s + 120, "booking clients") for p in pipes]
        cpu = [w.stop() for w in windows]
    finally:
        procs.stop()
        for s in running:
            s.stop()
        if redis is not None:
            redis.stop()
    records = [r for res in results for r in res["records"]]
    wall = (max(r[-1] + r[2] + r[5] for r in records) - start_at) if records else float("nan")
    answers: dict[str, int] = {}
    for r in records:
        key = f"create {r[0]} {r[1]}".strip()
        answers[key] = answers.get(key, 0) + 1
        if r[3] or r[4]:
            key = f"confirm {r[3]} {r[4]}".strip()
            answers[key] = answers.get(key, 0) + 1
    seen = {r[6] for r in records if r[3] == 201}
    filled = max((r[-1] + r[2] + r[5] for r in records if r[3] == 201), default=start_at) - start_at
    created = [r[2] for r in records]
    confirmed = [r[5] for r in records if r[3]]
    out = {"servers": servers, "client_processes": processes, "connections": processes * threads,
           "attempts_planned": attempts, "attempts_made": len(records),
           "attempts_unstarted": sum(res["unstarted"] for res in results), "wall_s": wall,
           "within_window": bool(len(records) == attempts and wall <= window_s),
           "attempts_per_s": len(records) / wall if records else 0.0, "confirmed_seen": len(seen),
           "places": capacity * sum(len(v) for v in slots.values()), "last_confirmation_s": filled,
           "bookings_per_s": len(seen) / filled if filled > 0 else 0.0,
           **latency_figures("create", created), **latency_figures("confirm", confirmed),
           # while places were still being taken (writes, each a commit) and after (refusals only, no commit)
           "create_while_filling_p99_ms": latency_figures("x", [r[2] for r in records if r[-1] - start_at <= filled])["x_p99_ms"],
           "create_after_filled_p99_ms": latency_figures("x", [r[2] for r in records if r[-1] - start_at > filled])["x_p99_ms"],
           "server_cpu_pct": 100 * sum(c["server_cpu_s"] for c in cpu) / cpu[0]["wall_s"],
           # the steadier figure on a shared machine: the servers' CPU per attempt (its confirmation included)
           "server_cpu_ms_per_attempt": 1000 * sum(c["server_cpu_s"] for c in cpu) / max(1, len(records)),
           "clients_cpu_pct": 100 * sum(res["cpu_s"] for res in results) / cpu[0]["wall_s"],
           "machine_cpu_pct": 100 * cpu[0]["machine_cpu_s"] / cpu[0]["wall_s"],  # of one core; 2 cores: 200
           # the machine's other work (the figures are only as quiet as the machine was)
           "other_cpu_pct": 100 * max(0.0, cpu[0]["machine_cpu_s"] - sum(c["server_cpu_s"] for c in cpu)
                                      - sum(res["cpu_s"] for res in results)) / cpu[0]["wall_s"],
           "answers_5xx": sum(1 for r in records if r[0] >= 500 or r[3] >= 500),
           "answers": "; ".join(f"{k} x{v}" for k, v in sorted(answers.items())),
           **check_database(db, booking, seen)}
    out["p99_within_target"] = bool(out["create_p99_ms"] <= TARGET_P99_MS and out["confirm_p99_ms"] <= TARGET_P99_MS)
    return out


def run(seconds: float = 3.0) -> dict:
    """Both rushes (one server, then two over Redis); `seconds` is not used (the rush has its own window)."""
    WORK.mkdir(parents=True, exist_ok=True)
    figures: dict = {}
    for servers, label in ((1, "one"), (2, "two")):
        dir_ = Path(tempfile.mkdtemp(prefix=f"booking-{label}-", dir=WORK))
        try:
            print(f"  booking rush, {servers} server process(es): {ATTEMPTS:,} attempts ...", flush=True)
            figures.update({f"{label}_{k}": v for k, v in rush(dir_, servers=servers).items()})
        finally:
            shutil.rmtree(dir_, ignore_errors=True)
    return figures


if __name__ == "__main__":  # the smallest rush, for a look: python -m bench.booking
    with tempfile.TemporaryDirectory() as d:
        for k, v in rush(Path(d), attempts=200, processes=1, threads=4, window_s=20).items():
            print(f"{k:28} {v}")
