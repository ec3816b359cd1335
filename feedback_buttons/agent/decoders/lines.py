"""The line decoders: the project's own `qms-line` protocol and vendor `ascii-line` keypads."""
from __future__ import annotations

import re

from device_kit.crc import crc8
from feedback_buttons.agent.decoders.base import SAMPLE, Decoder, Dropped, Event, Heartbeat, Press, _sample, register


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
