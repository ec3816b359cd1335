"""Satisfaction keypad decoders: bytes in, events out. Pure: no serial port, no clock, no server.

A decoder is fed the bytes of one port as they arrive, in chunks of any size, and returns what it can decide
so far: `Press` (a button or a level), `Heartbeat`, or `Dropped` (garbage, a partial frame, a bad checksum,
an out-of-range button, a retransmission). Feeding any split of a byte stream gives the same events as feeding
it whole (every decision depends on the bytes only, never on where a chunk ended); `flush()` at the end of the
stream (port closed) reports what was left over as a partial frame. Nothing raises on bad input.

Decoders are pluggable: `register("name")` adds a class to the registry, and `create()` also accepts
"package.module:Class" for a decoder that lives outside this project.

Built in:
  qms-line     the project's own ASCII line protocol (docs/keypad-protocol.md): device id, sequence number,
               button or level, CRC-8, heartbeat, optional acknowledgement from the host
  ascii-line   vendor USB-serial keypads sending short lines such as `K03,2`, read by a configurable pattern
  rs485-frame  binary multi-drop frames: start byte, address, button, checksum, end byte (layout configurable)
  keyboard     Linux input events (/dev/input/event*) of a USB keypad that types keys 1-9
"""
from __future__ import annotations

import importlib
import re
import struct
from dataclasses import dataclass
from typing import Callable, ClassVar, Union

from device_kit.crc import CHECKSUMS, crc8

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
# One copy of each, in the device kit: crc8 (CRC-8/SMBUS, "123456789" -> 0xF4) for the QMS line protocol;
# sum8, xor8, crc8 and crc16-modbus (sent low byte first) for rs485-frame keypads.


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


# ------------------------------------------------------------------ line framing shared by the ASCII decoders
class _Lines(Decoder):
    """Lines ended by CR or LF (either or both). A line longer than `max_line` is dropped once and skipped
    to its end. `start` (optional): a byte that always begins a new frame, even in the middle of noise."""

    start: int | None = None

    def __init__(self, max_line: int = 80):
        if not 8 <= max_line <= 1024:
            raise ValueError("max_line must be 8-1024")
        self.max_line = max_line
        self.buf = bytearray()
        self.in_frame = self.start is None
        self.skipping = False
        self.garbage = bytearray()
        self.garbage_n = 0

    def _garbage_out(self, out: list) -> None:
        if self.garbage_n:
            out.append(Dropped("garbage", f"{self.garbage_n} byte(s) outside a frame", bytes(self.garbage)))
            self.garbage = bytearray()
            self.garbage_n = 0

    def feed(self, data: bytes) -> list[Event]:
        out: list[Event] = []
        for b in bytes(data):
            if self.start is not None and b == self.start:
                if self.in_frame and self.buf:
                    out.append(Dropped("partial", "frame cut short by the next one", _sample(self.buf)))
                self._garbage_out(out)
                self.buf = bytearray([b])
                self.in_frame, self.skipping = True, False
            elif b in (0x0A, 0x0D):
                if self.skipping:
                    self.skipping = False
                elif self.in_frame and self.buf:
                    self._garbage_out(out)
                    out.extend(self.line(bytes(self.buf)))
                else:
                    self._garbage_out(out)
                self.buf = bytearray()
                self.in_frame = self.start is None
            elif self.skipping:
                continue
            elif self.in_frame:
                self.buf.append(b)
                if len(self.buf) > self.max_line:
                    self._garbage_out(out)
                    out.append(Dropped("too_long", f"line longer than {self.max_line} bytes", _sample(self.buf)))
                    self.buf = bytearray()
                    self.skipping = True
                    self.in_frame = self.start is None
            else:
                self.garbage_n += 1
                if len(self.garbage) < SAMPLE:
                    self.garbage.append(b)
        return out

    def flush(self) -> list[Event]:
        out: list[Event] = []
        self._garbage_out(out)
        if self.buf:
            out.append(Dropped("partial", "the stream ended inside a frame", _sample(self.buf)))
        self.buf = bytearray()
        self.skipping = False
        self.in_frame = self.start is None
        return out

    def line(self, raw: bytes) -> list[Event]:  # pragma: no cover - interface
        raise NotImplementedError


# ------------------------------------------------------------------ the project's own line protocol
QMS_DEVICE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
QMS_SEQ = re.compile(r"^[0-9]{1,5}$")
QMS_VALUE = re.compile(r"^([BL])([0-9]{1,2})$")
QMS_CRC = re.compile(r"^[0-9A-Fa-f]{2}$")


def qms_frame(kind: str, device: str, seq: int, value: str | None = None) -> bytes:
    """Encode one qms-line frame, e.g. qms_frame("P", "K01", 42, "B3") -> b"$P,K01,42,B3*F6\\r\\n"."""
    body = f"{kind},{device},{seq}" + (f",{value}" if value is not None else "")
    return f"${body}*{crc8(body.encode('ascii')):02X}\r\n".encode("ascii")


@register("qms-line")
class QmsLineDecoder(_Lines):
    """`$P,<device>,<seq>,B<button>|L<level>*<CRC-8 hex>` presses, `$H,<device>,<seq>*<crc>` heartbeats;
    the host answers a press with `$A,<device>,<seq>*<crc>`. A press repeating the previous frame of its
    device (same seq and value) is a retransmission: acknowledged again, not counted."""

    start = ord("$")

    def __init__(self, max_line: int = 64, max_level: int = 10):
        super().__init__(max_line)
        self.max_level = max_level
        self.last: dict[str, tuple[str, int, str | None]] = {}

    def line(self, raw: bytes) -> list[Event]:
        if any(b < 0x20 or b > 0x7E for b in raw):
            return [Dropped("malformed", "non-ASCII byte in a frame", _sample(raw))]
        text = raw.decode("ascii")[1:]
        body, star, crc = text.rpartition("*")
        if not star or not QMS_CRC.match(crc):
            return [Dropped("malformed", "no *XX checksum at the end", _sample(raw))]
        if crc8(body.encode("ascii")) != int(crc, 16):
            return [Dropped("checksum", f"checksum {crc.upper()} != {crc8(body.encode('ascii')):02X}", _sample(raw))]
        fields = body.split(",")
        kind = fields[0]
        if kind == "A":
            return []  # the host's own acknowledgement echoed back (RS485 half duplex, loopback): not for us
        if kind not in ("P", "H") or len(fields) != (4 if kind == "P" else 3):
            return [Dropped("malformed", f"unknown frame type or field count: {body[:30]!r}", _sample(raw))]
        device, seq_text = fields[1], fields[2]
        if not QMS_DEVICE.match(device) or not QMS_SEQ.match(seq_text) or int(seq_text) > 65535:
            return [Dropped("malformed", "bad device id or sequence number", _sample(raw))]
        seq = int(seq_text)
        if kind == "H":
            self.last[device] = ("H", seq, None)
            return [Heartbeat(device, seq)]
        m = QMS_VALUE.match(fields[3])
        if not m:
            return [Dropped("malformed", f"value must be B<button> or L<level>, got {fields[3][:10]!r}", _sample(raw))]
        number = int(m.group(2))
        ack = qms_frame("A", device, seq)
        if number < 1 or (m.group(1) == "L" and number > self.max_level):
            return [Dropped("out_of_range", f"{fields[3]} is out of range", _sample(raw))]
        if self.last.get(device) == ("P", seq, fields[3]):
            return [Dropped("duplicate", f"retransmission of {device} #{seq}", _sample(raw), ack=ack, device=device)]
        self.last[device] = ("P", seq, fields[3])
        if m.group(1) == "B":
            return [Press(device, button=str(number), seq=seq, ack=ack)]
        return [Press(device, level=number, seq=seq, ack=ack)]


# ------------------------------------------------------------------ vendor ASCII lines
DEFAULT_PATTERN = r"^\s*(?P<device>K\d{1,3})\s*,\s*(?P<button>\d{1,2})\s*$"


def check_pattern(pattern: str) -> re.Pattern:
    """Compile an ascii-line pattern; it must name a `button` or a `level` group (`device` optional)."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    groups = set(rx.groupindex)
    if not groups & {"button", "level"}:
        raise ValueError("the pattern must have a (?P<button>...) or (?P<level>...) group")
    if groups - {"button", "level", "device"}:
        raise ValueError(f"unknown group(s) {sorted(groups - {'button', 'level', 'device'})}; use device, button, level")
    return rx


@register("ascii-line")
class AsciiLineDecoder(_Lines):
    """One press per line, read by a regular expression with groups `device` (optional) and `button` (or
    `level`): the default reads `K03,2` as device K03, button 2. Lines that do not match are dropped."""

    def __init__(self, pattern: str = DEFAULT_PATTERN, max_line: int = 64, max_level: int = 10):
        super().__init__(max_line)
        self.pattern = check_pattern(pattern)
        self.max_level = max_level

    def line(self, raw: bytes) -> list[Event]:
        if any((b < 0x20 and b != 0x09) or b > 0x7E for b in raw):
            return [Dropped("garbage", "non-ASCII byte in a line", _sample(raw))]
        m = self.pattern.search(raw.decode("ascii"))
        if m is None:
            return [Dropped("garbage", "line does not match the pattern", _sample(raw))]
        groups = m.groupdict()
        device = (groups.get("device") or "").strip()
        value = groups.get("button") if groups.get("button") is not None else groups.get("level")
        if value is None or not value.strip().isdigit():
            return [Dropped("malformed", "button or level is not a number", _sample(raw))]
        number = int(value.strip())
        if groups.get("button") is not None:
            if not 1 <= number <= 99:
                return [Dropped("out_of_range", f"button {number} is out of range", _sample(raw))]
            return [Press(device, button=str(number))]
        if not 1 <= number <= self.max_level:
            return [Dropped("out_of_range", f"level {number} is out of range", _sample(raw))]
        return [Press(device, level=number)]


# ------------------------------------------------------------------ RS485 binary frames
@register("rs485-frame")
class Rs485FrameDecoder(Decoder):
    """Fixed-length binary frames on a multi-drop bus. Default layout (5 bytes):
    0xAA, address, button, sum8(address, button), 0x55. Every position is configurable; a frame that fails
    its checksum or end byte is dropped and the search resumes one byte after its start byte."""

    def __init__(self, start: int = 0xAA, end: int | None = 0x55, length: int = 5, address_at: int = 1,
                 button_at: int = 2, checksum: str = "sum8", checksum_at: int = 3, checksum_from: int = 1,
                 checksum_to: int = 3):
        if checksum not in CHECKSUMS:
            raise ValueError(f"checksum must be one of {', '.join(CHECKSUMS)}")
        size = CHECKSUMS[checksum][0]
        if not 2 <= length <= 64:
            raise ValueError("length must be 2-64")
        for name, pos in (("address_at", address_at), ("button_at", button_at)):
            if not 1 <= pos < length:
                raise ValueError(f"{name} must be inside the frame (1..{length - 1})")
        if size and not (1 <= checksum_at and checksum_at + size <= length):
            raise ValueError("checksum_at must leave room for the checksum inside the frame")
        if size and not (0 <= checksum_from < checksum_to <= length):
            raise ValueError("checksum_from..checksum_to must be a range inside the frame")
        used = [0, address_at, button_at, *range(checksum_at, checksum_at + size)] + ([length - 1] if end is not None else [])
        if len(set(used)) != len(used):
            raise ValueError("the start byte, address_at, button_at, checksum_at (and its bytes) and the end byte "
                             "must be at different positions")
        if not (0 <= start <= 255) or (end is not None and not 0 <= end <= 255):
            raise ValueError("start and end must be byte values 0-255")
        self.start, self.end, self.length = start, end, length
        self.address_at, self.button_at = address_at, button_at
        self.checksum, self.checksum_at = checksum, checksum_at
        self.checksum_from, self.checksum_to = checksum_from, checksum_to
        self.buf = bytearray()
        self.garbage = bytearray()
        self.garbage_n = 0

    def _expected(self, frame: bytes) -> bytes:
        size, fn = CHECKSUMS[self.checksum]
        value = fn(frame[self.checksum_from:self.checksum_to])
        return value.to_bytes(size, "little") if size else b""

    def _check(self, frame: bytes) -> Event:
        if self.end is not None and frame[-1] != self.end:
            return Dropped("malformed", f"end byte {frame[-1]:#04x} != {self.end:#04x}", frame)
        size = CHECKSUMS[self.checksum][0]
        if size and frame[self.checksum_at:self.checksum_at + size] != self._expected(frame):
            return Dropped("checksum", "checksum mismatch", frame)
        button = frame[self.button_at]
        if not 1 <= button <= 99:
            return Dropped("out_of_range", f"button {button} is out of range", frame)
        return Press(str(frame[self.address_at]), button=str(button))

    def feed(self, data: bytes) -> list[Event]:
        self.buf += data
        out: list[Event] = []
        i = 0
        buf = self.buf
        while True:
            j = buf.find(self.start, i)
            if j < 0:
                self._count_garbage(buf[i:])
                i = len(buf)
                break
            self._count_garbage(buf[i:j])
            i = j
            if len(buf) - j < self.length:
                break  # wait for the rest of the frame
            if self.garbage_n:
                out.append(Dropped("garbage", f"{self.garbage_n} byte(s) outside a frame", bytes(self.garbage)))
                self.garbage, self.garbage_n = bytearray(), 0
            frame = bytes(buf[j:j + self.length])
            event = self._check(frame)
            out.append(event)
            i = j + self.length if isinstance(event, Press) or event.reason == "out_of_range" else j + 1
        self.buf = buf[i:]
        return out

    def _count_garbage(self, chunk) -> None:
        if chunk:
            self.garbage_n += len(chunk)
            if len(self.garbage) < SAMPLE:
                self.garbage += chunk[:SAMPLE - len(self.garbage)]

    def flush(self) -> list[Event]:
        out: list[Event] = []
        if self.garbage_n:
            out.append(Dropped("garbage", f"{self.garbage_n} byte(s) outside a frame", bytes(self.garbage)))
        if self.buf:
            out.append(Dropped("partial", f"{len(self.buf)} byte(s) of an unfinished frame", _sample(self.buf)))
        self.buf, self.garbage, self.garbage_n = bytearray(), bytearray(), 0
        return out


def rs485_frame(address: int, button: int, **layout) -> bytes:
    """Encode one frame in a layout (defaults as Rs485FrameDecoder), for tests and device makers."""
    dec = Rs485FrameDecoder(**layout)
    frame = bytearray(dec.length)
    frame[0] = dec.start
    frame[dec.address_at] = address
    frame[dec.button_at] = button
    if dec.end is not None:
        frame[-1] = dec.end
    size = CHECKSUMS[dec.checksum][0]
    if size:
        frame[dec.checksum_at:dec.checksum_at + size] = dec._expected(bytes(frame))
    return bytes(frame)


# ------------------------------------------------------------------ USB keypads that type keys (Linux input events)
EV_KEY = 0x01
EV_MAX = 0x1F
# Linux key codes: KEY_1..KEY_9 are 2..10; the keypad's KP1..KP9.
KEY_BUTTONS = {2 + i: str(1 + i) for i in range(9)}
KEY_BUTTONS.update({79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9"})
INPUT_EVENT = "llHHi"  # struct input_event: struct timeval, __u16 type, __u16 code, __s32 value


@register("keyboard")
class KeyboardDecoder(Decoder):
    """`struct input_event` records read from /dev/input/event*: a key going down (value 1) on 1-9 or the
    numeric keypad's 1-9 is a press; key releases, auto-repeat and sync events are ignored."""

    def __init__(self, event_format: str = INPUT_EVENT):
        try:
            self.struct = struct.Struct(event_format)
        except struct.error as exc:
            raise ValueError(f"bad event_format: {exc}") from None
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[Event]:
        self.buf += data
        size = self.struct.size
        out: list[Event] = []
        n = len(self.buf) // size
        for k in range(n):
            record = bytes(self.buf[k * size:(k + 1) * size])
            *_, etype, code, value = self.struct.unpack(record)
            if etype > EV_MAX:
                out.append(Dropped("garbage", f"event type {etype} is not a Linux input event", record))
            elif etype == EV_KEY and value == 1:
                button = KEY_BUTTONS.get(code)
                if button is None:
                    out.append(Dropped("out_of_range", f"key code {code} is not a rating key", record))
                else:
                    out.append(Press("", button=button))
        del self.buf[:n * size]
        return out

    def flush(self) -> list[Event]:
        out: list[Event] = []
        if self.buf:
            out.append(Dropped("partial", f"{len(self.buf)} byte(s) of an unfinished input event", _sample(self.buf)))
        self.buf = bytearray()
        return out


def key_event(code: int, value: int = 1, event_format: str = INPUT_EVENT) -> bytes:
    """One input event record (for tests): EV_KEY `code` going down (1) or up (0)."""
    return struct.pack(event_format, 0, 0, EV_KEY, code, value)
