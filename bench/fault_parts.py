"""The clients of the bad day (bench/faults.py), each keeping its own log: a hall display on Socket.IO that
reconnects with its last sequence number, a keypad on a pty that repeats a press until it sees the
acknowledgement, a TCP printer that can hang, be unplugged and come back on the same port, and the kiosk that
reprints every slip it was told had failed."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import requests
import socketio

from escpos_emulator import PrinterEmulator
from keypad_util import FakeKeypad

from feedback_buttons.agent.decoders import qms_frame


class Display:
    """A hall display: every `ticket.called` it receives, live or caught up, with the wall time it arrived."""

    def __init__(self, name: str, url: str, room: str):
        self.name, self.url, self.room = name, url, room
        self.lock = threading.Lock()
        self.first_seq: int | None = None  # the snapshot it started from: calls after it are owed to it
        self.last_seq: int | None = None
        self.calls: dict[int, list[tuple[float, bool]]] = {}  # seq -> [(arrived, replayed)]
        self.snapshots_after_start = 0
        self.client: socketio.Client | None = None
        self.offline_until = 0.0
        self.reconnects = 0

    def _on(self, event, data) -> None:
        at = time.time()
        if not isinstance(data, dict):
            return
        with self.lock:
            seq = data.get("seq")
            if event == "snapshot":
                if self.first_seq is None:
                    self.first_seq = seq
                else:
                    self.snapshots_after_start += 1  # a gap it could not catch up: counted as a failure
            if event == "ticket.called" and isinstance(seq, int):
                self.calls.setdefault(seq, []).append((at, bool(data.get("replayed"))))
            if isinstance(seq, int):
                self.last_seq = max(self.last_seq or 0, seq)

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    def connect(self) -> bool:
        client = socketio.Client(reconnection=False)
        client.on("*", self._on)
        auth = {"room": self.room}
        with self.lock:
            if self.last_seq is not None:
                auth["last_seq"] = self.last_seq
        try:
            client.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=3)
        except Exception:  # noqa: BLE001 - the server is down: try again on the next tick
            return False
        if self.client is not None:
            self.reconnects += 1
        self.client = client
        return True

    def lose_network(self, seconds: float) -> None:
        self.offline_until = time.monotonic() + seconds
        if self.client is not None:
            self.client.disconnect()

    def tick(self) -> None:
        if not self.connected and time.monotonic() >= self.offline_until:
            self.connect()

    def close(self) -> None:
        if self.client is not None and self.client.connected:
            self.client.disconnect()


class Keypad:
    """A qms-line keypad on a pty: a press is sent, and sent again on the next tick until its acknowledgement
    comes back. Unplugged, it cannot send; its unacknowledged presses go out again once plugged back."""

    def __init__(self, path: Path, device: str):
        self.pty = FakeKeypad(path)
        self.device = device
        self.seq = 0
        self.pending: dict[int, str] = {}
        self.acked: dict[int, str] = {}
        self.sent = self.retransmits = 0
        self.plugged = True

    def press(self, button: str) -> None:
        self.seq += 1
        self.pending[self.seq] = button

    def tick(self) -> None:
        if not self.plugged:
            return
        for seq, button in list(self.pending.items()):
            self.pty.write(qms_frame("P", self.device, seq, button))
            self.sent += 1
            ack = qms_frame("A", self.device, seq)
            if ack in self.pty.read(0.3, until=ack):
                self.acked[seq] = self.pending.pop(seq)
            else:
                self.retransmits += 1
                return  # in order: the next press waits for this one

    def unplug(self) -> None:
        self.plugged = False
        self.pty.unplug()

    def plug(self) -> None:
        self.pty.plug()
        self.plugged = True

    def close(self) -> None:
        if self.plugged:
            self.pty.unplug()


class PortPrinter(PrinterEmulator):
    """The test suite's ESC/POS emulator on a chosen port, so that a printer unplugged comes back where the
    server expects it."""

    def __init__(self, mode: str = "ok", port: int = 0):
        import socket

        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received, self.connections = [], 0
        self.stopped, self.cond, self._open = threading.Event(), threading.Condition(), []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()


class Kiosk:
    """The kiosk's side of printing: every print.status it hears, and a reprint of each slip that failed."""

    def __init__(self, url: str, kiosk: str, token: str):
        self.url, self.kiosk, self.headers = url, kiosk, {"Authorization": f"Bearer {token}"}
        self.lock = threading.Lock()
        self.failed: dict[int, dict] = {}  # ticket id -> the failure it was told of
        self.printed: set[int] = set()  # ticket ids with a slip printed
        self.reprints: dict[int, int] = {}  # ticket id -> reprints asked
        self.offered_reprint: set[int] = set()
        self.last_try: dict[int, float] = {}
        self.answers: dict[int, int] = {}  # reprint answer status -> how many
        self.refused: dict[int, str] = {}  # ticket id -> why a reprint was refused (e.g. it was called meanwhile)
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.2)
        self.client.on("*", self._on)
        self.client.connect(url, auth={"room": f"kiosk:{kiosk}", "token": token}, transports=["websocket"],
                            wait_timeout=5)

    def _on(self, event, data) -> None:
        if event != "print.status" or not isinstance(data, dict):
            return
        with self.lock:
            if data.get("state") == "failed":
                self.failed.setdefault(data["ticket_id"], data)
            elif data.get("state") == "printed":
                self.printed.add(data["ticket_id"])

    def outstanding(self) -> list[int]:
        with self.lock:
            return sorted(t for t in self.failed if t not in self.printed and t not in self.refused)

    def reprint_failed(self, every: float = 1.5) -> None:
        """Staff press "In lại" for each slip not printed yet, at most once every `every` seconds each."""
        now = time.monotonic()
        for ticket_id in self.outstanding():
            if now - self.last_try.get(ticket_id, -every) < every:
                continue
            self.last_try[ticket_id] = now
            try:
                r = requests.post(f"{self.url}/api/v1/tickets/{ticket_id}/reprint", headers=self.headers, timeout=3)
            except requests.RequestException:
                continue
            self.answers[r.status_code] = self.answers.get(r.status_code, 0) + 1
            if r.status_code == 202:
                self.reprints[ticket_id] = self.reprints.get(ticket_id, 0) + 1
                self.offered_reprint.add(ticket_id)
            elif r.status_code == 409:
                self.refused[ticket_id] = r.json().get("message", "")

    def close(self) -> None:
        self.client.disconnect()


class Boards:
    """LED boards above the counters on one RS485 line (a pty pair and the suite's fake bus of Modbus boards),
    driven by a real LED agent process connected to `url`. The bus keeps every frame it carried."""

    def __init__(self, tmp: Path, units: dict[str, int]):
        from test_led import FakeBus, PtyLine

        self.units, self.tmp = units, tmp  # counter -> unit id
        self.bus = FakeBus(set(units.values()))
        self.line = PtyLine(self.bus, tmp / "ttyLED")
        self.agent = None

    def start_agent(self, url: str, token: str) -> None:
        import subprocess

        self.log = open(self.tmp / "led-agent.log", "wb")
        self.agent = subprocess.Popen([sys.executable, "-m", "displays.led", "--server", url, "--token", token],
                                      cwd=Path(__file__).resolve().parent.parent, stdout=self.log,
                                      stderr=subprocess.STDOUT)

    @property
    def link(self) -> Path:
        return self.line.link

    def shown(self, counter: str) -> list[tuple[int, float]]:
        """(value, wall time) of every write to the counter's board."""
        unit, offset = self.units[counter], time.time() - time.monotonic()
        with self.bus.cond:
            return [(w[3][0], w[4] + offset) for w in self.bus.writes if w[0] == unit and w[2] == 0 and w[3]]

    def close(self) -> None:
        if self.agent is not None:
            self.agent.terminate()
            try:
                self.agent.wait(8)
            except Exception:  # noqa: BLE001 - it did not stop: end it
                self.agent.kill()
                self.agent.wait(5)
            self.log.close()
        self.line.close()
