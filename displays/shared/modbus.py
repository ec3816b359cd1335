"""Modbus RTU frames for LED number boards: build writes, check answers. Pure: no serial port here.

A frame on the wire is: unit id (1 byte), function code (1 byte), data, CRC-16/MODBUS (2 bytes, low byte
first). The boards are written with
  function 06  write single register:    unit 06 addr_hi addr_lo value_hi value_lo crc_lo crc_hi
               answer: the same 8 bytes (an echo)
  function 16  write multiple registers: unit 10 addr(2) count(2) bytes(1) values(2*count) crc(2)
               answer: unit 10 addr(2) count(2) crc(2)
  exception    unit (function|0x80) code crc(2), e.g. 01 86 02 .. .. = illegal data address
"""
from __future__ import annotations

from dataclasses import dataclass

from device_kit.crc import crc16_ok, with_crc16  # CRC-16/MODBUS, low byte first

WRITE_SINGLE = 0x06
WRITE_MULTIPLE = 0x10
MAX_WRITE_REGISTERS = 123  # a function 16 frame carries at most 123 registers

EXCEPTION_NAMES = {
    1: "illegal function", 2: "illegal data address", 3: "illegal data value", 4: "server device failure",
    5: "acknowledge", 6: "server device busy", 8: "memory parity error", 10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


class ModbusError(Exception):
    """An answer that is not the expected one; nothing was confirmed."""


class CrcError(ModbusError):
    pass


class FrameError(ModbusError):
    pass


class ExceptionResponse(ModbusError):
    def __init__(self, unit: int, function: int, code: int):
        self.unit, self.function, self.code = unit, function, code
        super().__init__(f"unit {unit} refused function {function:02d}: exception {code} "
                         f"({EXCEPTION_NAMES.get(code, 'unknown exception')})")


def _check_unit(unit: int) -> None:
    if not isinstance(unit, int) or not 0 <= unit <= 247:
        raise ValueError(f"unit id must be 0-247 (0 = broadcast), got {unit!r}")


def _check_register(address: int, count: int = 1) -> None:
    if not isinstance(address, int) or address < 0 or address + count > 0x10000:
        raise ValueError(f"register address must be 0-65535, got {address!r} (+{count})")


def _check_value(value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF:
        raise ValueError(f"a register holds 0-65535, got {value!r}")


def write_single_register(unit: int, address: int, value: int) -> bytes:
    """Function 06."""
    _check_unit(unit)
    _check_register(address)
    _check_value(value)
    return with_crc16(bytes([unit, WRITE_SINGLE]) + address.to_bytes(2, "big") + value.to_bytes(2, "big"))


def write_multiple_registers(unit: int, address: int, values: list[int]) -> bytes:
    """Function 16 (0x10)."""
    _check_unit(unit)
    if not 1 <= len(values) <= MAX_WRITE_REGISTERS:
        raise ValueError(f"function 16 writes 1-{MAX_WRITE_REGISTERS} registers, got {len(values)}")
    _check_register(address, len(values))
    for v in values:
        _check_value(v)
    data = b"".join(v.to_bytes(2, "big") for v in values)
    return with_crc16(bytes([unit, WRITE_MULTIPLE]) + address.to_bytes(2, "big") + len(values).to_bytes(2, "big")
                    + bytes([len(data)]) + data)


def write_registers(unit: int, address: int, values: list[int]) -> bytes:
    """Function 06 for one register, 16 for more."""
    if len(values) == 1:
        return write_single_register(unit, address, values[0])
    return write_multiple_registers(unit, address, values)


@dataclass(frozen=True)
class Request:
    unit: int
    function: int
    address: int
    values: tuple[int, ...]


def decode_request(frame: bytes) -> Request:
    """A write request (06 or 16) as a board sees it; raises CrcError / FrameError."""
    if len(frame) < 8:
        raise FrameError(f"frame too short ({len(frame)} bytes)")
    if not crc16_ok(frame):
        raise CrcError(f"bad CRC in {frame.hex(' ')}")
    unit, fn = frame[0], frame[1]
    address = int.from_bytes(frame[2:4], "big")
    if fn == WRITE_SINGLE:
        if len(frame) != 8:
            raise FrameError(f"function 06 frame must be 8 bytes, got {len(frame)}")
        return Request(unit, fn, address, (int.from_bytes(frame[4:6], "big"),))
    if fn == WRITE_MULTIPLE:
        count, nbytes = int.from_bytes(frame[4:6], "big"), frame[6]
        if nbytes != 2 * count or len(frame) != 9 + nbytes:
            raise FrameError(f"function 16 frame: count {count}, byte count {nbytes}, length {len(frame)} disagree")
        data = frame[7:7 + nbytes]
        return Request(unit, fn, address, tuple(int.from_bytes(data[i:i + 2], "big") for i in range(0, nbytes, 2)))
    raise FrameError(f"function {fn} is not a register write")


def expected_answer(request: bytes) -> bytes:
    """What a board answers to a write that succeeded."""
    fn = request[1]
    if fn == WRITE_SINGLE:
        return bytes(request)
    if fn == WRITE_MULTIPLE:
        return with_crc16(request[:6])
    raise ValueError(f"not a write request: function {fn}")


def answer_length(head: bytes) -> int:
    """Total length of an answer from its first two bytes (unit, function): 5 for an exception, else 8."""
    if len(head) < 2:
        raise ValueError("need the first two bytes of the answer")
    return 5 if head[1] & 0x80 else 8


def check_answer(request: bytes, answer: bytes) -> None:
    """Raise unless `answer` confirms `request` (CRC, unit, function, register and value or count)."""
    if len(answer) < 5:
        raise FrameError(f"answer too short ({len(answer)} bytes): {answer.hex(' ') or 'nothing'}")
    if not crc16_ok(answer):
        raise CrcError(f"bad CRC in answer {answer.hex(' ')}")
    if answer[0] != request[0]:
        raise FrameError(f"answer from unit {answer[0]}, expected unit {request[0]}")
    if answer[1] == request[1] | 0x80 and len(answer) == 5:
        raise ExceptionResponse(answer[0], request[1], answer[2])
    if answer != expected_answer(request):
        raise FrameError(f"answer {answer.hex(' ')} does not confirm {request.hex(' ')}")
