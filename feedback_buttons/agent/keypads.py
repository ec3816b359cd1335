"""The keypad agent: reads satisfaction keypads on serial ports (pyserial `serial_for_url`: /dev/ttyUSB0,
/dev/ttyACM0, socket://host:port, rfc2217://...) or Linux input devices, decodes their bytes (decoders.py),
stores each press durably (delivery.Outbox), acknowledges it to the keypad, and delivers it to the server.

One reader per port (keypads on one RS485 bus share it, told apart by their ids). A port that is missing or
fails is reopened after a capped, randomised backoff; its state (connected, missing, error) is reported per
keypad. Bad bytes are dropped, logged and counted per port; nothing a keypad sends can stop the reader.

Runs as `python -m feedback_buttons --server URL --token T` on the PC the keypads are plugged into, or inside
the server for keypads with `run_in: server` (inserver.py), with the same code.
"""
from __future__ import annotations

import errno
import logging
import os
import select
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from device_kit import Backoff, DeviceState, TransportState, open_port as kit_open_port
from feedback_buttons.agent import decoders as D
from feedback_buttons.agent.delivery import Delivery, Outbox, StatusReporter, new_rating

log = logging.getLogger(__name__)

STABLE_SECONDS = 10  # a port open this long: its next loss starts again with a short pause


class PortState(TransportState):
    CONNECTING = "connecting", DeviceState.CONNECTING
    CONNECTED = "connected", DeviceState.ONLINE
    MISSING = "missing", DeviceState.OFFLINE
    ERROR = "error", DeviceState.ERROR
    STOPPED = "offline", DeviceState.OFFLINE  # the agent (or server) stopped reading it


@dataclass(frozen=True)
class KeypadSpec:
    """What the agent needs of one keypad (devices.keypads[] of config.yaml, as the server sends it)."""

    id: str
    counter: str
    port: str
    decoder: str = "qms-line"
    device_id: str = ""
    address: int | None = None
    baudrate: int = 9600
    pattern: str = D.DEFAULT_PATTERN
    frame: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    ack: bool = True
    debounce_ms: int = 300
    silent_seconds: float = 0

    @classmethod
    def from_dict(cls, d: dict) -> "KeypadSpec":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    def match_id(self) -> str:
        return str(self.address) if self.address is not None else self.device_id

    def decoder_options(self) -> dict[str, Any]:
        if self.decoder == "ascii-line":
            return {"pattern": self.pattern}
        if self.decoder == "rs485-frame":
            return dict(self.frame)
        if self.decoder in ("qms-line", "keyboard"):
            return {}
        return dict(self.options)


# ------------------------------------------------------------------ ports
class InputDevice:
    """A Linux input device (/dev/input/event*) read like a serial port: read(n) with a timeout. The device is
    grabbed (EVIOCGRAB) when possible, so the keypad's keys do not also type into the desktop."""

    EVIOCGRAB = 0x40044590

    def __init__(self, path: str, timeout: float = 0.2):
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.timeout = timeout
        self.in_waiting = 0
        try:
            import fcntl

            fcntl.ioctl(self.fd, self.EVIOCGRAB, 1)
        except OSError:
            pass  # not an input device (a test's FIFO) or already grabbed: read it anyway

    def read(self, n: int = 1) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], self.timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return b""
        if not data:
            raise OSError(errno.ENODEV, "input device closed (unplugged)")
        return data

    def write(self, data: bytes) -> int:
        return len(data)  # a keyboard takes no acknowledgement

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def open_port(spec: KeypadSpec, timeout: float = 0.2):
    """The input device of a keyboard keypad, else its port through the device kit: a serial port (any pyserial
    URL) or a fake (`fake://...`)."""
    if spec.decoder == "keyboard" and not spec.port.startswith("fake://"):
        return InputDevice(spec.port, timeout)
    return kit_open_port(spec.port, baudrate=spec.baudrate, timeout=timeout, write_timeout=1)


def classify(exc: BaseException) -> PortState:
    """missing: the device is not there (unplugged, not yet plugged in); error: anything else."""
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO) or any(
            w in text for w in ("no such file", "no such device", "returned no data", "disconnected", "errno 2]",
                                "errno 5]", "errno 6]", "errno 19]", "input/output error", "connection refused")):
        return PortState.MISSING
    return PortState.ERROR


class PortReader:
    """Reads one port for one or more keypads; reopens it with backoff; never dies of bad input."""

    def __init__(self, port: str, keypads: list[KeypadSpec], *, valid_buttons: set[str], level_values: set[int],
                 on_press: Callable[[KeypadSpec, D.Press], bool], on_state: Callable[[str, str, str], None],
                 backoff: Backoff, read_timeout: float = 0.2, opener: Callable = open_port,
                 clock: Callable[[], float] = time.monotonic):
        self.port = port
        self.keypads = keypads
        self.first = keypads[0]
        D.create(self.first.decoder, **self.first.decoder_options())  # a bad decoder setting fails now, named
        self.by_id = {k.match_id(): k for k in keypads}
        self.valid_buttons = valid_buttons
        self.level_values = level_values
        self.on_press = on_press
        self.on_state = on_state
        self.backoff = backoff
        self.read_timeout = read_timeout
        self.opener = opener
        self.clock = clock  # monotonic seconds: debounce, silence, a connection that lasted
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.state = PortState.CONNECTING
        self.detail = ""
        self.keypad_states: dict[str, tuple[str, str]] = {}
        self.heard: dict[str, float] = {}  # keypad id -> monotonic time of its last frame
        self.last_press: dict[tuple, float] = {}
        self.connected_since = 0.0
        self.stats: dict[str, Any] = {"bytes": 0, "presses": 0, "heartbeats": 0, "dropped": {}, "opened": 0}
        self._port = None

    # ------------------------------------------------------------ life
    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name=f"keypad {self.port}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float = 5) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                port = self.opener(self.first, self.read_timeout)
            except Exception as exc:  # noqa: BLE001 - SerialException, OSError, ValueError: all mean "not now"
                self._port_state(classify(exc), f"cannot open {self.port}: {exc}")
                self.stop_event.wait(self.backoff.next_delay())
                continue
            self._port = port
            self.stats["opened"] += 1
            self.connected_since = self.clock()
            self.backoff.up()
            decoder = D.create(self.first.decoder, **self.first.decoder_options())
            self._port_state(PortState.CONNECTED, f"open: {self.port}")
            try:
                self._read(port, decoder)
            except Exception as exc:  # noqa: BLE001 - unplugged, I/O error: reopen later
                self._handle(decoder.flush(), None)
                state = classify(exc)
                self._port_state(state, f"{'unplugged' if state == PortState.MISSING else 'failed'}: {exc}")
            finally:
                self._port = None
                try:
                    port.close()
                except Exception:  # noqa: BLE001
                    pass
            if not self.stop_event.is_set():
                self.stop_event.wait(self.backoff.next_delay())
        self._port_state(PortState.STOPPED, "agent stopped")

    def _read(self, port, decoder: D.Decoder) -> None:
        while not self.stop_event.is_set():
            data = port.read(max(1, getattr(port, "in_waiting", 0) or 0))
            if data:
                self.stats["bytes"] += len(data)
                self._handle(decoder.feed(data), port)
            self._check_silent(self.clock())

    # ------------------------------------------------------------ states
    def _port_state(self, state: PortState, detail: str) -> None:
        if (state, detail) != (self.state, self.detail):
            if state.device.problem:
                log.warning("keypad port %s: %s (%s)", self.port, state.value, detail)
            else:
                log.info("keypad port %s: %s (%s)", self.port, state.value, detail)
        self.state, self.detail = state, detail
        for k in self.keypads:
            self._keypad_state(k, state.value, detail)

    def _keypad_state(self, k: KeypadSpec, state: str, detail: str) -> None:
        if self.keypad_states.get(k.id) != (state, detail):
            self.keypad_states[k.id] = (state, detail)
            self.on_state(k.id, state, detail)

    def _check_silent(self, now: float) -> None:
        for k in self.keypads:
            if k.silent_seconds <= 0:
                continue
            last = max(self.heard.get(k.id, 0.0), self.connected_since)
            if now - last > k.silent_seconds:
                self._keypad_state(k, PortState.MISSING.value,
                                   f"port open, nothing heard for {k.silent_seconds:g} s (keypad unplugged or off?)")

    def _heard(self, k: KeypadSpec) -> None:
        self.heard[k.id] = self.clock()
        if self.keypad_states.get(k.id, ("",))[0] != PortState.CONNECTED.value:
            self._keypad_state(k, PortState.CONNECTED.value, f"open: {self.port}")

    # ------------------------------------------------------------ events
    def _route(self, device: str) -> KeypadSpec | None:
        if device in self.by_id:
            return self.by_id[device]
        if len(self.keypads) == 1 and (device == "" or self.first.match_id() == ""):
            return self.first
        return None

    def _drop(self, reason: str, detail: str, data: bytes = b"") -> None:
        dropped = self.stats["dropped"]
        dropped[reason] = dropped.get(reason, 0) + 1
        log.warning("keypad port %s: dropped (%s) %s %r", self.port, reason, detail, data[:48])

    def _write(self, port, data: bytes) -> None:
        if port is not None and data:
            port.write(data)

    def _handle(self, events: list[D.Event], port) -> None:
        for ev in events:
            if isinstance(ev, D.Dropped):
                self._drop(ev.reason, ev.detail, ev.data)
                if ev.reason == "duplicate" and ev.ack:
                    k = self._route(ev.device)
                    if k is not None and k.ack:
                        self._write(port, ev.ack)  # the keypad did not hear our ack: say it again
                continue
            k = self._route(ev.device)
            if k is None:
                self._drop("unknown_device", f"device {ev.device!r} is not configured on this port")
                continue
            self._heard(k)
            if isinstance(ev, D.Heartbeat):
                self.stats["heartbeats"] += 1
                continue
            if ev.button is not None and ev.button not in self.valid_buttons:
                self._drop("out_of_range", f"button {ev.button} of {k.id} gives no rating level")
                continue
            if ev.level is not None and ev.level not in self.level_values:
                self._drop("out_of_range", f"level {ev.level} of {k.id} is not on the scale")
                continue
            key = (k.id, ev.button, ev.level)
            now = self.clock()
            if k.debounce_ms and now - self.last_press.get(key, -1e9) < k.debounce_ms / 1000:
                self._drop("bounce", f"{k.id} pressed again within {k.debounce_ms} ms")
                continue
            self.last_press[key] = now
            if self.on_press(k, ev):
                self.stats["presses"] += 1
                if ev.ack and k.ack:
                    self._write(port, ev.ack)

    def status(self) -> dict:
        return {"port": self.port, "decoder": self.first.decoder, "state": self.state.value,
                "device": self.state.device.value, "detail": self.detail,
                "keypads": {k: {"state": s, "detail": d} for k, (s, d) in self.keypad_states.items()},
                "stats": {**self.stats, "dropped": dict(self.stats["dropped"])}}


# ------------------------------------------------------------------ the agent
def group_by_port(keypads: list[KeypadSpec]) -> dict[str, list[KeypadSpec]]:
    groups: dict[str, list[KeypadSpec]] = {}
    for k in keypads:
        if k.port == "page":
            continue  # keys typed into the rating page: the browser reads them
        groups.setdefault(k.port, []).append(k)
    return groups


class KeypadAgent:
    """Readers for every port, an outbox on disk, a delivery thread and a status reporter."""

    def __init__(self, keypads: list[KeypadSpec], *, buttons: dict[str, int], level_values: list[int],
                 transport: Callable[[dict, int], tuple[str, str]], status_send: Callable[[str, str, str, str], bool],
                 outbox_dir, agent_id: str | None = None, backoff_first: float = 0.5, backoff_max: float = 30.0,
                 read_timeout: float = 0.2, refresh_seconds: float = 30.0, opener: Callable = open_port,
                 wall_ms: Callable[[], int] | None = None, clock: Callable[[], float] = time.monotonic):
        self.keypads = keypads
        self.agent_id = agent_id
        self.wall_ms = wall_ms
        self.outbox = Outbox(outbox_dir)
        self.reporter = StatusReporter(status_send, refresh_seconds)
        self.delivery = Delivery(self.outbox, transport, Backoff(backoff_first, backoff_max, jitter=0.5),
                                 self._server_state)
        valid = {b for b in buttons} if buttons else {str(v) for v in level_values}
        self.readers = [PortReader(port, ks, valid_buttons=valid, level_values=set(level_values),
                                   on_press=self._press, on_state=self._keypad_state,
                                   backoff=Backoff(backoff_first, backoff_max, jitter=0.5, stable=STABLE_SECONDS,
                                                   clock=clock),
                                   read_timeout=read_timeout, opener=opener, clock=clock)
                        for port, ks in group_by_port(keypads).items()]

    def _press(self, k: KeypadSpec, ev: D.Press) -> bool:
        rating = new_rating(k.id, button=ev.button, level=ev.level, seq=ev.seq, wall_ms=self.wall_ms)
        try:
            self.outbox.add(rating)
        except OSError:
            log.exception("cannot write the outbox %s: press of %s not stored", self.outbox.path, k.id)
            return False
        log.info("keypad %s (counter %s): %s stored as %s", k.id, k.counter,
                 f"button {ev.button}" if ev.button is not None else f"level {ev.level}", rating["id"])
        return True

    def _keypad_state(self, keypad_id: str, state: str, detail: str) -> None:
        self.reporter.report("keypad", keypad_id, state, detail)

    def _server_state(self, ok: bool, detail: str) -> None:
        if ok:
            log.info("server reachable again; %d rating(s) pending", len(self.outbox))
        if self.agent_id:
            self.reporter.report("agent", self.agent_id, "online", f"{len(self.outbox)} rating(s) pending")

    def start(self) -> None:
        if self.agent_id:
            self.reporter.report("agent", self.agent_id, "online", f"reading {len(self.readers)} port(s)")
        self.reporter.start()
        self.delivery.start()
        for r in self.readers:
            r.start()

    def stop(self, timeout: float = 5) -> None:
        for r in self.readers:
            r.stop()
        for r in self.readers:
            r.join(timeout)
        self.delivery.stop()
        self.delivery.join(timeout)
        if self.agent_id:
            self.reporter.report("agent", self.agent_id, "offline", f"stopped; {len(self.outbox)} rating(s) pending")
        self.reporter.stop()
        self.reporter.join(timeout)
        self.reporter.flush()  # the last states (offline) reach the server before the process ends

    def status(self) -> dict:
        return {"ports": [r.status() for r in self.readers], "pending": len(self.outbox),
                "delivery": dict(self.delivery.stats)}
