"""The push-button dispenser: the pure decoder by tables, then the serial reader over real pty pairs (raw mode,
opened with pyserial) issuing tickets on a real server process as its kiosk, and `qms dispenser` as a process."""
from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import yaml

from queue_server.config import ConfigError, parse_config
from server_util import FIXTURES, KIOSK, ROOT, ServerProcess, server_config
from ticket_printer.agent.dispenser import (BadFrame, ButtonDecoder, Debouncer, DispenserReader, IssueError, Press,
                                            RestIssuer, State, reply_line, status_reporter)

BUTTONS = {"1": "cccd", "2": "civil", "3": "records", "A": "land"}


# ------------------------------------------------------------------ the decoder, by tables
@pytest.mark.parametrize("chunks, expected", [
    ([b"1\r\n"], [Press("1")]),
    ([b"1\n2\n"], [Press("1"), Press("2")]),
    ([b"1\r"], [Press("1")]),
    ([b"B2\r\n"], [Press("2")]),
    ([b"btn01\r\n"], [Press("1")]),
    ([b"BTN3\n"], [Press("3")]),
    ([b"a\n"], [Press("A")]),
    ([b" 2 \r\n"], [Press("2")]),
    ([b"B", b"2", b"\r", b"\n"], [Press("2")]),           # split across reads
    ([b"\r\n\r\n"], []),                                  # empty lines are nothing
    ([b"9\r\n"], [BadFrame("unknown button '9'", b"9")]),
    ([b"BX\r\n"], [BadFrame("unknown button 'BX'", b"BX")]),
    ([b"\xff\xfe\r\n"], [BadFrame("not ASCII", b"\xff\xfe")]),
    ([b"1\x07\r\n"], [BadFrame("control characters in the line", b"1\x07")]),
    ([b"x" * 33 + b"\r\n2\n"], [BadFrame("line longer than 32 bytes", b"x" * 33), Press("2")]),
    ([b"x" * 40, b"yyy\n1\n"], [BadFrame("line longer than 32 bytes", b"x" * 33), Press("1")]),
])
def test_line_decoder(chunks, expected):
    d = ButtonDecoder("line", BUTTONS)
    got = []
    for c in chunks:
        got += d.feed(c)
    assert got == expected


@pytest.mark.parametrize("data, expected", [
    (b"1", [Press("1")]),
    (b"\x01\x02", [Press("1"), Press("2")]),
    (b"12\r\n", [Press("1"), Press("2")]),
    (b"a", [Press("A")]),
    (b"\x09", [BadFrame("unknown button '9'", b"\x09")]),
    (b"\xff", [BadFrame("unknown button '255'", b"\xff")]),
])
def test_byte_decoder(data, expected):
    assert ButtonDecoder("byte", BUTTONS).feed(data) == expected


def test_decoder_rejects_an_unknown_protocol():
    with pytest.raises(ValueError):
        ButtonDecoder("morse", BUTTONS)


@pytest.mark.parametrize("presses, accepted", [
    ([("1", 0), ("1", 500), ("1", 999), ("1", 1000)], [True, False, False, True]),
    ([("1", 0), ("2", 10), ("1", 20), ("2", 1500)], [True, True, False, True]),
])
def test_debouncer(presses, accepted):
    d = Debouncer(1000)
    assert [d.accept(b, t) for b, t in presses] == accepted


@pytest.mark.parametrize("attempt, cap, seconds", [(0, 30, 0.5), (1, 30, 1), (3, 30, 4), (10, 30, 30), (2, 1.5, 1.5)])
def test_backoff(attempt, cap, seconds):
    reader = DispenserReader(dispenser_cfg("fake://silent"), None, backoff_max=cap)  # the reader's own back-off
    assert [reader.backoff.next_delay() for _ in range(attempt + 1)][-1] == seconds


@pytest.mark.parametrize("ok, text, line", [
    (True, "A001", b"OK A001\r\n"), (False, "service_full", b"ERR service_full\r\n"),
    (False, "Đã hết số", b"ERR hts\r\n"), (True, "", b"OK error\r\n"),
])
def test_reply_line(ok, text, line):
    assert reply_line(ok, text) == line


# ------------------------------------------------------------------ config
def centre_with(dispensers: list[dict]) -> str:
    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))
    data["devices"]["dispensers"] = dispensers
    data["devices"]["agents"] = [{"id": "agent-1", "token": "test-agent-token-1"}]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize("dispenser, where, message", [
    ({"id": "d1", "port": "/dev/ttyUSB0", "kiosk": "kiosk-9", "buttons": {"1": "cccd"}}, "devices.dispensers[0].kiosk",
     "unknown kiosk 'kiosk-9'"),
    ({"id": "d1", "port": "/dev/ttyUSB0", "kiosk": "kiosk-1", "buttons": {"1": "cccd", "2": "nope"}},
     "devices.dispensers[0].buttons.2", "unknown service 'nope'"),
    ({"id": "d1", "port": "/dev/ttyUSB0", "kiosk": "kiosk-1", "buttons": {"1": "cccd"}, "agent": "agent-9"},
     "devices.dispensers[0].agent", "unknown agent 'agent-9'"),
    ({"id": "d1", "port": "/dev/ttyUSB0", "kiosk": "kiosk-1", "buttons": {}}, "devices.dispensers[0].buttons", ""),
    ({"id": "d1", "port": "/dev/ttyUSB0", "kiosk": "kiosk-1", "buttons": {"nút 1": "cccd"}}, "devices.dispensers[0].buttons",
     "use 1-8 letters or digits"),
    ({"id": "d1", "port": "/dev/ttyUSB0", "kiosk": "kiosk-1", "buttons": {"1": "cccd"}, "protocol": "morse"},
     "devices.dispensers[0].protocol", ""),
])
def test_config_errors_name_the_key(dispenser, where, message):
    with pytest.raises(ConfigError) as e:
        parse_config(centre_with([dispenser]), "centre.yaml")
    assert any(path == where and message in msg for path, _line, msg in e.value.problems), e.value.problems


def test_config_numeric_button_keys_become_text():
    cfg = parse_config(centre_with([{"id": "d1", "port": "/dev/ttyUSB0", "kiosk": "kiosk-1", "buttons": {1: "cccd"}}]))
    assert cfg.devices.dispensers[0].buttons == {"1": "cccd"}


# ------------------------------------------------------------------ over a real pty, against a real server
def pty_pair() -> tuple[int, int, str]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


def read_line(fd: int, timeout: float = 5.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(b"\r\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no reply line in {timeout}s (got {buf!r})")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            buf += os.read(fd, 64)
    return buf


def nothing_to_read(fd: int, wait: float = 0.6) -> bool:
    ready, _, _ = select.select([fd], [], [], wait)
    return not ready


def dispenser_cfg(port: str, **kw):
    base = {"id": "disp-1", "port": port, "baudrate": 9600, "kiosk": "kiosk-1", "protocol": "line",
            "buttons": dict(BUTTONS), "debounce_ms": 800, "reply": True, "agent": None}
    base.update(kw)
    return SimpleNamespace(**base)


class Running:
    """A DispenserReader in a thread."""

    def __init__(self, reader: DispenserReader):
        self.reader = reader
        self.thread = threading.Thread(target=reader.run, daemon=True)
        self.thread.start()

    def wait_state(self, state: State, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.reader.state != state:
            if time.monotonic() > deadline:
                raise AssertionError(f"state {self.reader.state} after {timeout}s, wanted {state}")
            time.sleep(0.02)

    def stop(self) -> None:
        self.reader.stop()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dispenser")
    cfg = server_config(tmp)
    data = yaml.safe_load(cfg.read_text(encoding="utf-8"))  # disp-1 reports its state with agent-1's token
    data["devices"]["dispensers"] = [{"id": "disp-1", "port": "/dev/null", "kiosk": "kiosk-1", "buttons": dict(BUTTONS),
                                      "agent": "agent-1"}]
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = ServerProcess(cfg, tmp / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


def issued_actor(server, code: str) -> str:
    with sqlite3.connect(server.db) as db:
        row = db.execute("SELECT e.actor FROM events e JOIN tickets t ON t.id = e.ticket_id "
                         "WHERE e.type = 'ticket.issued' AND t.code = ? ORDER BY e.id DESC", (code,)).fetchone()
    return row[0]


class Monotonic:
    """The reader's monotonic clock, moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_presses_issue_tickets_as_the_kiosk(server):
    master, slave, path = pty_pair()
    sup = server.login("super", "test-super")
    states: list[tuple[State, str]] = []
    report = status_reporter(server.url, "test-agent-token-1", "disp-1")
    clock = Monotonic()  # the debounce is measured on it: the test moves it instead of sleeping
    reader = DispenserReader(dispenser_cfg(path), RestIssuer(server.url, "test-kiosk-token-1"),
                             on_state=lambda s, d: (states.append((s, d)), report(s, d)), clock=clock)
    run = Running(reader)
    try:
        run.wait_state(State.ONLINE)
        before = requests.get(server.url + "/api/v1/services", timeout=10).json()["services"]
        waiting = {s["id"]: s["waiting"] for s in before}

        # A press with contact bounce: one ticket, the repeats within debounce_ms issue nothing and get no reply.
        os.write(master, b"1\r\n1\r\nBTN01\r\n")
        line = read_line(master)
        assert line.startswith(b"OK ")
        code = line[3:-2].decode()
        # Wait until all three presses are handled (counted, not timed), then nothing may be waiting to be read:
        # a repeat taken for a press would have issued and replied by then. B2 below is the later sentinel.
        deadline = time.monotonic() + 10
        while reader.stats.repeats + reader.stats.issued + reader.stats.refused < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reader.stats.repeats == 2 and reader.stats.issued == 1
        assert nothing_to_read(master, 0)
        assert issued_actor(server, code) == "kiosk:kiosk-1", "issued with the kiosk's token (its printer prints it)"
        os.write(master, b"B2\n")
        civil = read_line(master)
        assert civil.startswith(b"OK A")
        clock.now += 0.85  # later than debounce_ms (800): a new press
        os.write(master, b"1\r\n")
        second = read_line(master)
        assert second.startswith(b"OK ") and int(second[3:-2]) == int(code) + 1

        after = {s["id"]: s["waiting"] for s in requests.get(server.url + "/api/v1/services", timeout=10).json()["services"]}
        assert after["cccd"] == waiting["cccd"] + 2 and after["civil"] == waiting["civil"] + 1

        # Bad frames: counted, answered, nothing issued.
        for frame, answer in ((b"9\r\n", b"ERR unknown_button\r\n"), (b"\xff\xfe\r\n", b"ERR bad_frame\r\n"),
                              (b"x" * 40 + b"\r\n", b"ERR bad_frame\r\n")):
            os.write(master, frame)
            assert read_line(master) == answer
        assert reader.stats.bad_frames == 3

        # Refusals from the queue rules come back as the error code.
        for _ in range(4):
            requests.post(server.url + "/api/v1/tickets", json={"service": "records"}, headers=KIOSK, timeout=10)
        os.write(master, b"3\r\n")
        assert read_line(master) == b"ERR service_full\r\n"
        assert server.post("/api/v1/services/land", {"state": "closed"}, sup).status_code == 200
        os.write(master, b"A\r\n")
        assert read_line(master) == b"ERR service_closed\r\n"
        server.post("/api/v1/services/land", {"state": "auto"}, sup)
        assert reader.stats.refused == 2 and reader.stats.issued == 3
        final = {s["id"]: s["waiting"] for s in requests.get(server.url + "/api/v1/services", timeout=10).json()["services"]}
        assert final["cccd"] == after["cccd"] and final["land"] == waiting["land"]

        # The supervisors see the dispenser (reported with the agent's token).
        devices = requests.get(server.url + "/api/v1/devices", headers=sup, timeout=10).json()["devices"]
        mine = next(d for d in devices if d["kind"] == "dispenser" and d["device_id"] == "disp-1")
        assert mine["state"] == "online"
    finally:
        run.stop()
        os.close(master)
        os.close(slave)
    assert [s for s, _ in states] == [State.CONNECTING, State.ONLINE, State.STOPPED]


def test_byte_protocol_without_replies(server):
    master, slave, path = pty_pair()
    reader = DispenserReader(dispenser_cfg(path, protocol="byte", reply=False, debounce_ms=0),
                             RestIssuer(server.url, "test-kiosk-token-1"))
    run = Running(reader)
    try:
        run.wait_state(State.ONLINE)
        os.write(master, b"\x01" + b"2")
        deadline = time.monotonic() + 5
        while reader.stats.issued < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reader.stats.issued == 2 and reader.stats.last_codes[-1].startswith("A")
        assert nothing_to_read(master, 0.3), "reply: false sends nothing back"
    finally:
        run.stop()
        os.close(master)
        os.close(slave)


def test_reconnects_with_backoff_when_the_port_comes_and_goes(server, tmp_path):
    link = tmp_path / "ttyDISP"
    reader = DispenserReader(dispenser_cfg(str(link)), RestIssuer(server.url, "test-kiosk-token-1"), backoff_max=0.4)
    run = Running(reader)
    ptys = []
    try:
        run.wait_state(State.ERROR)  # no such port yet: retried with a capped backoff
        assert str(link) in reader.stats.last_error
        master, slave, path = pty_pair()
        ptys += [master, slave]
        link.symlink_to(path)
        run.wait_state(State.ONLINE)
        os.write(master, b"1\r\n")
        assert read_line(master).startswith(b"OK ")
        # The box is unplugged: reading fails, the reader closes the port and tries again.
        os.close(master)
        os.close(slave)
        ptys.clear()
        run.wait_state(State.ERROR)
        master, slave, path = pty_pair()
        ptys += [master, slave]
        link.unlink()
        link.symlink_to(path)
        run.wait_state(State.ONLINE, timeout=6)
        assert reader.stats.reconnects >= 1
        os.write(master, b"2\r\n")
        assert read_line(master).startswith(b"OK A")
    finally:
        run.stop()
        for fd in ptys:
            os.close(fd)


def test_rest_issuer_errors(server):
    with pytest.raises(IssueError) as e:
        RestIssuer(server.url, "not-a-token").issue("cccd")
    assert e.value.code == "unauthenticated"
    with pytest.raises(IssueError) as e:
        RestIssuer(server.url, "test-kiosk-token-1").issue("nope")
    assert e.value.code == "service_unknown"
    with pytest.raises(IssueError) as e:
        RestIssuer("http://127.0.0.1:9", "test-kiosk-token-1", timeout=1).issue("cccd")
    assert e.value.code == "server_unreachable"


def test_qms_dispenser_process(server, tmp_path):
    master, slave, path = pty_pair()
    data = yaml.safe_load(Path(server.config).read_text(encoding="utf-8"))
    data["devices"]["dispensers"] = [{"id": "disp-1", "port": path, "kiosk": "kiosk-1", "buttons": {"1": "cccd"},
                                      "agent": "agent-1"}]
    cfg = tmp_path / "dispenser.yaml"
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "queue_server.cli", "dispenser", "nope", "--config", str(cfg)],
                       capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert r.returncode == 2 and "no dispenser 'nope'" in r.stderr
    proc = subprocess.Popen([sys.executable, "-m", "queue_server.cli", "dispenser", "disp-1", "--config", str(cfg),
                             "--server", server.url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, text=True)
    try:
        first = proc.stdout.readline()
        assert "dispenser disp-1: port" in first and "kiosk kiosk-1" in first and "1=cccd" in first
        deadline = time.monotonic() + 10
        reply = b""
        while not reply and time.monotonic() < deadline:
            os.write(master, b"1\r\n")  # written before the port is open it is lost: press again
            try:
                reply = read_line(master, 1.0)
            except AssertionError:
                pass
        assert reply.startswith(b"OK ")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        os.close(master)
        os.close(slave)
    assert proc.returncode == 0
    assert "dispenser disp-1 stopped: 1 tickets" in out
