"""The port protocol every agent reads and writes through, and the factory that opens one from config.

    port = open_port("/dev/ttyUSB0", baudrate=9600, timeout=0.2)   # pyserial: any of its URLs too
    port = open_port("fake://loopback")                             # no hardware: a fake, chosen by config

A `port:` value `fake://<kind>[/<name>]` opens the fake registered for <kind> (`register_fake`), the way a
virtual printer is plugged in by a factory hook: the agent code is the same for a fake and for a real port.
Built in: `wire` (a plain line: the device's side is played through `feed`), `loopback` (what is written is
read back), `silent` (writes are taken, nothing is ever read).
Device packages register their own (e.g. a Modbus LED board that answers its writes). The fake opened last
for a URL is kept in `opened`, so a test or a demo can play the device's side (`feed`, `unplug`).
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Protocol, runtime_checkable

FAKE_SCHEME = "fake://"


@runtime_checkable
class Port(Protocol):
    """What an agent needs of a port (pyserial's Serial has all of it)."""

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def close(self) -> None: ...


class FakePort:
    """A port in memory. The agent's side: read / write / flush / reset_input_buffer / close / in_waiting, with
    pyserial's meaning (read waits up to `timeout` seconds). The device's side: `feed` (bytes the device sends),
    `written` (what the agent wrote), `answer` (a reply for each write), `unplug` (the next use fails)."""

    def __init__(self, url: str = "fake://", *, timeout: float | None = 0.2,
                 answer: Callable[[bytes], bytes] | None = None, **_settings):
        self.url = url
        self.timeout = timeout
        self.answer = answer
        self.written = bytearray()
        self.writes: list[bytes] = []
        self._rx = bytearray()
        self._cond = threading.Condition()
        self.is_open = True
        self.unplugged = False

    # ------------------------------------------------------------ the agent's side
    def _check(self) -> None:
        if self.unplugged:
            raise OSError(5, f"Input/output error: {self.url} was unplugged")
        if not self.is_open:
            raise OSError(9, f"{self.url} is closed")

    @property
    def in_waiting(self) -> int:
        with self._cond:
            return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._cond:
            while True:
                self._check()
                if self._rx:
                    out = bytes(self._rx[:size])
                    del self._rx[:size]
                    return out
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return b""
                self._cond.wait(left)

    def write(self, data: bytes) -> int:
        with self._cond:
            self._check()
            self.written += data
            self.writes.append(bytes(data))
            self._cond.notify_all()
        if self.answer is not None:
            reply = self.answer(bytes(data))
            if reply:
                self.feed(reply)
        return len(data)

    def flush(self) -> None:
        self._check()

    def reset_input_buffer(self) -> None:
        with self._cond:
            self._check()
            self._rx.clear()

    def close(self) -> None:
        with self._cond:
            self.is_open = False
            self._cond.notify_all()

    # ------------------------------------------------------------ the device's side
    def feed(self, data: bytes) -> None:
        with self._cond:
            self._rx += data
            self._cond.notify_all()

    def unplug(self) -> None:
        with self._cond:
            self.unplugged = True
            self._cond.notify_all()


def _silent(url: str, **settings) -> FakePort:
    port = FakePort(url, **settings)
    port.feed = lambda data: None  # noqa: E731 - a device that never says anything
    return port


def _loopback(url: str, **settings) -> FakePort:
    return FakePort(url, answer=lambda data: data, **settings)


_FAKES: dict[str, Callable[..., Port]] = {"wire": FakePort, "loopback": _loopback, "silent": _silent}
opened: dict[str, Port] = {}  # fake URL -> the port opened last for it


def register_fake(kind: str, factory: Callable[..., Port]) -> None:
    """Make `fake://<kind>[/<name>]` open factory(url, **settings)."""
    _FAKES[kind] = factory


def fake_kinds() -> list[str]:
    return sorted(_FAKES)


def open_port(url: str, **settings) -> Port:
    """A port from its config value: `fake://<kind>[/<name>]` opens a registered fake, anything else is a
    pyserial URL or device path (settings: baudrate, timeout, write_timeout, ...)."""
    if url.startswith(FAKE_SCHEME):
        kind = url[len(FAKE_SCHEME):].split("/", 1)[0].split("?", 1)[0]
        if kind not in _FAKES:
            raise ValueError(f"unknown fake port {url!r} (known: {', '.join(fake_kinds())})")
        port = _FAKES[kind](url, **settings)
        opened[url] = port
        return port
    import serial

    return serial.serial_for_url(url, **settings)
