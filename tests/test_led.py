"""RS485 LED boards over Modbus RTU, on real serial ports: pty pairs in raw mode opened with pyserial, and a
TCP line (an RS485-to-Ethernet converter, socket://). On the far end a fake bus of boards decodes every frame
with its own CRC code, checks it, records the register writes and answers like a Modbus slave."""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import pytest
import requests
import serial
import yaml

from displays.agent.driver import LedDriver
from displays.shared.led_values import BLANK, BREAK, Shown
from queue_server.config import ConfigError, LedBoard, parse_config
from server_util import AGENT, FIXTURES, KIOSK, ROOT, ServerProcess, server_config

# ------------------------------------------------------------------ the far end: boards on a line


def _table():
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        out.append(c)
    return out


CRC_TABLE = _table()


def crc(data: bytes) -> bytes:
    """CRC-16/MODBUS, table-driven (written apart from displays/modbus.py on purpose)."""
    c = 0xFFFF
    for b in data:
        c = (c >> 8) ^ CRC_TABLE[(c ^ b) & 0xFF]
    return bytes([c & 0xFF, c >> 8])


class FakeBus:
    """Boards at some unit ids on one line. mode per unit: ok | silent | bad_crc | exception."""

    def __init__(self, units):
        self.mode = {u: "ok" for u in units}
        self.registers: dict[tuple[int, int], int] = {}
        self.writes: list[tuple[int, int, int, tuple[int, ...], float]] = []
        self.bad_frames = 0
        self.cond = threading.Condition()
        self.buf = b""

    def feed(self, data: bytes) -> bytes:
        """Bytes from the line in, answers out."""
        self.buf += data
        out = b""
        while len(self.buf) >= 8:
            fn = self.buf[1]
            if fn == 6:
                n = 8
            elif fn == 16:
                n = 9 + self.buf[6]
            else:
                self._bad()
                break
            if len(self.buf) < n:
                break
            frame, self.buf = self.buf[:n], self.buf[n:]
            out += self.handle(frame)
        return out

    def _bad(self):
        with self.cond:
            self.bad_frames += 1
            self.buf = b""
            self.cond.notify_all()

    def handle(self, frame: bytes) -> bytes:
        if crc(frame[:-2]) != frame[-2:]:
            self._bad()
            return b""
        unit, fn, addr = frame[0], frame[1], int.from_bytes(frame[2:4], "big")
        if unit not in self.mode:
            return b""  # another board's frame: not ours to answer
        if fn == 6:
            values = (int.from_bytes(frame[4:6], "big"),)
        else:
            count = int.from_bytes(frame[4:6], "big")
            assert frame[6] == 2 * count, "byte count must be twice the register count"
            values = tuple(int.from_bytes(frame[7 + 2 * i:9 + 2 * i], "big") for i in range(count))
        mode = self.mode[unit]
        with self.cond:
            if mode in ("ok", "silent"):
                for i, v in enumerate(values):
                    self.registers[(unit, addr + i)] = v
            self.writes.append((unit, fn, addr, values, time.monotonic()))
            self.cond.notify_all()
        if mode == "silent":
            return b""
        if mode == "exception":
            body = bytes([unit, fn | 0x80, 2])
            return body + crc(body)
        answer = frame if fn == 6 else frame[:6] + crc(frame[:6])
        if mode == "bad_crc":
            answer = answer[:-1] + bytes([answer[-1] ^ 0xFF])
        return answer

    def wait(self, pred, timeout=5.0, what="condition"):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; registers {self.registers}, "
                                         f"writes {[w[:4] for w in self.writes[-6:]]}, bad frames {self.bad_frames}")
                self.cond.wait(min(left, 0.1))

    def value(self, unit, reg=0, count=1):
        with self.cond:
            return [self.registers.get((unit, reg + i)) for i in range(count)]

    def wait_value(self, unit, values, reg=0, timeout=5.0):
        self.wait(lambda: [self.registers.get((unit, reg + i)) for i in range(len(values))] == values, timeout,
                  f"unit {unit} register {reg} = {values}")


class PtyLine:
    """A pty pair in raw mode; the boards sit on the master side, the driver opens the slave by a fixed link
    (like /dev/serial/by-id/...), so unplugging and replugging can give a new pty behind the same name."""

    def __init__(self, bus: FakeBus, link: Path):
        self.bus, self.link = bus, link
        self.plug()

    def plug(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        tmp = self.link.with_suffix(".new")
        os.symlink(os.ttyname(self.slave), tmp)
        os.replace(tmp, self.link)
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            ready, _, _ = select.select([self.master, self.stop_r], [], [])
            if self.stop_r in ready:
                return
            try:
                data = os.read(self.master, 512)
            except OSError:
                return
            answer = self.bus.feed(data)
            if answer:
                os.write(self.master, answer)

    def unplug(self):
        os.write(self.stop_w, b"x")
        self.thread.join(2)
        self.link.unlink()
        for fd in (self.master, self.slave, self.stop_r, self.stop_w):
            os.close(fd)

    close = unplug


class TcpLine:
    """An RS485-to-Ethernet converter on 127.0.0.1: the driver opens socket://127.0.0.1:<port>."""

    def __init__(self, bus: FakeBus):
        self.bus = bus
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.url = f"socket://127.0.0.1:{self.server.getsockname()[1]}"
        self.stopping = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                while True:
                    try:
                        data = conn.recv(512)
                    except OSError:
                        break
                    if not data:
                        break
                    answer = self.bus.feed(data)
                    if answer:
                        conn.sendall(answer)

    def close(self):
        self.stopping = True
        self.server.close()


def board(id, port, unit, **kw):
    return LedBoard(id=id, counter=kw.pop("counter", "1"), port=str(port), unit_id=unit,
                    **{"timeout_seconds": 0.2, "retries": 1, **kw})


class States:
    def __init__(self):
        self.seen: list[tuple[str, str, str, float]] = []
        self.cond = threading.Condition()

    def __call__(self, board_id, state, detail):
        with self.cond:
            self.seen.append((board_id, state, detail, time.monotonic()))
            self.cond.notify_all()

    def last(self, board_id):
        with self.cond:
            return next((s for s in reversed(self.seen) if s[0] == board_id), (None, None, None, None))[1]

    def wait(self, board_id, state, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.last(board_id) != state:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{board_id} never became {state}: {[s[:3] for s in self.seen]}")
                self.cond.wait(left)


@pytest.fixture
def line(tmp_path):
    made = []

    def make(units, name="ttyRS485"):
        bus = FakeBus(units)
        made.append(PtyLine(bus, tmp_path / name))
        return bus, made[-1]

    yield make
    for m in made:
        try:
            m.close()
        except (OSError, FileNotFoundError):
            pass


@pytest.fixture
def drivers():
    made = []

    def make(boards, **timeouts):
        states = States()
        d = LedDriver(boards, timeouts={"serial_reconnect_max_seconds": 1, **timeouts}, on_state=states)
        made.append(d)
        return d.start(), states

    yield make
    for d in made:
        d.stop()


# ------------------------------------------------------------------ driver cases
def test_several_boards_on_one_bus(line, drivers):
    bus, pty = line({1, 2, 3})
    boards = [board("led-1", pty.link, 1, counter="1"), board("led-2", pty.link, 2, counter="2"),
              board("led-3", pty.link, 3, counter="3", encoding="ascii", registers=2, holding_register=10)]
    d, states = drivers(boards)
    for b in ("led-1", "led-2", "led-3"):
        states.wait(b, "connected")
    bus.wait_value(1, [0xFFFF])  # nothing called yet: blank
    d.show_counter("1", Shown("code", "1005"))
    d.show_counter("2", Shown("code", "2001"))
    d.show_counter("3", Shown("code", "A012"))
    bus.wait_value(1, [1005])
    bus.wait_value(2, [2001])
    bus.wait_value(3, [0x4130, 0x3132], reg=10)
    d.show("led-2", BREAK)
    bus.wait_value(2, [0xFFFF])
    d.show("led-3", BREAK)
    bus.wait_value(3, [0x2D2D, 0x2D2D], reg=10)
    assert bus.bad_frames == 0, "frames from one bus never interleave"
    assert {w[1] for w in bus.writes if w[0] == 3} == {16} and {w[1] for w in bus.writes if w[0] in (1, 2)} == {6}
    st = d.states()
    assert all(s["state"] == "connected" and s["counts"]["timeouts"] == 0 for s in st.values())
    assert st["led-1"]["shown"] == "1005"
    assert len(d.buses) == 1, "boards on one port share one bus"


def test_unplug_and_replug_reconnects_with_capped_backoff(line, tmp_path):
    bus, pty = line({1})
    attempts = []

    def opener(*a, **kw):
        attempts.append(time.monotonic())
        return serial.serial_for_url(*a, **kw)

    states = States()
    d = LedDriver([board("led-1", pty.link, 1)], timeouts={"serial_reconnect_max_seconds": 1},
                  on_state=states, open_port=opener).start()
    try:
        d.show("led-1", Shown("code", "1001"))
        bus.wait_value(1, [1001])
        states.wait("led-1", "connected")
        pty.unplug()
        unplugged = time.monotonic()
        d.show("led-1", Shown("code", "1002"))  # the next write finds the port gone
        states.wait("led-1", "disconnected", 3)
        failed = lambda: [t for t in attempts if t > unplugged]  # noqa: E731
        deadline = time.monotonic() + 10
        while len(failed()) < 3:  # keeps trying to reopen: wait for three tries, however long they take
            assert time.monotonic() < deadline, f"keeps trying to reopen: {failed()}"
            time.sleep(0.05)
        port_backoff = d.buses[str(pty.link)].backoff
        pauses = list(port_backoff.recent)
        assert pauses[:3] == [0.5, 1, 1], f"backoff 0.5, 1, 1 ... (cap 1): {pauses}"
        tries = failed()
        gaps = [b - a for a, b in zip(tries, tries[1:])]
        # each try waits at least its pause: the pause after the loss, then 1 s (the cap) before each next try
        assert tries[0] - unplugged >= 0.5 and all(g >= p for g, p in zip(gaps, pauses[1:])), (gaps, pauses)
        pty.plug()  # a new pty behind the same name, as when the USB adapter comes back
        bus.wait_value(1, [1002], timeout=3)
        states.wait("led-1", "connected")
        assert d.states()["led-1"]["counts"]["port_errors"] >= 1
        seq = [s[1] for s in states.seen]
        assert seq[:1] == ["connected"] and "disconnected" in seq and seq[-1] == "connected"
    finally:
        d.stop()


def test_a_board_that_does_not_answer_counts_timeouts_and_does_not_stop_the_bus(line, drivers):
    bus, pty = line({1, 5})
    bus.mode[5] = "silent"
    d, states = drivers([board("led-1", pty.link, 1, counter="1"), board("led-5", pty.link, 5, counter="5")])
    states.wait("led-5", "error", 5)
    d.show_counter("1", Shown("code", "1003"))
    bus.wait_value(1, [1003])
    st = d.states()
    assert st["led-5"]["state"] == "error" and "no answer from unit 5" in st["led-5"]["detail"]
    assert st["led-5"]["counts"]["timeouts"] >= 2, "each try (1 + retries) that times out is counted"
    assert st["led-1"]["state"] == "connected"
    bus.mode[5] = "ok"  # the board comes back (power restored): retried after its backoff
    d.show_counter("5", Shown("code", "5001"))
    bus.wait_value(5, [5001], timeout=4)
    states.wait("led-5", "connected")


@pytest.mark.parametrize("mode, count, detail", [("bad_crc", "bad_answers", "bad CRC"),
                                                 ("exception", "exceptions", "illegal data address")])
def test_bad_answers_are_counted_and_reported(line, drivers, mode, count, detail):
    bus, pty = line({1})
    bus.mode[1] = mode
    d, states = drivers([board("led-1", pty.link, 1)])
    states.wait("led-1", "error", 5)
    st = d.states()["led-1"]
    assert st["counts"][count] >= 2 and detail in st["detail"]
    assert st["counts"]["confirmed"] == 0


def test_boards_are_written_again_on_refresh(line, drivers):
    bus, pty = line({1})
    d, states = drivers([board("led-1", pty.link, 1)], led_refresh_seconds=0.3)
    d.show("led-1", Shown("code", "1009"))
    bus.wait_value(1, [1009])
    bus.wait(lambda: sum(1 for w in bus.writes if w[3] == (1009,)) >= 3, 3, "three writes of 1009")


def test_write_only_boards(line, drivers):
    bus, pty = line({1})
    bus.mode[1] = "silent"
    d, states = drivers([board("led-1", pty.link, 1, expect_reply=False)])
    d.show("led-1", Shown("code", "1234"))
    bus.wait_value(1, [1234])
    states.wait("led-1", "connected")
    assert d.states()["led-1"]["counts"]["timeouts"] == 0


def test_a_code_that_does_not_fit_shows_blank(line, drivers):
    bus, pty = line({1})
    d, states = drivers([board("led-1", pty.link, 1, encoding="bcd")])
    d.show("led-1", Shown("code", "1005"))
    bus.wait_value(1, [0x1005])
    d.show("led-1", Shown("code", "123456"))
    bus.wait_value(1, [0xFFFF])
    assert d.states()["led-1"]["counts"]["unshowable"] >= 1


def test_rs485_to_ethernet_converter(drivers):
    bus = FakeBus({7})
    tcp = TcpLine(bus)
    try:
        d, states = drivers([board("led-7", tcp.url, 7, encoding="number", registers=2)])
        d.show("led-7", Shown("code", "123456"))
        bus.wait_value(7, [1, 57920])
        states.wait("led-7", "connected")
    finally:
        tcp.close()


def test_unknown_port_is_disconnected_not_a_crash(tmp_path, drivers):
    d, states = drivers([board("led-1", tmp_path / "no-such-tty", 1)])
    states.wait("led-1", "disconnected", 3)
    assert "cannot open" in d.states()["led-1"]["detail"]


# ------------------------------------------------------------------ config rules
BASE = (FIXTURES / "centre.yaml").read_text(encoding="utf-8")


def cfg_with(boards, agents=()):
    data = yaml.safe_load(BASE)
    data["devices"]["led_boards"] = boards
    data["devices"]["agents"] = list(agents)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize("boards, agents, where, text", [
    ([{"id": "a", "counter": "1", "port": "/dev/ttyUSB0", "unit_id": 1},
      {"id": "b", "counter": "2", "port": "/dev/ttyUSB0", "unit_id": 2, "baudrate": 19200}], [],
     "devices.led_boards[1].baudrate", "share one bus"),
    ([{"id": "a", "counter": "1", "port": "/dev/ttyUSB0", "unit_id": 1},
      {"id": "b", "counter": "2", "port": "/dev/ttyUSB0", "unit_id": 1}], [],
     "devices.led_boards[1].unit_id", "already used by board 'a'"),
    ([{"id": "a", "counter": "1", "port": "/dev/ttyUSB0", "unit_id": 1},
      {"id": "b", "counter": "2", "port": "/dev/ttyUSB0", "unit_id": 2, "run_in": "server"}], [],
     "devices.led_boards[1].run_in", "share one bus"),
    ([{"id": "a", "counter": "1", "port": "/dev/ttyUSB0", "agent": "agent-printer"}],
     [{"id": "agent-printer", "token": "printer-token-1", "kind": "printer"}],
     "devices.led_boards[0].agent", "of kind led or any"),
    ([{"id": "a", "counter": "1", "port": "/dev/ttyUSB0", "encoding": "number", "registers": 3}], [],
     "devices.led_boards[0]", "1 or 2 registers"),
    ([{"id": "a", "counter": "1", "port": "/dev/ttyUSB0", "encoding": "hex"}], [],
     "devices.led_boards[0].encoding", ""),
    ([{"id": "a", "counter": "1", "port": "/dev/ttyUSB0", "timeout_seconds": 0}], [],
     "devices.led_boards[0].timeout_seconds", ""),
])
def test_bad_board_config_names_the_key(boards, agents, where, text):
    with pytest.raises(ConfigError) as exc:
        parse_config(cfg_with(boards, agents))
    assert any(p[0] == where and text in p[2] for p in exc.value.problems), exc.value.problems


def test_good_board_config():
    cfg = parse_config(cfg_with([
        {"id": "a", "counter": "1", "port": "/dev/ttyUSB0", "unit_id": 1, "agent": "agent-led"},
        {"id": "b", "counter": "2", "port": "/dev/ttyUSB0", "unit_id": 2, "agent": "agent-led",
         "encoding": "ascii", "registers": 3},
        {"id": "c", "counter": "3", "port": "socket://10.0.0.9:4001", "run_in": "server"}],
        [{"id": "agent-led", "token": "led-token-1", "kind": "led"}]))
    assert [b.run_in for b in cfg.devices.led_boards] == ["agent", "agent", "server"]


# ------------------------------------------------------------------ end to end with a real server
def led_server_config(tmp: Path, link: Path, run_in: str) -> Path:
    path = server_config(tmp)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["led_boards"] = [
        {"id": "led-1", "counter": "1", "port": str(link), "unit_id": 1, "run_in": run_in,
         "blank_value": 0xFFFF, "break_value": 0xAAAA, "timeout_seconds": 0.3, "retries": 1},
        {"id": "led-2", "counter": "2", "port": str(link), "unit_id": 2, "run_in": run_in, "encoding": "ascii",
         "registers": 2, "timeout_seconds": 0.3, "retries": 1},
    ]
    data["devices"]["agents"].append({"id": "agent-printer", "token": "test-printer-agent", "kind": "printer"})
    data["devices"]["timeouts"] = {"serial_reconnect_max_seconds": 1, "led_poll_seconds": 0.2}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def exercise_counters(srv, bus: FakeBus):
    """Staff work counters 1 and 2; the boards follow."""
    sup = srv.login("super", "test-super")
    bus.wait_value(1, [0xFFFF], timeout=8)  # closed: blank
    bus.wait_value(2, [0x2020, 0x2020], timeout=8)
    assert srv.post("/api/v1/counters/1/open", headers=sup).status_code == 200
    for _ in range(2):
        assert srv.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).status_code == 201
    sent = time.monotonic()
    assert srv.post("/api/v1/counters/1/next", headers=sup).json()["ticket"]["code"] == "1001"
    bus.wait_value(1, [1001], timeout=3)
    latency = time.monotonic() - sent
    assert srv.post("/api/v1/counters/2/open", headers=sup).status_code == 200
    assert srv.post("/api/v1/counters/2/next", headers=sup).json()["ticket"]["code"] == "1002"
    bus.wait_value(2, [0x3130, 0x3032])  # "1002" in ASCII
    assert srv.post("/api/v1/counters/1/break", headers=sup).status_code == 200
    bus.wait_value(1, [0xAAAA])  # break: the break value ("----" on the board)
    assert srv.post("/api/v1/counters/2/close", headers=sup).status_code == 200
    bus.wait_value(2, [0x2020, 0x2020])  # closed: blank
    assert bus.bad_frames == 0
    deadline = time.monotonic() + 5
    while True:
        devices = {(d["kind"], d["device_id"]): d for d in srv.get("/api/v1/devices", sup).json()["devices"]}
        if devices[("led_board", "led-1")]["state"] == "connected" and devices[("led_board", "led-2")]["state"] == "connected":
            break
        assert time.monotonic() < deadline, devices
        time.sleep(0.2)
    return latency


def test_led_agent_end_to_end(tmp_path):
    bus = FakeBus({1, 2})
    pty = PtyLine(bus, tmp_path / "ttyLED")
    srv = ServerProcess(led_server_config(tmp_path, pty.link, "agent"), tmp_path / "led.sqlite3", "eventlet").start()
    log = open(tmp_path / "agent.log", "wb")
    agent = subprocess.Popen([sys.executable, "-m", "displays.led", "--server", srv.url, "--token",
                              "test-agent-token-1", "--log-level", "DEBUG"], cwd=ROOT, stdout=log,
                             stderr=subprocess.STDOUT)
    try:
        # the route the agent asks: its boards; a printer agent or a kiosk gets none
        assert [b["id"] for b in srv.get("/api/v1/led_boards", AGENT).json()["boards"]] == ["led-1", "led-2"]
        assert srv.get("/api/v1/led_boards", {"Authorization": "Bearer test-printer-agent"}).status_code == 403
        assert srv.get("/api/v1/led_boards", KIOSK).status_code == 403
        assert srv.get("/api/v1/led_boards").status_code == 401
        exercise_counters(srv, bus)
        assert agent.poll() is None, "the agent keeps running"
        # an agent started with a token that is not an LED agent's stops at once with the server's reason
        wrong = subprocess.run([sys.executable, "-m", "displays.led", "--server", srv.url, "--token",
                                "test-kiosk-token-1"], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert wrong.returncode == 2 and "refused the agent (403)" in wrong.stderr
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            code = agent.wait(8)
        except subprocess.TimeoutExpired:
            agent.kill()
            code = "killed"
        log.close()
        srv.stop()
        pty.close()
    assert code == 0, (tmp_path / "agent.log").read_text(errors="replace")[-3000:]


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_boards_driven_inside_the_server(tmp_path, mode):
    bus = FakeBus({1, 2})
    pty = PtyLine(bus, tmp_path / "ttyLED")
    srv = ServerProcess(led_server_config(tmp_path, pty.link, "server"), tmp_path / "led.sqlite3", mode).start()
    try:
        assert srv.get("/api/v1/led_boards", AGENT).json()["boards"] == [], "run_in server: no agent drives them"
        exercise_counters(srv, bus)
    finally:
        srv.stop()
        pty.close()
