"""The issue path in process, with a queue waiting: what one issued ticket costs the server, and where the wait
estimate's board (one replay of the calling order over every waiting ticket, core/estimate.py) is made.

The demo centre (config.yaml as bench/engine.py varies it: always open, no daily caps), every counter opened by a
supervisor, WAITING tickets issued first (round-robin over the open services). Then ISSUES tickets, one at a
time, by the kiosk without a printer through Flask's test client: the whole request (routing, action model,
store transaction, push, answer, after_issue hooks), no HTTP server. The centre's clock moves 100 ms per
ticket and the push tick runs every 5 tickets (every 500 ms of the centre's time, `server.coalesce_ms`), so the
figures are those of a kiosk stream of 10 tickets a second. CPU is this process's (time.process_time): per
request, per tick, and both per ticket; replays are counted (the real function, wrapped) by where they ran.
Nothing else runs in the process (threading mode, no background tasks).
"""
from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .engine import WORK, bench_config

WAITING = 300
ISSUES = 200
TICK_EVERY = 5  # tickets between push ticks (500 ms of the centre's time at 100 ms per ticket)


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def pct(values: list[float], q: float) -> float:
    xs = sorted(values)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run(seconds: float = 3.0, waiting: int = WAITING, issues: int = ISSUES) -> dict:
    """`seconds` is not used: the loop is bounded by `issues`."""
    from queue_server.core import estimate
    from queue_server.web.app import create_app

    cfg, source = bench_config()
    kiosk = next(k for k in cfg.devices.kiosks if not k.printer)
    supervisor = next(s for s in cfg.staff if s.role == "supervisor")
    WORK.mkdir(parents=True, exist_ok=True)
    dir_ = Path(tempfile.mkdtemp(prefix="issue-path-", dir=WORK))
    where = {"now": "setup"}
    replays = {"setup": 0, "request": 0, "tick": 0}
    real_replay = estimate.replay

    def counted(*args, **kw):
        replays[where["now"]] += 1
        return real_replay(*args, **kw)

    estimate.replay = counted
    clock = Clock()
    app = create_app(cfg, db_path=str(dir_ / "qms.sqlite3"), clock=clock, start_background=False, async_mode="threading")
    ctx = app.extensions["qms"]
    http = app.test_client()
    try:
        r = http.post("/api/v1/login", json={"username": supervisor.username, "password": supervisor.password})
        sup = {"Authorization": "Bearer " + r.get_json()["token"]}
        for c in cfg.counters:
            assert http.post(f"/api/v1/counters/{c.id}/open", headers=sup).status_code == 200
        kiosk_auth = {"Authorization": "Bearer " + kiosk.token}
        services = [s["id"] for s in http.get("/api/v1/services").get_json()["services"] if s["state"] == "open"]
        usable, i = [], 0
        while len(usable) < 1 or i < waiting:  # the services this kiosk may issue, round-robin
            sid = services[i % len(services)]
            i += 1
            if i > waiting + len(services) * 2 and not usable:
                raise RuntimeError("the kiosk issues no ticket of any open service")
            resp = http.post("/api/v1/tickets", json={"service": sid}, headers=kiosk_auth)
            if resp.status_code == 201 and sid not in usable:
                usable.append(sid)
            if i % TICK_EVERY == 0:
                ctx.push.tick()
        ctx.push.tick()
        start_waiting = sum(ctx.store.waiting_counts().values())

        request_cpu, tick_cpu = [], []
        for n in range(issues):
            sid = usable[n % len(usable)]
            clock.now += timedelta(milliseconds=100)
            where["now"] = "request"
            c0 = time.process_time()
            resp = http.post("/api/v1/tickets", json={"service": sid}, headers=kiosk_auth)
            request_cpu.append(time.process_time() - c0)
            assert resp.status_code == 201, resp.get_data(as_text=True)
            if (n + 1) % TICK_EVERY == 0:
                where["now"] = "tick"
                c0 = time.process_time()
                ctx.push.tick()
                tick_cpu.append(time.process_time() - c0)
        where["now"] = "setup"
        ms = [x * 1000 for x in request_cpu]
        return {
            "config": source, "counters_open": len(cfg.counters), "services_issued": len(usable),
            "waiting_at_start": start_waiting, "issues": issues, "tick_every_tickets": TICK_EVERY,
            "request_cpu_ms_mean": statistics.fmean(ms), "request_cpu_ms_p50": pct(ms, 0.5),
            "request_cpu_ms_p90": pct(ms, 0.9), "request_cpu_ms_max": max(ms),
            "tick_cpu_ms_mean": statistics.fmean(tick_cpu) * 1000 if tick_cpu else 0.0,
            "cpu_ms_per_ticket_with_ticks": (sum(request_cpu) + sum(tick_cpu)) * 1000 / issues,
            "replays_in_requests": replays["request"], "replays_in_ticks": replays["tick"],
        }
    finally:
        estimate.replay = real_replay
        ctx.store.close()
        shutil.rmtree(dir_, ignore_errors=True)
