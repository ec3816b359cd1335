"""Load-generator processes (started with multiprocessing 'spawn'; standard library only in the hot loops).

clients_worker  holds hundreds of Socket.IO connections (displays, counter terminals, phones) on one selector,
                and records the receive time of every ticket.called and a count of every other event.
issuer_worker   N keep-alive HTTP connections issuing tickets back to back (each one "a concurrent issuer").
driver_worker   one keep-alive HTTP connection per counter, pressing "next" on a fixed schedule.

Timestamps are time.monotonic(), which CPython reads from CLOCK_MONOTONIC on Linux: one system-wide clock,
so a send time taken in the driver and a receive time taken in a client process can be subtracted.
Each process reports its own CPU time (resource.getrusage) over the measured window.
"""
from __future__ import annotations

import json
import resource
import selectors
import time

from .lean_client import HttpConn, ProtocolError, SioSocket


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ------------------------------------------------------------------ Socket.IO clients
def clients_worker(pipe, host: str, port: int, specs: list[tuple[str, str, dict]], connect_timeout: float = 240.0) -> None:
    """specs: (kind, ident, auth) per client. Protocol on `pipe` (parent -> child: "mark", "stop"):
    child sends {"phase": "connected", ...} once every client is accepted (or failed), then on "mark" starts
    counting afresh, and on "stop" sends the results and exits."""
    sel = selectors.DefaultSelector()
    socks: list[SioSocket] = []
    called: list[tuple[str, str, int, float, bool, bool]] = []  # kind, ident, ticket id, recv ts, replayed, recall
    counts: dict[str, int] = {}
    measuring = False
    errors: list[str] = []

    def service(timeout: float) -> None:
        for key, mask in sel.select(timeout):
            k = key.data
            s = socks[k]
            if mask & selectors.EVENT_READ:
                events = s.on_readable()
                if events:
                    ts = time.monotonic()
                    kind, ident = specs[k][0], specs[k][1]
                    for name, text in events:
                        ck = f"{kind}:{name}"
                        counts[ck] = counts.get(ck, 0) + 1
                        if name == "ticket.called":
                            data = json.loads(text[2:])[1]
                            called.append((kind, ident, data["ticket"]["id"], ts, bool(data.get("replayed")),
                                           bool(data.get("recall"))))
            if mask & selectors.EVENT_WRITE:
                s.flush()
            want = selectors.EVENT_READ | (selectors.EVENT_WRITE if s.wants_write else 0)
            if want != key.events and s.state != "closed":
                sel.modify(s.sock, want, k)
            if s.state == "closed" and s.sock is not None and s.sock.fileno() >= 0:
                sel.unregister(s.sock)
                s.close()
                errors.append(f"{specs[k][0]} {specs[k][1]}: closed ({s.error})")

    t0 = time.monotonic()
    for k, (kind, ident, auth) in enumerate(specs):
        s = SioSocket(host, port, auth)
        socks.append(s)
        try:
            s.connect()
        except (OSError, ProtocolError) as exc:
            s.state, s.error = "closed", f"connect failed: {exc}"
            errors.append(f"{kind} {ident}: {s.error}")
            continue
        sel.register(s.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if s.wants_write else 0), k)
        service(0)  # keep earlier sockets answered while the others connect
    deadline = t0 + connect_timeout
    while time.monotonic() < deadline and any(s.state == "open" for s in socks):
        service(0.05)
    connect_s = time.monotonic() - t0
    states: dict[str, int] = {}
    for s in socks:
        states[s.state] = states.get(s.state, 0) + 1
        if s.state == "refused":
            errors.append(f"refused: {s.error[:200]}")
    pipe.send({"phase": "connected", "states": states, "connect_s": connect_s, "errors": errors[:20]})

    cpu0 = cpu_seconds()
    t_mark = time.monotonic()
    while True:
        service(0.02)
        if pipe.poll():
            cmd = pipe.recv()
            if cmd == "mark":
                called.clear()
                counts.clear()
                measuring = True
                cpu0, t_mark = cpu_seconds(), time.monotonic()
            elif cmd == "stop":
                break
    cpu = cpu_seconds() - cpu0
    wall = time.monotonic() - t_mark
    states = {}
    for s in socks:
        states[s.state] = states.get(s.state, 0) + 1
    pipe.send({"phase": "done", "measured": measuring, "called": called, "counts": counts, "cpu_s": cpu,
               "wall_s": wall, "states": states, "pings": sum(s.pings for s in socks),
               "bytes_in": sum(s.bytes_in for s in socks), "errors": errors[:50]})
    for s in socks:
        s.close()


# ------------------------------------------------------------------ ticket issuers
def issuer_worker(pipe, host: str, port: int, n_conns: int, services: list[str], token: str, start_at: float,
                  seconds: float, offset: int = 0) -> None:
    """n_conns connections, each issuing back to back from start_at for `seconds` (round-robin services)."""
    sel = selectors.DefaultSelector()
    conns = [HttpConn(host, port) for _ in range(n_conns)]
    bodies = [conns[0].request_bytes("POST", "/api/v1/tickets", {"service": s}, token) for s in services]
    sent_at = [0.0] * n_conns
    nxt = [(offset + i) % len(services) for i in range(n_conns)]
    acked: list[tuple[int, str, str]] = []  # ticket id, code, service
    failures: dict[str, int] = {}
    latencies: list[float] = []
    for i, c in enumerate(conns):
        c.sock.setblocking(False)
        sel.register(c.sock, selectors.EVENT_READ, i)
    while time.monotonic() < start_at:
        time.sleep(min(0.01, max(0.0, start_at - time.monotonic())))
    cpu0, t0 = cpu_seconds(), time.monotonic()
    end = t0 + seconds

    def fire(i: int) -> None:
        sent_at[i] = time.monotonic()
        conns[i].send(bodies[nxt[i]])
        nxt[i] = (nxt[i] + n_conns) % len(services)

    for i in range(n_conns):
        fire(i)
    hard_end = end + 15.0
    while any(c.busy for c in conns) and time.monotonic() < hard_end:
        for key, _ in sel.select(0.5):
            i = key.data
            c = conns[i]
            try:
                got = c.on_readable()
            except ProtocolError as exc:
                failures[f"connection: {exc}"] = failures.get(f"connection: {exc}", 0) + 1
                sel.unregister(c.sock)
                c.busy = False
                continue
            if got is None:
                continue
            now = time.monotonic()
            status, raw = got
            latencies.append(now - sent_at[i])
            if status == 201:
                t = json.loads(raw)
                acked.append((t["id"], t["code"], t["service"]))
            else:
                try:
                    err = json.loads(raw).get("error", "?")
                except ValueError:
                    err = "?"
                failures[f"{status} {err}"] = failures.get(f"{status} {err}", 0) + 1
            if now < end:
                fire(i)
    wall = time.monotonic() - t0
    cpu = cpu_seconds() - cpu0
    pipe.send({"acked": acked, "failures": failures, "latencies": latencies, "wall_s": wall, "cpu_s": cpu,
               "unfinished": sum(c.busy for c in conns)})
    for c in conns:
        c.close()


# ------------------------------------------------------------------ the counters pressing "next"
def driver_worker(pipe, host: str, port: int, plan: list[tuple[float, str]], token: str, start_at: float) -> None:
    """plan: (seconds after start_at, counter id), sorted. Each counter has its own keep-alive connection
    and sends {"current": <the ticket it shows>} like a counter terminal does."""
    sel = selectors.DefaultSelector()
    counters = sorted({c for _, c in plan})
    conns = {c: HttpConn(host, port) for c in counters}
    current: dict[str, int | None] = {c: None for c in counters}
    pending: dict[str, list[float]] = {c: [] for c in counters}  # presses waiting for the previous answer
    inflight: dict[str, tuple[float, float]] = {}  # counter -> (due, sent)
    calls: list[dict] = []
    for c, conn in conns.items():
        conn.sock.setblocking(False)
        sel.register(conn.sock, selectors.EVENT_READ, c)
    while time.monotonic() < start_at:
        time.sleep(min(0.01, max(0.0, start_at - time.monotonic())))
    cpu0, t0 = cpu_seconds(), time.monotonic()

    def press(c: str, due: float) -> None:
        conn = conns[c]
        data = conn.request_bytes("POST", f"/api/v1/counters/{c}/next", {"current": current[c]}, token)
        sent = time.monotonic()
        conn.send(data)
        inflight[c] = (due, sent)

    i = 0
    hard_end = t0 + (plan[-1][0] if plan else 0) + 15.0
    while (i < len(plan) or inflight or any(pending.values())) and time.monotonic() < hard_end:
        now = time.monotonic()
        while i < len(plan) and t0 + plan[i][0] <= now:
            due, c = t0 + plan[i][0], plan[i][1]
            i += 1
            if conns[c].busy:
                pending[c].append(due)
            else:
                press(c, due)
        wait = max(0.0, min(0.05, (t0 + plan[i][0] - time.monotonic()) if i < len(plan) else 0.05))
        for key, _ in sel.select(wait):
            c = key.data
            conn = conns[c]
            try:
                got = conn.on_readable()
            except ProtocolError as exc:
                sel.unregister(conn.sock)
                due, sent = inflight.pop(c, (0.0, 0.0))
                calls.append({"counter": c, "due": due, "sent": sent, "answered": time.monotonic(), "status": 0,
                              "error": f"connection: {exc}"})
                continue
            if got is None:
                continue
            recv = time.monotonic()
            due, sent = inflight.pop(c)
            status, raw = got
            body = json.loads(raw) if raw else {}
            rec = {"counter": c, "due": due, "sent": sent, "answered": recv, "status": status}
            if status == 200 and body.get("ticket"):
                t = body["ticket"]
                rec.update(ticket=t["id"], code=t["code"], service=t["service"], repeated=bool(body.get("repeated")))
                current[c] = t["id"]
            else:
                rec["error"] = body.get("error", "?")
            calls.append(rec)
            if pending[c]:
                press(c, pending[c].pop(0))
    pipe.send({"calls": calls, "cpu_s": cpu_seconds() - cpu0, "wall_s": time.monotonic() - t0,
               "unsent": len(plan) - i + sum(len(p) for p in pending.values()), "unanswered": len(inflight)})
    for conn in conns.values():
        conn.close()
