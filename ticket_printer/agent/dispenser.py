"""Push-button ticket dispenser: a button box with no screen on a serial port, one button per service.

The box (devices.dispensers[] in config.yaml) sends one message per press:

  protocol `line` (default): an ASCII line per press, ended by CR and/or LF. The line is the button's name as
      configured (`1`, `2`, `A`), optionally prefixed by `B` or `BTN` (`B1`, `BTN01`); numbers compare by value,
      so `B01` is button `1`. Lines longer than 32 characters, non-ASCII bytes and unknown buttons are bad frames.
  protocol `byte`: one byte per press. A printable ASCII byte is the button of that character (`1` = 0x31,
      `A`); any other byte is the button of its decimal value (0x01 = `1`, 0x02 = `2`). CR and LF are ignored.

Each press issues a ticket through the server's REST API with the token of the kiosk the dispenser belongs to
(so the ticket prints on that kiosk's printer). A second press of the same button within `debounce_ms` is
ignored (contact bounce, a held button). When `reply` is on, the box gets one ASCII line back per press:
`OK <number>` or `ERR <code>` (e.g. `ERR service_full`, `ERR unknown_button`), for its LED or buzzer.

Bad frames are counted, logged and answered `ERR bad_frame`; they issue nothing. A lost port is reopened with a
capped exponential backoff (devices.timeouts.serial_reconnect_max_seconds, default 30).

`ButtonDecoder` and `Debouncer` are pure; `DispenserReader` is the thin serial adapter; `qms dispenser ID` runs it
(or, with only the agent installed, `python -m ticket_printer.agent.dispenser ID --config config.yaml`).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

from device_kit import Backoff, DeviceState, TransportState, open_port
from ticket_printer.agent.settings import SettingsError, dispenser_run, read_config

log = logging.getLogger(__name__)

MAX_LINE = 32
_PREFIX = re.compile(r"^(?:BTN|B)(?=[A-Za-z0-9])", re.IGNORECASE)


# ------------------------------------------------------------------ pure decoding
@dataclass(frozen=True)
class Press:
    button: str


@dataclass(frozen=True)
class BadFrame:
    reason: str
    raw: bytes = b""


class ButtonDecoder:
    """Bytes from the box in, presses and bad frames out. Keeps a partial line between feeds."""

    def __init__(self, protocol: str, buttons: Iterable[str]):
        if protocol not in ("line", "byte"):
            raise ValueError(f"unknown protocol {protocol!r}")
        self.protocol = protocol
        self.buttons = list(buttons)
        self._numeric = {int(b): b for b in self.buttons if b.isdigit()}
        self._buf = bytearray()
        self._overflow = False

    def match(self, name: str) -> str | None:
        """The configured button a name stands for: exact, without a B/BTN prefix, or equal as a number."""
        candidates = [name]
        stripped = _PREFIX.sub("", name)
        if stripped != name:
            candidates.append(stripped)
        for c in candidates:
            if c in self.buttons:
                return c
            upper = c.upper()
            for b in self.buttons:
                if b.upper() == upper:
                    return b
            if c.isdigit() and int(c) in self._numeric:
                return self._numeric[int(c)]
        return None

    def feed(self, data: bytes) -> list[Press | BadFrame]:
        return self._feed_bytes(data) if self.protocol == "byte" else self._feed_lines(data)

    def _feed_bytes(self, data: bytes) -> list[Press | BadFrame]:
        out: list[Press | BadFrame] = []
        for b in data:
            if b in (0x0A, 0x0D):
                continue
            name = chr(b) if 0x21 <= b <= 0x7E else str(b)
            button = self.match(name)
            out.append(Press(button) if button is not None else BadFrame(f"unknown button {name!r}", bytes([b])))
        return out

    def _feed_lines(self, data: bytes) -> list[Press | BadFrame]:
        out: list[Press | BadFrame] = []
        for b in data:
            if b in (0x0A, 0x0D):
                if self._overflow:
                    self._overflow = False
                elif self._buf:
                    out.append(self._line(bytes(self._buf)))
                self._buf.clear()
                continue
            if self._overflow:
                continue
            self._buf.append(b)
            if len(self._buf) > MAX_LINE:
                out.append(BadFrame(f"line longer than {MAX_LINE} bytes", bytes(self._buf)))
                self._buf.clear()
                self._overflow = True  # drop the rest of this line
        return out

    def _line(self, raw: bytes) -> Press | BadFrame:
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            return BadFrame("not ASCII", raw)
        if not text:
            return BadFrame("empty line", raw)
        if not text.isprintable():
            return BadFrame("control characters in the line", raw)
        button = self.match(text)
        return Press(button) if button is not None else BadFrame(f"unknown button {text!r}", raw)


class Debouncer:
    """A second press of one button within `ms` is the same press."""

    def __init__(self, ms: int):
        self.ms = ms
        self._last: dict[str, float] = {}

    def accept(self, button: str, now_ms: float) -> bool:
        last = self._last.get(button)
        if last is not None and now_ms - last < self.ms:
            return False
        self._last[button] = now_ms
        return True


def reply_line(ok: bool, text: str) -> bytes:
    """What the box is told after a press: `OK A001` or `ERR service_full` (ASCII, CR LF)."""
    clean = re.sub(r"[^A-Za-z0-9_.:-]", "", text)[:24] or "error"
    return f"{'OK' if ok else 'ERR'} {clean}\r\n".encode("ascii")


# ------------------------------------------------------------------ issuing
class IssueError(Exception):
    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code


class Issuer(Protocol):
    def issue(self, service: str) -> dict: ...


class RestIssuer:
    """Issues through POST /api/v1/tickets with the kiosk's device token."""

    def __init__(self, server: str, token: str, timeout: float = 5.0):
        import requests

        self.url = server.rstrip("/") + "/api/v1/tickets"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def issue(self, service: str) -> dict:
        import requests

        try:
            r = self.session.post(self.url, json={"service": service}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise IssueError("server_unreachable", str(exc)) from None
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code != 201:
            raise IssueError(body.get("error") or f"http_{r.status_code}", body.get("message", ""))
        return body


# ------------------------------------------------------------------ the serial adapter
class State(TransportState):
    STOPPED = "offline", DeviceState.OFFLINE
    CONNECTING = "connecting", DeviceState.CONNECTING
    ONLINE = "online", DeviceState.ONLINE
    ERROR = "error", DeviceState.ERROR


@dataclass
class Stats:
    presses: int = 0
    issued: int = 0
    refused: int = 0
    repeats: int = 0
    bad_frames: int = 0
    reconnects: int = 0
    last_error: str = ""
    last_codes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.issued} tickets, {self.refused} refused, {self.bad_frames} bad frames, "
                f"{self.repeats} repeated presses, {self.reconnects} reconnects")


def _open_serial(port: str, baudrate: int, timeout: float):
    """The box's port through the device kit: a serial port (any pyserial URL) or a fake (`fake://...`)."""
    return open_port(port, baudrate=baudrate, timeout=timeout)


class DispenserReader:
    def __init__(self, cfg, issuer: Issuer, *, backoff_max: float = 30.0, read_timeout: float = 0.2,
                 open_port: Callable = _open_serial, on_state: Callable[[State, str], None] | None = None,
                 heartbeat_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.cfg = cfg
        self.issuer = issuer
        self.decoder = ButtonDecoder(cfg.protocol, cfg.buttons)
        self.debouncer = Debouncer(cfg.debounce_ms)
        self.backoff = Backoff(min(0.5, backoff_max), backoff_max)  # reopening the port
        self.read_timeout = read_timeout
        self.open_port = open_port
        self.on_state = on_state
        self.heartbeat_seconds = heartbeat_seconds
        self._reported_at = 0.0
        self._detail = ""
        self.clock = clock
        self.state = State.STOPPED
        self.stats = Stats()
        self.port = None
        self.stop_event = threading.Event()

    def _set_state(self, state: State, detail: str = "") -> None:
        if state != self.state:
            self.state = state
            self._detail = detail
            log.info("dispenser %s: %s %s", self.cfg.id, state.value, detail)
            self._report()

    def _report(self) -> None:
        """Tell on_state (the supervisors) the state; repeated as a heartbeat every heartbeat_seconds."""
        self._reported_at = self.clock()
        if self.on_state is not None:
            try:
                self.on_state(self.state, self._detail)
            except Exception:  # noqa: BLE001 - a report that fails must not stop the reader
                log.exception("dispenser %s: state report failed", self.cfg.id)

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        while not self.stop_event.is_set():
            if self.port is None:
                self._set_state(State.CONNECTING, self.cfg.port)
                try:
                    self.port = self.open_port(self.cfg.port, self.cfg.baudrate, self.read_timeout)
                except Exception as exc:  # noqa: BLE001 - serial, OS and URL errors alike
                    self.stats.last_error = str(exc)
                    self._set_state(State.ERROR, f"cannot open {self.cfg.port}: {exc}")
                    self.stop_event.wait(self.backoff.next_delay())
                    continue
                if self.backoff.attempt:
                    self.stats.reconnects += 1
                self.backoff.reset()
                self._set_state(State.ONLINE, self.cfg.port)
            if self.clock() - self._reported_at >= self.heartbeat_seconds:
                self._report()
            try:
                data = self.port.read(1)  # waits up to read_timeout, so stop() is seen
                if data:
                    waiting = self.port.in_waiting
                    if waiting:
                        data += self.port.read(waiting)
                    for event in self.decoder.feed(data):
                        self.handle(event)
            except Exception as exc:  # noqa: BLE001 - a lost port: close it and reopen with backoff
                self.stats.last_error = str(exc)
                self._set_state(State.ERROR, f"port lost: {exc}")
                self._close()
                self.stop_event.wait(self.backoff.next_delay())
        self._close()
        self._set_state(State.STOPPED)

    def _close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except Exception:  # noqa: BLE001
                pass
            self.port = None

    def _reply(self, ok: bool, text: str) -> None:
        if self.cfg.reply and self.port is not None:
            self.port.write(reply_line(ok, text))

    def handle(self, event: Press | BadFrame) -> None:
        if isinstance(event, BadFrame):
            self.stats.bad_frames += 1
            log.warning("dispenser %s: bad frame (%s): %r", self.cfg.id, event.reason, event.raw)
            self._reply(False, "unknown_button" if event.reason.startswith("unknown button") else "bad_frame")
            return
        self.stats.presses += 1
        if not self.debouncer.accept(event.button, self.clock() * 1000):
            self.stats.repeats += 1
            return
        service = self.cfg.buttons[event.button]
        try:
            ticket = self.issuer.issue(service)
        except IssueError as exc:
            self.stats.refused += 1
            self.stats.last_error = f"{exc.code}: {exc}"
            log.warning("dispenser %s: button %s (%s) refused: %s %s", self.cfg.id, event.button, service, exc.code, exc)
            self._reply(False, exc.code)
            return
        self.stats.issued += 1
        self.stats.last_codes = (self.stats.last_codes + [ticket.get("code", "?")])[-10:]
        log.info("dispenser %s: button %s issued %s (%s)", self.cfg.id, event.button, ticket.get("code"), service)
        self._reply(True, str(ticket.get("code", "")))


# ------------------------------------------------------------------ `qms dispenser ID`
def status_reporter(server: str, agent_token: str, dispenser_id: str, timeout: float = 5.0):
    """on_state callback: POST /api/v1/devices/dispenser/<id>/status with an agent's token."""
    import requests

    url = f"{server.rstrip('/')}/api/v1/devices/dispenser/{dispenser_id}/status"
    def report(state: State, detail: str) -> None:
        try:
            requests.post(url, json={"state": state.value, "detail": detail[:300]},
                          headers={"Authorization": f"Bearer {agent_token}"}, timeout=timeout)
        except requests.RequestException as exc:
            log.warning("dispenser %s: cannot report state: %s", dispenser_id, exc)

    return report


def run_cli(config, dispenser_id: str, server: str | None = None) -> int:
    """Run one dispenser until SIGTERM/SIGINT. `config`: the configuration as a mapping (or an object with
    model_dump(), such as the configuration the server validated: `qms dispenser ID`)."""
    import signal
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    values = config.model_dump(mode="json") if hasattr(config, "model_dump") else config
    try:
        run = dispenser_run(values, dispenser_id, server)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg, server = run.dispenser, run.server
    issuer = RestIssuer(server, run.kiosk_token, timeout=float(run.timeouts.get("dispenser_request_seconds", 5)))
    on_state = status_reporter(server, run.agent_token, cfg.id) if run.agent_token else None
    reader = DispenserReader(cfg, issuer, backoff_max=float(run.timeouts.get("serial_reconnect_max_seconds", 30)),
                             on_state=on_state,
                             heartbeat_seconds=float(run.timeouts.get("dispenser_heartbeat_seconds", 60)))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: reader.stop())
    print(f"dispenser {cfg.id}: port {cfg.port} ({cfg.protocol}), issuing as kiosk {cfg.kiosk} at {server}; "
          f"buttons {', '.join(f'{b}={s}' for b, s in cfg.buttons.items())}", flush=True)
    reader.run()
    print(f"dispenser {cfg.id} stopped: {reader.stats.summary()}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m ticket_printer.agent.dispenser ID --config config.yaml`: the same as `qms dispenser ID`, on a
    PC with only the agent installed (the file is read as plain values; `qms check-config` validates it)."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m ticket_printer.agent.dispenser",
                                 description="Push-button ticket dispenser on its serial port")
    ap.add_argument("dispenser_id")
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--server", help="server address (default: http://127.0.0.1:<server.port>)")
    args = ap.parse_args(argv)
    try:
        config = read_config(args.config)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_cli(config, args.dispenser_id, server=args.server)


if __name__ == "__main__":
    raise SystemExit(main())
