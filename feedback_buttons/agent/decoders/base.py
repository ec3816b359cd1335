"""Keypad decoder events (Press, Heartbeat, Dropped), the Decoder base class and the registry."""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import ClassVar, Union

SAMPLE = 48  # bytes of a dropped frame kept for the log


# ------------------------------------------------------------------ events
@dataclass(frozen=True)
class Press:
    """A button press. `device` is the id or address in the message ("" when the protocol has none);
    exactly one of `button` (as text, "1".."99") and `level` (a level value of the scale) is set."""

    device: str
    button: str | None = None
    level: int | None = None
    seq: int | None = None
    ack: bytes | None = None  # bytes the host may send back once the press is stored


@dataclass(frozen=True)
class Heartbeat:
    device: str
    seq: int | None = None


@dataclass(frozen=True)
class Dropped:
    """Bytes that did not make a usable event. reason: garbage | partial | too_long | checksum | malformed |
    out_of_range | duplicate (a retransmission, acknowledged again but not counted twice)."""

    reason: str
    detail: str = ""
    data: bytes = b""
    ack: bytes | None = None
    device: str = ""  # duplicate: the device to acknowledge again


Event = Union[Press, Heartbeat, Dropped]
REASONS = ("garbage", "partial", "too_long", "checksum", "malformed", "out_of_range", "duplicate")


# ------------------------------------------------------------------ checksums
# One copy of each, in the device kit (device_kit/crc.py): crc8 (CRC-8/SMBUS, "123456789" -> 0xF4) for the QMS
# line protocol; sum8, xor8, crc8 and crc16-modbus (sent low byte first) for rs485-frame keypads.


# ------------------------------------------------------------------ registry
class Decoder:
    """Base class. Subclasses implement feed(); flush() reports what is left at the end of the stream.
    A new connection gets a new decoder (create())."""

    name: ClassVar[str] = ""

    def feed(self, data: bytes) -> list[Event]:  # pragma: no cover - interface
        raise NotImplementedError

    options: dict = {}

    def flush(self) -> list[Event]:
        return []


_REGISTRY: dict[str, type[Decoder]] = {}
PLUGIN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def register(name: str):
    """Class decorator: make a decoder available under `name` (devices.keypads[].decoder)."""

    def deco(cls: type[Decoder]) -> type[Decoder]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def names() -> list[str]:
    return sorted(_REGISTRY)


def decoder_class(name: str) -> type[Decoder]:
    if name in _REGISTRY:
        return _REGISTRY[name]
    if PLUGIN.match(name):
        module, _, attr = name.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        if not (isinstance(cls, type) and issubclass(cls, Decoder)):
            raise ValueError(f"{name} is not a keypad Decoder class")
        return cls
    raise ValueError(f"unknown keypad decoder {name!r} (known: {', '.join(names())}, or package.module:Class)")


def create(name: str, **options) -> Decoder:
    """A fresh decoder by name with its options (unknown options are an error, named)."""
    cls = decoder_class(name)
    try:
        dec = cls(**options)
    except TypeError as exc:
        raise ValueError(f"decoder {name}: {exc}") from None
    dec.options = dict(options)
    return dec


def _sample(data: bytes | bytearray) -> bytes:
    return bytes(data[:SAMPLE])
