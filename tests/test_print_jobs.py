"""Print jobs: a kiosk issues, the slip is printed (preview files, a TCP printer emulator, a printer agent
process), the kiosk's room hears print.status; failures never touch the ticket. The server runs in this process
(its print workers are real threads) except where a printer agent process or the gevent mode is under test."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from PIL import Image

from conftest import Clock
from escpos_emulator import PrinterEmulator, parse
from inproc import InProcessServer
from server_util import ROOT, ServerProcess, free_port, server_config

KIOSK1 = {"Authorization": "Bearer test-kiosk-token-1"}
KIOSK2 = {"Authorization": "Bearer test-kiosk-token-2"}
KIOSK3 = {"Authorization": "Bearer test-kiosk-token-3"}
KIOSK4 = {"Authorization": "Bearer test-kiosk-token-4"}
KIOSK5 = {"Authorization": "Bearer test-kiosk-token-5"}
AGENT_TIMEOUT = 5




def printed(ticket_id, state="printed"):
    return lambda e, d: e == "print.status" and d["ticket_id"] == ticket_id and d["state"] == state


def make_config(tmp: Path, hang_port: int, closed_port: int, paper_port: int | None = None, now=None) -> Path:
    path = server_config(tmp, extra_counters=0, now=now)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["printers"] = [
        {"id": "printer-1", "backend": "preview"},  # output_dir "prints": beside the database, tmp/prints
        {"id": "printer-net", "backend": "network", "host": "127.0.0.1", "port": closed_port, "timeout_seconds": 1},
        {"id": "printer-agent", "backend": "preview", "via_agent": True, "output_dir": str(tmp / "agent-prints"),
         "agent_timeout_seconds": AGENT_TIMEOUT, "check_seconds": 1},
        {"id": "printer-hang", "backend": "network", "host": "127.0.0.1", "port": hang_port, "timeout_seconds": 1.5,
         "check_seconds": 600},
    ]
    if paper_port is not None:  # no kiosk uses it: only the watcher talks to it
        data["devices"]["printers"].append({"id": "printer-paper", "backend": "network", "host": "127.0.0.1",
                                            "port": paper_port, "timeout_seconds": 1, "check_seconds": 1})
    data["devices"]["kiosks"] = [
        {"id": "kiosk-1", "token": "test-kiosk-token-1", "printer": "printer-1"},
        {"id": "kiosk-2", "token": "test-kiosk-token-2", "printer": "printer-net"},
        {"id": "kiosk-3", "token": "test-kiosk-token-3", "printer": "printer-agent"},
        {"id": "kiosk-4", "token": "test-kiosk-token-4", "printer": "printer-hang"},
        {"id": "kiosk-5", "token": "test-kiosk-token-5"},
    ]
    data["devices"]["agents"].append({"id": "led-agent", "token": "test-led-agent-token", "kind": "led"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hanging_printer():
    emu = PrinterEmulator("no_read")
    yield emu
    emu.close()


def start_server(tmp: Path, hanging_port: int, mode: str, port: int | None = None,
                 paper_port: int | None = None) -> ServerProcess:
    cfg = make_config(tmp, hanging_port, free_port(), paper_port)
    srv = ServerProcess(cfg, tmp / "qms.sqlite3", mode, port=port).start()
    srv.tmp = tmp
    return srv


@pytest.fixture(scope="module")
def paper_out_printer():
    emu = PrinterEmulator("paper_out")
    yield emu
    emu.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, hanging_printer, paper_out_printer):
    """The server in this process for the module; each request returns once the slips it started are printed
    or failed (test_gevent_server_prints_too runs the main flow on a real gevent server)."""
    tmp = tmp_path_factory.mktemp("print")
    clock = Clock()
    srv = InProcessServer(make_config(tmp, hanging_printer.port, free_port(), paper_out_printer.port, now=clock()),
                          tmp / "qms.sqlite3", clock)
    srv.tmp = tmp
    yield srv
    srv.close()


def device_state(server, sup, device_id: str) -> dict:
    devices = {(d["kind"], d["device_id"]): d for d in server.get("/api/v1/devices", sup).json()["devices"]}
    return devices.get(("printer", device_id), {})


def wait_device(server, sup, device_id: str, state: str, timeout: float = 6.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = device_state(server, sup, device_id)
        if d.get("state") == state:
            return d
        time.sleep(0.1)
    raise AssertionError(f"printer {device_id} is {device_state(server, sup, device_id)}, not {state}")


def test_idle_printer_out_of_paper_is_seen_without_a_slip(server, sup, paper_out_printer):
    server.check_printer("printer-paper")  # the watcher's check, every check_seconds in a running server
    d = device_state(server, sup, "printer-paper")
    assert d["state"] == "paper_out", d
    assert d["problem"] is True and "paper" in d["detail"]
    assert paper_out_printer.connections >= 1 and not any(b"\x1dv0" in data for data in paper_out_printer.received)


@pytest.fixture(scope="module")
def sup(server):
    return server.login("super", "test-super")


def issue(server, headers, service="cccd", lang=None) -> dict:
    r = server.post("/api/v1/tickets" + (f"?lang={lang}" if lang else ""), {"service": service}, headers)
    assert r.status_code == 201, r.text
    return r.json()


def tickets_with_id(server, ticket_id: int) -> int:
    with sqlite3.connect(server.db) as db:
        return db.execute("SELECT COUNT(*) FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0]


def test_kiosk_slip_printed_to_preview_and_only_that_kiosk_hears(server, sup):
    mine = server.socket({"room": "kiosk:kiosk-1", "token": "test-kiosk-token-1"})
    other = server.socket({"room": "kiosk:kiosk-2", "token": "test-kiosk-token-2"})
    supervisors = server.socket({"room": "supervisors", "token": sup["Authorization"][7:]})
    try:
        t = issue(server, KIOSK1)
        assert t["print_job"]["state"] == "queued" and t["print_job"]["reprint"] is False
        _, ev, _ = mine.wait_for(printed(t["id"]))
        assert ev["kiosk"] == "kiosk-1" and ev["code"] == t["code"] and ev["reprint"] is False and ev["reason"] == ""
        states = [d["state"] for d in mine.of("print.status") if d["ticket_id"] == t["id"]]
        assert states == ["queued", "printing", "printed"]
        supervisors.wait_for(printed(t["id"]))
        # the print worker is idle and every message it sent is in (of() settles first): none went to kiosk-2
        assert [d for d in other.of("print.status") if d["ticket_id"] == t["id"]] == [], "kiosk-2 hears only its own slips"
        job = ev["job_id"]
        png = server.tmp / "prints" / f"job{job:06d}_{t['code']}.png"
        raw = png.with_suffix(".bin").read_bytes()
        with Image.open(png) as img:
            assert img.width == 576 and img.height > 700
        cmds = parse(raw)
        assert cmds[0] == ("init",) and cmds[-1][0] == "cut"
        assert sum(c[3] for c in cmds if c[0] == "raster") == img.height
        devices = {(d["kind"], d["device_id"]): d for d in server.get("/api/v1/devices", sup).json()["devices"]}
        assert devices[("printer", "printer-1")]["state"] == "online"
    finally:
        mine.close()
        other.close()
        supervisors.close()


def test_english_slip_and_reprint_marked(server):
    kiosk = server.socket({"room": "kiosk:kiosk-1", "token": "test-kiosk-token-1"})
    try:
        t = issue(server, KIOSK1, lang="en")
        first = kiosk.wait_for(printed(t["id"]))[1]
        r = server.post(f"/api/v1/tickets/{t['id']}/reprint", None, KIOSK1)
        assert r.status_code == 202, r.text
        job = r.json()["job"]
        assert job["reprint"] is True and job["lang"] == "en" and job["state"] == "queued"
        second = kiosk.wait_for(lambda e, d: e == "print.status" and d["job_id"] == job["id"] and d["state"] == "printed")[1]
        assert second["reprint"] is True
        jobs = server.get(f"/api/v1/tickets/{t['id']}/print-jobs", KIOSK1).json()["jobs"]
        assert [(j["id"], j["reprint"], j["state"]) for j in jobs] == [(first["job_id"], False, "printed"),
                                                                       (job["id"], True, "printed")]
        plain = Image.open(server.tmp / "prints" / f"job{first['job_id']:06d}_{t['code']}.png")
        again = Image.open(server.tmp / "prints" / f"job{job['id']:06d}_{t['code']}_reprint.png")
        assert again.height > plain.height, "the reprint carries its REPRINT band and time"
        # another kiosk may not reprint it; a finished ticket is not reprinted
        assert server.post(f"/api/v1/tickets/{t['id']}/reprint", None, KIOSK2).status_code == 403
        assert server.post(f"/api/v1/tickets/{t['id']}/reprint", None, {}).status_code == 401
    finally:
        kiosk.close()


def test_refused_network_printer_fails_without_touching_the_ticket(server, sup):
    kiosk = server.socket({"room": "kiosk:kiosk-2", "token": "test-kiosk-token-2"})
    supervisors = server.socket({"room": "supervisors", "token": sup["Authorization"][7:]})
    try:
        sent = time.monotonic()
        t = issue(server, KIOSK2)  # returns once its slip has failed
        took = time.monotonic() - sent
        _, ev, _ = kiosk.wait_for(printed(t["id"], "failed"))
        assert took < 1 + 1.5, "failed within the printer's timeout"
        assert ev["reason"] == "offline" and "refused" in ev["detail"] and ev["message"] == "Máy in không kết nối được"
        supervisors.wait_for(lambda e, d: e == "device.updated" and d["device_id"] == "printer-net"
                             and d["state"] == "offline" and d["problem"])
        assert tickets_with_id(server, t["id"]) == 1
        assert server.get(f"/api/v1/tickets/{t['id']}").json()["status"] == "waiting"
        r = server.post(f"/api/v1/tickets/{t['id']}/reprint", None, KIOSK2)
        assert r.status_code == 202 and r.json()["job"]["reprint"] is True
        kiosk.wait_for(lambda e, d: e == "print.status" and d["job_id"] == r.json()["job"]["id"] and d["state"] == "failed")
        assert tickets_with_id(server, t["id"]) == 1
        with sqlite3.connect(server.db) as db:
            assert db.execute("SELECT COUNT(*) FROM tickets WHERE code = ? AND day = ?",
                              (t["code"], t["day"])).fetchone()[0] == 1
    finally:
        kiosk.close()
        supervisors.close()


def test_hanging_printer_fails_within_its_timeout(server, hanging_printer):
    kiosk = server.socket({"room": "kiosk:kiosk-4", "token": "test-kiosk-token-4"})
    try:
        sent = time.monotonic()
        t = issue(server, KIOSK4)  # returns once its slip has failed
        took = time.monotonic() - sent
        _, ev, _ = kiosk.wait_for(printed(t["id"], "failed"))
        assert ev["reason"] == "timeout" and ev["attempts"] == 1
        assert 1.4 <= took < 1.5 + 1.5, f"took {took:.2f}s for a 1.5 s timeout"
        assert server.get(f"/api/v1/tickets/{t['id']}").json()["status"] == "waiting"
    finally:
        kiosk.close()


def test_reprint_rules(server, sup):
    t = issue(server, KIOSK1)
    # a kiosk without a printer: no print job, and no reprint
    bare = issue(server, KIOSK5)
    assert bare["print_job"] is None
    r = server.post(f"/api/v1/tickets/{bare['id']}/reprint", None, KIOSK5)
    assert r.status_code == 409 and r.json()["error"] == "no_printer"
    # staff may reprint on the issuing kiosk's printer; bad bodies are named
    r = server.post(f"/api/v1/tickets/{t['id']}/reprint", {"lang": "fr"}, sup)
    assert r.status_code == 400 and "lang" in r.json()["message"]
    assert server.post(f"/api/v1/tickets/999999/reprint", None, sup).status_code == 404
    for _ in range(3):
        assert server.post(f"/api/v1/tickets/{t['id']}/reprint", None, sup).status_code == 202
    r = server.post(f"/api/v1/tickets/{t['id']}/reprint", None, sup)
    assert r.status_code == 409 and r.json()["error"] == "reprint_not_allowed"
    # a cancelled ticket is not reprinted
    t2 = issue(server, KIOSK1)
    assert server.post(f"/api/v1/tickets/{t2['id']}/cancel", None, sup).status_code == 200
    r = server.post(f"/api/v1/tickets/{t2['id']}/reprint", None, KIOSK1)
    assert r.status_code == 409 and r.json()["error"] == "reprint_not_allowed"
    jobs = server.get("/api/v1/print-jobs?state=printed", sup).json()["jobs"]
    assert all(j["state"] == "printed" for j in jobs) and jobs
    assert server.get("/api/v1/print-jobs?state=lost", sup).status_code == 400
    assert server.get("/api/v1/print-jobs", KIOSK1).status_code == 403


def test_printer_room_needs_an_agent_or_the_kiosk(server):
    for auth in ({"room": "printer:kiosk-3"}, {"room": "printer:kiosk-3", "token": "test-kiosk-token-1"},
                 {"room": "printer:kiosk-3", "token": "test-led-agent-token"}, {"room": "printer:nope", "token": "test-agent-token-1"},
                 {"room": "printer:kiosk-5", "token": "test-agent-token-1"}):
        client = server.socket(auth)
        assert not client.connected and client.refusal, auth
    # the kiosk's own token may drive its printer; results come only from that kiosk's printer room
    t = issue(server, KIOSK1)
    own = server.socket({"room": "printer:kiosk-3", "token": "test-kiosk-token-3"})
    other = server.socket({"room": "kiosk:kiosk-1", "token": "test-kiosk-token-1"})
    try:
        job = t["print_job"]["id"]
        for sender in (own, other):
            ack = sender.call("print.result", {"job_id": job, "state": "failed"}, timeout=5)
            assert ack["ok"] is False and ack["error"] == "forbidden", ack
        ack = own.call("print.result", {"job_id": "x", "state": "printed"})
        assert ack["ok"] is False and ack["error"] == "bad_request" and "job_id" in ack["message"]
        ack = own.call("print.result", {"job_id": job, "state": "lost"})
        assert ack["ok"] is False and ack["error"] == "bad_request"
        ack = own.call("print.result", {"job_id": 10**9, "state": "printed"})
        assert ack["ok"] is False and ack["error"] == "print_job_unknown"
    finally:
        own.close()
        other.close()


def start_agent(server_url: str, tmp: Path, *extra: str) -> subprocess.Popen:
    log = open(tmp / "agent.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "ticket_printer", "--server", server_url, "--kiosk", "kiosk-3",
                             "--token", "test-agent-token-1", "--state-file", str(tmp / "agent-state.json"),
                             "--max-backoff", "1", *extra], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def stop_agent(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_agent_online(server, sup, timeout=15.0, state="online"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        devices = {(d["kind"], d["device_id"]): d for d in server.get("/api/v1/devices", sup).json()["devices"]}
        if devices.get(("agent", "agent-1"), {}).get("state") == state:
            return
        time.sleep(0.1)
    raise AssertionError(f"the printer agent is not {state}")


@pytest.fixture
def agent_server(tmp_path, hanging_printer):
    """A real server: the printer agent is a second process talking to it."""
    srv = start_server(tmp_path, hanging_printer.port, "eventlet")
    yield srv
    srv.stop()


def test_printer_agent_prints_acks_and_gets_missed_jobs_on_reconnect(agent_server):
    server = agent_server
    sup = server.login("super", "test-super")
    kiosk = server.socket({"room": "kiosk:kiosk-3", "token": "test-kiosk-token-3"})
    agent = start_agent(server.url, server.tmp)
    try:
        wait_agent_online(server, sup)
        t = issue(server, KIOSK3)
        assert t["print_job"]["via_agent"] is True
        _, ev, _ = kiosk.wait_for(printed(t["id"]), 15)
        states = [d["state"] for d in kiosk.of("print.status") if d["ticket_id"] == t["id"]]
        assert states == ["queued", "printing", "printed"], states
        png = server.tmp / "agent-prints" / f"job{ev['job_id']:06d}_{t['code']}.png"
        assert Image.open(png).width == 576

        # the agent goes away: the job waits (agent_offline) and is delivered when it comes back
        stop_agent(agent)
        wait_agent_online(server, sup, 5, state="offline")
        assert "no printer agent" in wait_device(server, sup, "printer-agent", "offline", 4)["detail"]
        t2 = issue(server, KIOSK3)
        kiosk.wait_for(lambda e, d: e == "print.status" and d["ticket_id"] == t2["id"] and d["reason"] == "agent_offline")
        agent = start_agent(server.url, server.tmp)
        kiosk.wait_for(printed(t2["id"]), AGENT_TIMEOUT + 5)
        wait_device(server, sup, "printer-agent", "online", 4)
        jobs = server.get(f"/api/v1/tickets/{t2['id']}/print-jobs", KIOSK3).json()["jobs"]
        assert [j["state"] for j in jobs] == ["printed"]
        # each job printed exactly once
        files = sorted(p.name for p in (server.tmp / "agent-prints").glob("*.png"))
        assert files == sorted({f"job{ev['job_id']:06d}_{t['code']}.png", f"job{jobs[0]['id']:06d}_{t2['code']}.png"})

        # no agent within agent_timeout_seconds: the kiosk is told the slip failed; the ticket stands
        stop_agent(agent)
        wait_agent_online(server, sup, 5, state="offline")
        sent = time.monotonic()
        t3 = issue(server, KIOSK3)
        _, ev3, at = kiosk.wait_for(printed(t3["id"], "failed"), AGENT_TIMEOUT + 5)
        assert ev3["reason"] == "agent_offline" and AGENT_TIMEOUT - 0.5 <= at - sent < AGENT_TIMEOUT + 2
        assert server.get(f"/api/v1/tickets/{t3['id']}").json()["status"] == "waiting"
    finally:
        stop_agent(agent)
        kiosk.close()


def test_agent_started_before_the_server_connects_with_backoff(tmp_path, hanging_printer):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    agent = start_agent(url, tmp_path)
    srv = None
    try:
        log_path = tmp_path / "agent.log"
        deadline = time.monotonic() + 10
        while (not log_path.exists() or log_path.read_text().count("cannot connect") < 2) and time.monotonic() < deadline:
            time.sleep(0.05)  # the agent retries against a closed port meanwhile
        assert agent.poll() is None, "the agent keeps trying"
        srv = start_server(tmp_path, hanging_printer.port, "eventlet", port=port)
        sup = srv.login("super", "test-super")
        wait_agent_online(srv, sup, 10)
        t = issue(srv, KIOSK3)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            jobs = srv.get(f"/api/v1/tickets/{t['id']}/print-jobs", KIOSK3).json()["jobs"]
            if jobs and jobs[0]["state"] == "printed":
                break
            time.sleep(0.2)
        assert jobs[0]["state"] == "printed", jobs
        log = (tmp_path / "agent.log").read_text()
        assert log.count("cannot connect") >= 2, "it retried while the server was down"
    finally:
        stop_agent(agent)
        if srv:
            srv.stop()


def test_gevent_server_prints_too(tmp_path, hanging_printer):
    srv = start_server(tmp_path, hanging_printer.port, "gevent")
    try:
        ok = srv.socket({"room": "kiosk:kiosk-1", "token": "test-kiosk-token-1"})
        bad = srv.socket({"room": "kiosk:kiosk-2", "token": "test-kiosk-token-2"})
        t = issue(srv, KIOSK1)
        ev = ok.wait_for(printed(t["id"]))[1]
        assert (tmp_path / "prints" / f"job{ev['job_id']:06d}_{t['code']}.png").exists()
        t2 = issue(srv, KIOSK2)
        assert bad.wait_for(printed(t2["id"], "failed"))[1]["reason"] == "offline"
        assert tickets_with_id(srv, t2["id"]) == 1
    finally:
        srv.stop()  # first: a client's disconnect from a gevent server waits seconds for the close handshake
    ok.close()
    bad.close()
