"""The binary decoders: RS485 multi-drop frames (`rs485-frame`) and Linux input events (`keyboard`)."""
from __future__ import annotations

import struct

from device_kit.crc import CHECKSUMS
from feedback_buttons.agent.decoders.base import SAMPLE, Decoder, Dropped, Event, Press, _sample, register


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
