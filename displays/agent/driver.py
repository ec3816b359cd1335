"""RS485 LED number boards over Modbus RTU: the driver, shared by the LED agent and the in-server mode.

    python -m displays.led --server http://10.0.0.5:5000 --token <agent token>

runs the LED agent on the PC the RS485 adapter is plugged into (displays/agent/main.py); docs/led.md says how
boards are wired, configured and tested. Ports open through the device kit (`port: fake://led-boards` is a
fake bus of boards that answer their writes: a demo with no hardware).

Boards on one port share one RS485 bus: one thread per port (`Bus`) writes to them in turn, so frames never
interleave. A board is `connected` once it confirmed a write, `error` when it does not answer (or answers
wrong) after `retries`, `disconnected` while its port cannot be used. The bus sends one frame at a time and
then chooses again: a board's first try goes before another board's retry, so a silent board never holds the
others up by more than one frame's timeout. A lost port is reopened with capped exponential back-off
(device_kit.Backoff: 0.5 s doubling up to devices.timeouts.serial_reconnect_max_seconds, default 30); a board in
`error` drops to a slow probe on the same schedule: one frame each time (not 1 + retries), until it answers.
Every board is written again every
devices.timeouts.led_refresh_seconds (default 30), so a board that lost power shows its number again and an
unplugged adapter is noticed while nothing changes.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import serial

try:
    import termios
except ImportError:  # Windows: no termios
    termios = None

from device_kit import Backoff, DeviceState, FakePort, TransportState, open_port as kit_open_port, register_fake
from displays.shared import modbus
from displays.shared.led_values import BLANK, Shown, register_values

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
# What a vanished port raises: pyserial's own error, the OS error, or termios' (flushing a hung-up pty).
PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError) + ((termios.error,) if termios else ())
DEFAULT_RECONNECT_MAX = 30.0
DEFAULT_REFRESH = 30.0


class BoardState(TransportState):
    CONNECTED = "connected", DeviceState.ONLINE
    DISCONNECTED = "disconnected", DeviceState.OFFLINE
    ERROR = "error", DeviceState.ERROR


class AnswerTimeout(modbus.ModbusError):
    pass


def new_backoff(cap: float) -> Backoff:
    """The pauses of a port or a board: 0.5 s, then doubling, never above `cap` (no jitter)."""
    return Backoff(min(FIRST_BACKOFF, cap), cap)


def _answer_as_boards(frame: bytes) -> bytes:
    """A fake bus where every unit takes its writes and answers as a Modbus board does."""
    try:
        modbus.decode_request(frame)
    except modbus.ModbusError:
        return b""
    return modbus.expected_answer(frame)


register_fake("led-boards", lambda url, **settings: FakePort(url, answer=_answer_as_boards, **settings))


@dataclass
class Board:
    """One LED board: its config (devices.led_boards[] entry), what it should show, and what it did."""

    cfg: object
    state: BoardState = BoardState.DISCONNECTED
    detail: str = "not opened yet"
    wanted: Shown = BLANK
    written: list[int] | None = None  # register values the board confirmed last
    written_at: float = 0.0
    retry_at: float = 0.0
    failures: int = 0  # frames in a row without a good answer; above cfg.retries the board is in error
    backoff: Backoff | None = None
    counts: dict = field(default_factory=lambda: {"writes": 0, "confirmed": 0, "timeouts": 0, "bad_answers": 0,
                                                  "exceptions": 0, "unshowable": 0, "port_errors": 0})

    @property
    def id(self) -> str:
        return self.cfg.id

    def values(self) -> tuple[list[int], str]:
        """The register values for what it should show, and why not when it cannot (then: blank)."""
        c = self.cfg
        try:
            return register_values(self.wanted, c.encoding, c.registers, c.blank_value, c.break_value), ""
        except ValueError as exc:
            return register_values(BLANK, c.encoding, c.registers, c.blank_value, c.break_value), str(exc)


class PortLost(Exception):
    pass


class Bus(threading.Thread):
    """One serial port and the boards on it."""

    def __init__(self, port: str, boards: list[Board], *, reconnect_max: float, refresh: float,
                 on_state: Callable[[str, str, str], None], open_port: Callable[..., serial.SerialBase] | None = None):
        super().__init__(name=f"led-bus {port}", daemon=True)
        self.port = port
        self.boards = boards
        self.baudrate = boards[0].cfg.baudrate
        self.reconnect_max = reconnect_max
        self.refresh = refresh
        self.on_state = on_state
        self.open_port = open_port or kit_open_port
        self.serial: serial.SerialBase | None = None
        self.cond = threading.Condition()
        self.stopping = False
        self.backoff = new_backoff(reconnect_max)  # reopening the port
        for b in boards:
            b.backoff = new_backoff(reconnect_max)  # trying a board that did not answer
        self.port_retry_at = 0.0
        self.opens = 0
        # Modbus RTU: at least 3.5 character times of silence between frames (11 bits a character).
        self.gap = max(0.00175, 3.5 * 11 / self.baudrate)

    # ------------------------------------------------------------ control (any thread)
    def show(self, board: Board, shown: Shown) -> None:
        with self.cond:
            if board.wanted != shown:
                board.wanted = shown
                board.retry_at = 0.0  # a new number is tried at once, even on a board in error
                self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()

    # ------------------------------------------------------------ the bus thread
    def run(self) -> None:
        while True:
            try:
                if self.serial is None:
                    if not self._wait_until(lambda now: self.port_retry_at):
                        break
                    self._open()
                self._serve_due()
                if not self._wait_until(self._next_due):
                    break
            except PortLost as exc:
                self._lost(str(exc))
            except Exception:  # noqa: BLE001 - the bus thread must outlive any one bad write
                log.exception("LED bus %s: unexpected error", self.port)
                self._lost("unexpected error (logged)")
        self._close()

    def _wait_until(self, when: Callable[[float], float]) -> bool:
        """Sleep until when(now) has passed or something changed; False once the bus is stopping."""
        with self.cond:
            while not self.stopping:
                now = time.monotonic()
                delay = when(now) - now
                if delay <= 0:
                    return True
                self.cond.wait(delay)
            return False

    def _open(self) -> None:
        try:
            ser = self.open_port(self.port, baudrate=self.baudrate, bytesize=8, parity="N", stopbits=1,
                                 timeout=max(b.cfg.timeout_seconds for b in self.boards), write_timeout=2)
        except (*PORT_ERRORS, ValueError) as exc:
            raise PortLost(f"cannot open {self.port}: {exc}") from None
        self.serial = ser
        self.opens += 1
        self.backoff.reset()
        log.info("LED bus %s open (%d board(s))", self.port, len(self.boards))
        for b in self.boards:
            b.written = None  # rewrite everything: the board may have been powered off meanwhile
            b.retry_at, b.failures = 0.0, 0
            b.backoff.reset()

    def _close(self) -> None:
        if self.serial is not None:
            try:
                self.serial.close()
            except Exception:  # noqa: BLE001 - closing a vanished port may fail; it is gone either way
                pass
            self.serial = None

    def _lost(self, why: str) -> None:
        self._close()
        pause = self.backoff.next_delay()
        self.port_retry_at = time.monotonic() + pause
        log.warning("LED bus %s: %s; trying again in %.1f s", self.port, why, pause)
        for b in self.boards:
            self._set(b, BoardState.DISCONNECTED, why)

    def _due(self, b: Board, now: float) -> bool:
        if now < b.retry_at:
            return False
        return b.written is None or b.values()[0] != b.written or now - b.written_at >= self.refresh

    def _next_due(self, now: float) -> float:
        """When a board next needs a write (called with the lock held)."""
        times = []
        for b in self.boards:
            if now < b.retry_at:
                times.append(b.retry_at)
            elif self._due(b, now):
                return now
            else:
                times.append(b.written_at + self.refresh)
        return min(times)

    def _serve_due(self) -> None:
        """One frame, to the board that needs it most: a first try before a retry, then the order of the bus."""
        now = time.monotonic()
        with self.cond:
            due = [b for b in self.boards if self._due(b, now)]
        if due:
            self._write(min(due, key=lambda b: b.failures > 0))

    def _write(self, b: Board) -> None:
        """One frame to one board. No good answer: the board is due again for its next try (after the other
        boards' first tries), until 1 + retries frames failed in a row; then it is in error and probed with one
        frame after each backoff pause."""
        cfg = b.cfg
        with self.cond:
            shown = b.wanted
            values, problem = b.values()
        if problem and b.failures == 0:
            b.counts["unshowable"] += 1
            log.error("LED board %s cannot show %s: %s; showing blank", b.id, shown, problem)
        frame = modbus.write_registers(cfg.unit_id, cfg.holding_register, values)
        b.counts["writes"] += 1
        try:
            self._transact(cfg, frame)
        except AnswerTimeout as exc:
            b.counts["timeouts"] += 1
            last_error = str(exc)
        except modbus.ExceptionResponse as exc:
            b.counts["exceptions"] += 1
            last_error = str(exc)
            log.warning("LED board %s: %s", b.id, exc)
        except modbus.ModbusError as exc:
            b.counts["bad_answers"] += 1
            # A stable detail (no bytes in it): each new detail is logged as a device event.
            last_error = (f"unit {cfg.unit_id}: answer with a bad CRC" if isinstance(exc, modbus.CrcError)
                          else f"unit {cfg.unit_id}: answer does not confirm the write")
            log.warning("LED board %s: bad frame from the bus: %s", b.id, exc)
        else:
            b.written, b.written_at, b.retry_at, b.failures = values, time.monotonic(), 0.0, 0
            b.backoff.reset()
            b.counts["confirmed"] += 1
            # The detail stays the same from call to call: a change of detail is logged as a device event.
            self._set(b, BoardState.CONNECTED, f"unit {cfg.unit_id} on {self.port}"
                      + (f"; cannot show {shown}: {problem}" if problem else ""))
            return
        b.failures += 1
        if b.failures <= cfg.retries:
            return  # due again: its next try comes after any other board's first
        with self.cond:
            b.retry_at = time.monotonic() + b.backoff.next_delay()
        b.written = None
        self._set(b, BoardState.ERROR, last_error)

    def _transact(self, cfg, frame: bytes) -> None:
        ser = self.serial
        assert ser is not None
        try:
            ser.timeout = cfg.timeout_seconds
            ser.reset_input_buffer()
            ser.write(frame)
            ser.flush()
            if not cfg.expect_reply:
                time.sleep(len(frame) * 11 / self.baudrate + self.gap)
                return
            head = ser.read(2)
            if len(head) < 2:
                raise AnswerTimeout(f"no answer from unit {cfg.unit_id} within {cfg.timeout_seconds} s")
            rest = ser.read(modbus.answer_length(head) - 2)
            answer = head + rest
            time.sleep(self.gap)
        except PORT_ERRORS as exc:
            for b in self.boards:
                if b.cfg is cfg:
                    b.counts["port_errors"] += 1
            raise PortLost(f"port {self.port} failed: {exc}") from None
        if len(answer) < modbus.answer_length(head):
            raise AnswerTimeout(f"answer from unit {cfg.unit_id} cut short: {answer.hex(' ')}")
        modbus.check_answer(frame, answer)

    def _set(self, b: Board, state: BoardState, detail: str) -> None:
        if (b.state, b.detail) == (state, detail):
            return
        changed_state = b.state != state
        b.state, b.detail = state, detail
        if changed_state:
            log.info("LED board %s: %s (%s)", b.id, state.value, detail)
        try:
            self.on_state(b.id, state.value, detail)
        except Exception:  # noqa: BLE001 - a reporting failure must not stop the bus
            log.exception("LED board %s: state report failed", b.id)


class LedDriver:
    """Every LED board of one process (agent or server), grouped by port into buses."""

    def __init__(self, boards: list, *, timeouts: dict | None = None,
                 on_state: Callable[[str, str, str], None] = lambda *_: None,
                 open_port: Callable[..., serial.SerialBase] | None = None):
        timeouts = timeouts or {}
        self.boards: dict[str, Board] = {b.id: Board(b) for b in boards}
        by_port: dict[str, list[Board]] = {}
        for b in self.boards.values():
            by_port.setdefault(b.cfg.port, []).append(b)
        reconnect_max = float(timeouts.get("serial_reconnect_max_seconds", DEFAULT_RECONNECT_MAX))
        refresh = float(timeouts.get("led_refresh_seconds", DEFAULT_REFRESH))
        self.buses = {port: Bus(port, bs, reconnect_max=reconnect_max, refresh=refresh, on_state=on_state,
                                open_port=open_port) for port, bs in by_port.items()}
        self._bus_of = {b.id: self.buses[b.cfg.port] for b in self.boards.values()}

    def start(self) -> "LedDriver":
        for bus in self.buses.values():
            bus.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        for bus in self.buses.values():
            bus.stop()
        for bus in self.buses.values():
            if bus.is_alive():
                bus.join(timeout)

    def counters(self) -> set[str]:
        return {b.cfg.counter for b in self.boards.values()}

    def show(self, board_id: str, shown: Shown) -> None:
        self._bus_of[board_id].show(self.boards[board_id], shown)

    def show_counter(self, counter_id: str, shown: Shown) -> None:
        for b in self.boards.values():
            if b.cfg.counter == counter_id:
                self.show(b.id, shown)

    def states(self) -> dict[str, dict]:
        return {b.id: {"state": b.state.value, "device": b.state.device.value, "detail": b.detail, "shown": str(b.wanted), "counts": dict(b.counts)}
                for b in self.boards.values()}
