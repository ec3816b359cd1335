"""The real server under load: `python -m bench server` (both async modes, about 4-5 minutes in all).

For each async mode (eventlet, gevent) a real `qms serve` process is started on 127.0.0.1 with a bench variant
of the repository's config.yaml (bench_centre: always open, in a zone where it is midday, no caps, wide ranges, 132 counters, 20 hall
displays, and a kiosk without a printer that carries the load), and:

(d) raw SQLite first: WAL + synchronous=FULL, one INSERT + COMMIT per row, on the same disk (var/bench/);
(a) issue throughput: 50 concurrent issuers (keep-alive HTTP connections in 2 processes) POST /api/v1/tickets
    back to back; then 40 tickets from a kiosk with a printer, one at a time, to price a printed slip; then
    the database is checked: no duplicate number, code, token or sequence index, no gap, every acknowledged
    ticket present with its code (zero lost), nothing in it that was not acknowledged;
(b) call-to-display latency on a fresh server: 2,000 Socket.IO clients (20 hall displays, 100 counter
    terminals, 1,880 phones each following its own ticket) held by 4 lean client processes; a driver
    process presses "next" at 100 counters, 20 calls/s in all, over REST keep-alive. Latency = the time a
    client receives ticket.called - the time the driver sent that "next" (both CLOCK_MONOTONIC, one
    system-wide clock on Linux). Every call must reach exactly the displays whose zone holds its department,
    its counter terminal and the phone following the ticket; missing and duplicate deliveries are counted;
(c) the server's RSS (VmRSS, peak VmHWM) and CPU (utime+stime from /proc/<pid>/stat) in each phase, next to
    the load generator's own CPU and the rest of the machine's, since all share the same 2 cores.

Environment (experiments; a plain run needs none): QMS_BENCH_MODES=eventlet (one mode), QMS_BENCH_ONLY=issue
or calls (one phase), QMS_BENCH_PROFILE=<dir> (py-spy the server in each timed window), QMS_BENCH_DUMP=<dir>
(every call and reception as JSON), QMS_BENCH_KEEP=1 (keep the scratch directory with the server's log),
QMS_BENCH_SERVER_ROOT=<dir> (run the queue_server package found in <dir>, e.g. a patched copy; with
QMS_BENCH_LABEL=<text> naming it in the results).
"""
from __future__ import annotations

import copy
import json
import math
import multiprocessing as mp
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

from . import loadgen
from .engine import integrity, midday_zone, raw_commits
from .lean_client import HttpConn

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"

ISSUERS = 50
ISSUER_PROCESSES = 2
CLIENTS = 2_000
DISPLAYS = 20
TERMINALS = 100
CALLING_COUNTERS = 100
COUNTERS_TOTAL = 132
CALL_RATE = 20.0
CLIENT_PROCESSES = 4
BENCH_KIOSK, BENCH_KIOSK_TOKEN = "bench-kiosk", "bench-kiosk-token-loopback-only"
PRINTED_TICKETS = 40
TARGETS = {"issue_per_s": 1000, "display_p99_ms": 50, "rss_mb": 250}


# ------------------------------------------------------------------ the bench centre
def bench_centre(counters_total: int = COUNTERS_TOTAL, displays: int = DISPLAYS,
                 now: datetime | None = None) -> tuple[dict, str]:
    """config.yaml (else the test fixture), always open, no daily caps, ranges wide enough for a benchmark,
    `counters_total` counters (new ones spread over the departments) and `displays` hall displays, in a zone
    where `now` (default: this instant) is midday (`midday_zone`): the results do not depend on the hour."""
    src = ROOT / "config.yaml"
    if not src.exists():
        src = ROOT / "tests" / "fixtures" / "centre.yaml"
    data = yaml.safe_load(src.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data.setdefault("queue", {})["always_open"] = True
    data["centre"]["timezone"] = midday_zone(now)
    data["server"]["message_queue"] = None
    data["server"]["max_connections"] = max(10_000, data["server"].get("max_connections", 0))
    # Number ranges: prefixed ones 1..99999 (width 5), plain ones side by side in blocks below 999,999.
    ranges = []
    for dept in data["departments"]:
        if dept.get("numbering"):
            ranges.append(dept["numbering"])
        for svc in dept["services"]:
            svc.pop("daily_cap", None)
            svc.pop("windows", None)
            if svc.get("numbering"):
                ranges.append(svc["numbering"])
    plain = [r for r in ranges if not r.get("prefix")]
    block = 999_999 // max(1, len(plain))
    for k, r in enumerate(plain):
        r.update(start=k * block + 1, end=(k + 1) * block - 1, width=0)
    for r in ranges:
        if r.get("prefix"):
            r.update(start=1, end=99_999, width=5)
    depts = data["departments"]
    numbers = {int(c["number"]) for c in data["counters"]}
    ids = {str(c["id"]) for c in data["counters"]}
    n, k = max(numbers), 0
    while len(data["counters"]) < counters_total:
        n += 1
        if str(n) in ids:
            continue
        d = depts[k % len(depts)]
        k += 1
        counter = {"id": str(n), "number": n, "name": f"Quầy {n}", "department": d["id"],
                   "services": [s["id"] for s in d["services"]]}
        if d.get("zone"):
            counter["zone"] = d["zone"]
        data["counters"].append(counter)
    devs = data.setdefault("devices", {})
    # The load issues through a kiosk without a printer: a printed slip is drawn in the server (PIL, ~20-30 ms
    # of CPU) and a real printer takes seconds per slip, so slips are measured apart (issue_printed_*).
    devs.setdefault("kiosks", []).append({"id": BENCH_KIOSK, "name": "Bench (no printer)", "token": BENCH_KIOSK_TOKEN})
    shown = devs.setdefault("displays", [])
    zones = sorted({d.get("zone", "") for d in depts if d.get("zone")}) + [""]
    halls = [d for d in shown if d.get("kind", "hall") == "hall"]
    k = 0
    while len(halls) < displays:
        zone = zones[k % len(zones)]
        k += 1
        disp = {"id": f"bench-hall-{k}", "name": f"Màn hình {k}", "kind": "hall", "voice": False}
        if zone:
            disp["zone"] = zone
        shown.append(disp)
        halls.append(disp)
    return data, str(src.relative_to(ROOT))


def supervisor_login(data: dict) -> tuple[str, str]:
    for s in data.get("staff", []):
        if s.get("role") in ("supervisor", "admin"):
            return s["username"], s["password"]
    raise RuntimeError("the bench config has no supervisor account")


# ------------------------------------------------------------------ /proc readings
CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def proc_mem_mb(pid: int) -> tuple[float, float]:
    rss = hwm = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    return rss, hwm


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return (sum(parts[:8]) - idle) / CLK


def profile(pid: int, seconds: float, name: str) -> subprocess.Popen | None:
    """With QMS_BENCH_PROFILE=<dir> and py-spy installed, sample the server for `seconds` into <dir>/<name>.txt
    (collapsed stacks; summarise with `python -m bench.profile_summary <file>`)."""
    out = os.environ.get("QMS_BENCH_PROFILE")
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not out or not Path(spy).exists():
        return None
    Path(out).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "200",
                             "--format", "raw", "--nonblocking", "-o", str(Path(out) / f"{name}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_done(spy: subprocess.Popen | None) -> None:
    if spy is not None:
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(5)


def settle(pid: int, below_pct: float = 20.0, timeout: float = 90.0) -> float:
    """Wait (bounded) until the server's CPU over one second drops below `below_pct`: background work left
    from a previous step (slips being drawn, greetings) must not be counted in the next one."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        c0 = proc_cpu_s(pid)
        time.sleep(1.0)
        if 100 * (proc_cpu_s(pid) - c0) < below_pct:
            break
    return time.monotonic() - t0


class Window:
    """CPU of the server, of this process and of the machine between start() and stop()."""

    def __init__(self, server_pid: int):
        self.pid = server_pid

    def start(self) -> "Window":
        self.t0, self.srv0, self.me0, self.all0 = time.monotonic(), proc_cpu_s(self.pid), time.process_time(), machine_busy_s()
        return self

    def stop(self) -> dict:
        wall = time.monotonic() - self.t0
        return {"wall_s": wall, "server_cpu_s": proc_cpu_s(self.pid) - self.srv0,
                "orchestrator_cpu_s": time.process_time() - self.me0, "machine_cpu_s": machine_busy_s() - self.all0}


# ------------------------------------------------------------------ the server process
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, config: Path, db: Path, mode: str):
        self.config, self.db, self.mode = config, db, mode
        self.port = free_port()
        self.log = db.with_suffix(".log")
        self.proc: subprocess.Popen | None = None
        # Experiments only: run another tree's queue_server (e.g. a patched copy) from that directory.
        self.cwd = Path(os.environ.get("QMS_BENCH_SERVER_ROOT", str(ROOT)))

    def start(self, timeout: float = 30.0) -> "Server":
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "serve", "--config", str(self.config), "--db", str(self.db),
             "--host", "127.0.0.1", "--port", str(self.port), "--async-mode", self.mode],
            stdout=self._logf, stderr=subprocess.STDOUT, cwd=self.cwd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                c = HttpConn("127.0.0.1", self.port, timeout=2)
                status, _ = c.call("GET", "/healthz")
                c.close()
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer in {timeout}s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "_logf", None):
            self._logf.close()


# ------------------------------------------------------------------ helpers
def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..1)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))]


def latency_figures(prefix: str, seconds: list[float]) -> dict:
    ms = [x * 1000 for x in seconds]
    return {f"{prefix}_n": len(ms), f"{prefix}_p50_ms": pct(ms, 0.50), f"{prefix}_p90_ms": pct(ms, 0.90),
            f"{prefix}_p99_ms": pct(ms, 0.99), f"{prefix}_max_ms": max(ms) if ms else float("nan")}


def recv_bounded(pipe, timeout: float, what: str):
    if not pipe.poll(timeout):
        raise RuntimeError(f"{what}: no answer in {timeout:.0f}s")
    return pipe.recv()


class Procs:
    """Load-generator processes started with 'spawn'; all ended in stop()."""

    def __init__(self):
        self.ctx = mp.get_context("spawn")
        self.items: list[tuple[mp.Process, object]] = []

    def start(self, target, *args) -> object:
        parent, child = self.ctx.Pipe()
        p = self.ctx.Process(target=target, args=(child, *args), daemon=True)
        p.start()
        child.close()
        self.items.append((p, parent))
        return parent

    def stop(self) -> None:
        for p, _ in self.items:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
        self.items.clear()


# ------------------------------------------------------------------ (a) issue throughput
def printed_cost(srv: "Server", token: str, services: list[str]) -> tuple[dict, list[tuple[int, str, str]]]:
    """Server CPU per ticket issued by a kiosk with a printer (the slip drawn and sent to its backend),
    counted until the server is idle again; tickets one at a time, as a kiosk issues them."""
    settle(srv.pid)
    http = HttpConn("127.0.0.1", srv.port)
    acked: list[tuple[int, str, str]] = []
    c0, t0 = proc_cpu_s(srv.pid), time.monotonic()
    try:
        for i in range(PRINTED_TICKETS):
            status, body = http.call("POST", "/api/v1/tickets", {"service": services[i % len(services)]}, token)
            if status == 201:
                acked.append((body["id"], body["code"], body["service"]))
    finally:
        http.close()
    issued_s = time.monotonic() - t0
    drained_s = settle(srv.pid)
    cpu = proc_cpu_s(srv.pid) - c0
    return ({"issue_printed_tickets": len(acked), "issue_printed_server_cpu_ms_per_ticket": 1000 * cpu / max(1, len(acked)),
             "issue_printed_request_ms": 1000 * issued_s / max(1, len(acked)), "issue_printed_drain_s": drained_s}, acked)


def issue_phase(cfg_path: Path, dir_: Path, mode: str, seconds: float, kiosk_token: str, services: list[str],
                printing_token: str | None = None) -> dict:
    srv = Server(cfg_path, dir_ / f"issue-{mode}.sqlite3", mode).start()
    procs = Procs()
    out: dict = {}
    try:
        rss0, _ = proc_mem_mb(srv.pid)
        start_at = time.monotonic() + 1.5  # every connection is open before the clock starts
        per = ISSUERS // ISSUER_PROCESSES
        pipes = [procs.start(loadgen.issuer_worker, "127.0.0.1", srv.port, per + (1 if k < ISSUERS % ISSUER_PROCESSES else 0),
                             services, kiosk_token, start_at, seconds, k * per) for k in range(ISSUER_PROCESSES)]
        while time.monotonic() < start_at:
            time.sleep(0.005)
        win = Window(srv.pid).start()
        spy = profile(srv.pid, seconds, f"issue-{mode}")
        results = [recv_bounded(p, seconds + 40, "issuer") for p in pipes]
        w = win.stop()
        profile_done(spy)
        rss1, hwm = proc_mem_mb(srv.pid)
        acked = [a for r in results for a in r["acked"]]
        failures: dict[str, int] = {}
        for r in results:
            for k, v in r["failures"].items():
                failures[k] = failures.get(k, 0) + v
        wall = max(r["wall_s"] for r in results)
        lat = [x for r in results for x in r["latencies"]]
        gen_cpu = sum(r["cpu_s"] for r in results)
        out.update({
            "issue_issuers": ISSUERS, "issue_tickets": len(acked), "issue_per_s": len(acked) / wall,
            "issue_failed": sum(failures.values()), "issue_failures": "; ".join(f"{k} x{v}" for k, v in failures.items()) or "none",
            "issue_unfinished": sum(r["unfinished"] for r in results),
            **latency_figures("issue_latency", lat),
            "issue_server_cpu_pct": 100 * w["server_cpu_s"] / w["wall_s"],
            "issue_server_cpu_ms_per_ticket": 1000 * w["server_cpu_s"] / max(1, len(acked)),
            # what one core would sustain at that cost: the ceiling of a single-process green-thread server
            "issue_one_core_ceiling_per_s": len(acked) / max(1e-9, w["server_cpu_s"]),
            "issue_loadgen_cpu_pct": 100 * (gen_cpu + w["orchestrator_cpu_s"]) / w["wall_s"],
            "issue_other_cpu_pct": 100 * max(0.0, w["machine_cpu_s"] - w["server_cpu_s"] - gen_cpu - w["orchestrator_cpu_s"]) / w["wall_s"],
            "issue_machine_cpu_pct": 100 * w["machine_cpu_s"] / w["wall_s"],
            "issue_rss_start_mb": rss0, "issue_rss_end_mb": rss1, "issue_rss_peak_mb": hwm,
        })
        if printing_token:
            printed, more = printed_cost(srv, printing_token, services)
            out.update(printed)
            acked += more
    finally:
        procs.stop()
        srv.stop()
    # Integrity, read from the file after the server has gone (every acknowledged ticket must be there).
    conn = sqlite3.connect(str(srv.db))
    try:
        codes = [code for _, code, _ in acked]
        check = integrity(conn, codes)
        in_db = {r[0]: r[1] for r in conn.execute("SELECT id, code FROM tickets")}
        lost = sum(1 for tid, code, _ in acked if in_db.get(tid) != code)
        out.update({
            "issue_db_tickets": check["tickets_total"], "issue_duplicates": check["duplicates_total"],
            "issue_seq_gaps": check["seq_index_gaps"], "issue_lost": lost,
            "issue_unacknowledged_in_db": len(in_db) - len({tid for tid, _, _ in acked} & set(in_db)),
            "issue_integrity_ok": bool(check["integrity_ok"] and lost == 0 and len(in_db) == len(acked)),
        })
    finally:
        conn.close()
    return out


# ------------------------------------------------------------------ (b) call-to-display latency
def fanout_phase(cfg_path: Path, data: dict, dir_: Path, mode: str, seconds: float, kiosk_token: str) -> dict:
    from queue_server.config import load_config

    cfg = load_config(cfg_path)
    services = cfg.services()
    calling = [c for c in cfg.counters][:CALLING_COUNTERS]
    hall_displays = [d for d in cfg.devices.displays if d.kind == "hall"][:DISPLAYS]
    phones = CLIENTS - len(hall_displays) - TERMINALS
    srv = Server(cfg_path, dir_ / f"fanout-{mode}.sqlite3", mode).start()
    procs = Procs()
    out: dict = {"clients": CLIENTS, "displays": len(hall_displays), "terminals": TERMINALS, "phones": phones,
                 "calling_counters": len(calling), "call_rate_per_s": CALL_RATE}
    try:
        http = HttpConn("127.0.0.1", srv.port)
        user, password = supervisor_login(data)
        status, body = http.call("POST", "/api/v1/login", {"username": user, "password": password})
        assert status == 200, body
        token = body["token"]
        for c in calling:
            status, body = http.call("POST", f"/api/v1/counters/{c.id}/open", None, token)
            assert status == 200, (c.id, body)
        # The phones' tickets, interleaved over the calling counters' services: these are the tickets called.
        followed: list[tuple[int, str]] = []  # ticket id, secret token
        t0 = time.monotonic()
        for i in range(phones):
            c = calling[i % len(calling)]
            svc = c.services[(i // len(calling)) % len(c.services)]
            status, body = http.call("POST", "/api/v1/tickets", {"service": svc}, kiosk_token)
            assert status == 201, body
            followed.append((body["id"], body["status_url"].rsplit("/", 1)[1]))
        out["setup_issue_s"] = time.monotonic() - t0
        display_depts = {}
        for d in hall_displays:
            status, body = http.call("GET", f"/api/v1/displays/{d.id}")
            assert status == 200, body
            display_depts[d.id] = {x["id"] for x in body["state"]["departments"]}
        http.close()

        specs = ([("display", d.id, {"room": f"display:{d.id}", "lang": "vi"}) for d in hall_displays]
                 + [("counter", c.id, {"room": f"counter:{c.id}", "token": token}) for c in calling[:TERMINALS]]
                 + [("phone", str(tid), {"room": f"ticket:{secret}"}) for tid, secret in followed])
        shares = [specs[k::CLIENT_PROCESSES] for k in range(CLIENT_PROCESSES)]
        win = Window(srv.pid).start()
        pipes = [procs.start(loadgen.clients_worker, "127.0.0.1", srv.port, share) for share in shares]
        hello = [recv_bounded(p, 300, "clients connecting") for p in pipes]
        w = win.stop()
        states: dict[str, int] = {}
        for h in hello:
            for k, v in h["states"].items():
                states[k] = states.get(k, 0) + v
        out.update({"connected": states.get("connected", 0), "connect_s": w["wall_s"],
                    "connect_server_cpu_pct": 100 * w["server_cpu_s"] / w["wall_s"]})
        if states.get("connected", 0) != CLIENTS:
            errs = [e for h in hello for e in h["errors"]][:5]
            raise RuntimeError(f"only {states} of {CLIENTS} clients connected: {errs}")
        out["rss_connected_mb"] = proc_mem_mb(srv.pid)[0]

        out["settle_s"] = settle(srv.pid)  # the greetings have gone out; then idle with 2,000 sockets (pings only)
        win = Window(srv.pid).start()
        time.sleep(3.0)
        w = win.stop()
        out["idle_server_cpu_pct"] = 100 * w["server_cpu_s"] / w["wall_s"]

        for p in pipes:
            p.send("mark")
        n_calls = int(seconds * CALL_RATE)
        plan = [(i / CALL_RATE, calling[i % len(calling)].id) for i in range(n_calls)]
        start_at = time.monotonic() + 1.0
        win = Window(srv.pid).start()
        dpipe = procs.start(loadgen.driver_worker, "127.0.0.1", srv.port, plan, token, start_at)
        spy = profile(srv.pid, seconds, f"calls-{mode}")
        drive = recv_bounded(dpipe, seconds + 60, "driver")
        time.sleep(2.0)  # the last calls' deliveries
        for p in pipes:
            p.send("stop")
        got = [recv_bounded(p, 60, "clients results") for p in pipes]
        w = win.stop()
        rss, hwm = proc_mem_mb(srv.pid)
        alive = srv.alive()
        profile_done(spy)
    finally:
        procs.stop()
        srv.stop()

    # ---- what should have arrived, and what did
    calls = drive["calls"]
    ok = [c for c in calls if c["status"] == 200 and "ticket" in c and not c["repeated"]]
    sent = {c["ticket"]: c["sent"] for c in ok}
    dept_of = {c["ticket"]: services[c["service"]][0].id for c in ok}
    counter_of = {c["ticket"]: c["counter"] for c in ok}
    followed_ids = {str(tid) for tid, _ in followed}
    received: dict[tuple[str, str, int], list[float]] = {}
    for g in got:
        for kind, ident, tid, ts, replayed, recall in g["called"]:
            if replayed or recall:
                continue
            received.setdefault((kind, ident, tid), []).append(ts)
    lat = {"display": [], "counter": [], "phone": []}
    expected = {"display": 0, "counter": 0, "phone": 0}
    missing = dict(expected)
    for tid, t_sent in sent.items():
        want = [("display", d) for d, depts in display_depts.items() if dept_of[tid] in depts]
        want.append(("counter", counter_of[tid]))
        if str(tid) in followed_ids:
            want.append(("phone", str(tid)))
        for kind, ident in want:
            expected[kind] += 1
            ts = received.get((kind, ident, tid))
            if ts:
                lat[kind].append(ts[0] - t_sent)
            else:
                missing[kind] += 1
    if os.environ.get("QMS_BENCH_DUMP"):  # raw data for a closer look: every call and every reception
        Path(os.environ["QMS_BENCH_DUMP"]).mkdir(parents=True, exist_ok=True)
        (Path(os.environ["QMS_BENCH_DUMP"]) / f"calls-{mode}.json").write_text(json.dumps(
            {"calls": calls, "received": [[k, i, t, ts] for (k, i, t), v in received.items() for ts in v]}))
    dups = sum(len(v) - 1 for v in received.values())
    unexpected = sum(1 for (kind, ident, tid) in received if tid not in sent
                     or (kind == "display" and dept_of[tid] not in display_depts.get(ident, ()))
                     or (kind == "counter" and counter_of[tid] != ident) or (kind == "phone" and ident != str(tid)))
    errors: dict[str, int] = {}
    for c in calls:
        if c["status"] != 200:
            errors[f"{c['status']} {c.get('error')}"] = errors.get(f"{c['status']} {c.get('error')}", 0) + 1
    counts: dict[str, int] = {}
    for g in got:
        for k, v in g["counts"].items():
            counts[k] = counts.get(k, 0) + v
    gen_cpu = sum(g["cpu_s"] for g in got) + drive["cpu_s"]
    wall = w["wall_s"]
    lag = [c["sent"] - c["due"] for c in calls]
    out.update({
        "calls_planned": n_calls, "calls_made": len(ok), "calls_failed": sum(errors.values()),
        "calls_errors": "; ".join(f"{k} x{v}" for k, v in errors.items()) or "none",
        "calls_repeated": sum(1 for c in calls if c.get("repeated")), "calls_unsent": drive["unsent"],
        "calls_per_s": len(ok) / drive["wall_s"], "driver_send_lag_p99_ms": 1000 * pct(lag, 0.99),
        "tickets_called_twice": len(ok) - len(sent),
        **latency_figures("display", lat["display"]),
        **latency_figures("counter", lat["counter"]),
        **latency_figures("phone", lat["phone"]),
        **latency_figures("next_answer", [c["answered"] - c["sent"] for c in ok]),
        "display_expected": expected["display"], "display_missing": missing["display"],
        "counter_expected": expected["counter"], "counter_missing": missing["counter"],
        "phone_expected": expected["phone"], "phone_missing": missing["phone"],
        "deliveries_duplicated": dups, "deliveries_unexpected": unexpected,
        "messages_per_s": sum(counts.values()) / wall,
        "messages_per_s_display": sum(v for k, v in counts.items() if k.startswith("display:")) / wall,
        "messages_per_s_counter": sum(v for k, v in counts.items() if k.startswith("counter:")) / wall,
        "messages_per_s_phone": sum(v for k, v in counts.items() if k.startswith("phone:")) / wall,
        "phone_queue_updates_per_s": counts.get("phone:queue.updated", 0) / wall,
        "clients_still_connected": sum(g["states"].get("connected", 0) for g in got),
        "client_errors": "; ".join(e for g in got for e in g["errors"][:3])[:500] or "none",
        "server_alive_after": alive,
        "calls_server_cpu_pct": 100 * w["server_cpu_s"] / wall,
        "calls_server_cpu_us_per_message": 1e6 * w["server_cpu_s"] / max(1, sum(counts.values())),
        "calls_loadgen_cpu_pct": 100 * (gen_cpu + w["orchestrator_cpu_s"]) / wall,
        "calls_loadgen_cpu_pct_per_process_max": max(100 * g["cpu_s"] / g["wall_s"] for g in got),
        "calls_other_cpu_pct": 100 * max(0.0, w["machine_cpu_s"] - w["server_cpu_s"] - gen_cpu - w["orchestrator_cpu_s"]) / wall,
        "calls_machine_cpu_pct": 100 * w["machine_cpu_s"] / wall,
        "rss_end_mb": rss, "rss_peak_mb": hwm,
    })
    return out


# ------------------------------------------------------------------ the section
def run_mode(mode: str, issue_s: float, calls_s: float) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    dir_ = Path(tempfile.mkdtemp(prefix=f"server-{mode}-", dir=WORK))
    try:
        data, source = bench_centre()
        cfg_path = dir_ / "bench-centre.yaml"
        cfg_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        from queue_server.config import load_config

        cfg = load_config(cfg_path)  # a bad bench config fails here, with its key path
        kiosk = BENCH_KIOSK_TOKEN
        printing = next((k.token for k in cfg.devices.kiosks if k.printer), None)
        figures: dict = {"config": source, "timezone": cfg.centre.timezone, "counters": len(cfg.counters), "services": len(cfg.services()),
                         "server_code": os.environ.get("QMS_BENCH_LABEL") or os.environ.get("QMS_BENCH_SERVER_ROOT", "this repository")}
        # Experiments: QMS_BENCH_ONLY=issue or =calls runs one phase (the full run needs both).
        only = os.environ.get("QMS_BENCH_ONLY", "")
        if only != "calls":
            raw = raw_commits(dir_, 3.0)
            figures.update({"raw_commits_per_s": raw["raw_commits_per_s"]})
            figures.update(issue_phase(cfg_path, dir_, mode, issue_s, kiosk, list(cfg.services()), printing))
            figures["issue_over_raw"] = figures["issue_per_s"] / figures["raw_commits_per_s"]
            figures["meets_issue_target"] = figures["issue_per_s"] >= TARGETS["issue_per_s"]
        if only != "issue":
            figures.update(fanout_phase(cfg_path, data, dir_, mode, calls_s, kiosk))
            figures["meets_latency_target"] = figures["display_p99_ms"] <= TARGETS["display_p99_ms"]
        if not only:
            figures["meets_rss_target"] = max(figures["rss_peak_mb"], figures["issue_rss_peak_mb"]) <= TARGETS["rss_mb"]
            figures["meets_integrity"] = bool(
                figures["issue_integrity_ok"] and figures["display_missing"] == 0 and figures["counter_missing"] == 0
                and figures["phone_missing"] == 0 and figures["deliveries_duplicated"] == 0
                and figures["deliveries_unexpected"] == 0 and figures["tickets_called_twice"] == 0)
        return figures
    finally:
        if os.environ.get("QMS_BENCH_KEEP"):
            print(f"  (kept {dir_})")
        else:
            shutil.rmtree(dir_, ignore_errors=True)


SUMMARY = [  # (figure, label, target text)
    ("raw_commits_per_s", "raw SQLite commits/s (WAL, FULL)", ""),
    ("issue_per_s", "issue tickets/s, 50 issuers", ">= 1,000"),
    ("issue_over_raw", "issue rate / raw commit rate", ""),
    ("issue_latency_p99_ms", "issue request p99 ms", ""),
    ("issue_server_cpu_ms_per_ticket", "server CPU ms per ticket", ""),
    ("issue_one_core_ceiling_per_s", "tickets/s one core could do at that", ""),
    ("issue_server_cpu_pct", "server CPU % (issue)", ""),
    ("issue_other_cpu_pct", "other processes CPU % (issue)", ""),
    ("issue_loadgen_cpu_pct", "load generator CPU % (issue)", ""),
    ("issue_printed_server_cpu_ms_per_ticket", "server CPU ms per printed-slip ticket", ""),
    ("issue_duplicates", "duplicate tickets", "0"),
    ("issue_lost", "lost tickets", "0"),
    ("connect_s", "connect 2,000 clients, s", ""),
    ("calls_per_s", "calls/s made", "20"),
    ("display_p50_ms", "call -> display p50 ms", ""),
    ("display_p99_ms", "call -> display p99 ms", "<= 50"),
    ("display_max_ms", "call -> display max ms", ""),
    ("counter_p99_ms", "call -> counter terminal p99 ms", ""),
    ("phone_p99_ms", "call -> phone p99 ms", ""),
    ("next_answer_p99_ms", "'next' REST answer p99 ms", ""),
    ("display_missing", "display deliveries missing", "0"),
    ("deliveries_duplicated", "deliveries duplicated", "0"),
    ("messages_per_s", "messages delivered/s (all clients)", ""),
    ("idle_server_cpu_pct", "server CPU % idle, 2,000 clients", ""),
    ("calls_server_cpu_pct", "server CPU % (calls)", ""),
    ("calls_server_cpu_us_per_message", "server CPU us per delivered message", ""),
    ("calls_loadgen_cpu_pct", "load generator CPU % (calls)", ""),
    ("calls_other_cpu_pct", "other processes CPU % (calls)", ""),
    ("rss_peak_mb", "server RSS peak MB, 2,000 clients", "<= 250"),
]


def print_summary(by_mode: dict[str, dict]) -> None:
    from .__main__ import fmt

    modes = list(by_mode)
    print("\n  " + f"{'':38} {'target':>9} " + " ".join(f"{m:>10}" for m in modes))
    for key, label, target in SUMMARY:
        vals = " ".join(f"{fmt(by_mode[m].get(key, '-')):>10}" for m in modes)
        print(f"  {label:38} {target:>9} {vals}")


def run(seconds: float = 3.0) -> dict:
    modes = [m.strip() for m in os.environ.get("QMS_BENCH_MODES", "eventlet,gevent").split(",") if m.strip()]
    issue_s, calls_s = max(seconds, 8.0), max(seconds, 25.0)
    by_mode: dict[str, dict] = {}
    for mode in modes:
        print(f"  server bench, {mode}: issue {issue_s:.0f} s, calls {calls_s:.0f} s ...", flush=True)
        by_mode[mode] = run_mode(mode, issue_s, calls_s)
    print_summary(by_mode)
    figures: dict = {"issue_seconds": issue_s, "calls_seconds": calls_s}
    for mode, f in by_mode.items():
        figures.update({f"{mode}.{k}": v for k, v in f.items()})
    return figures
