"""Checksums on the wire, one copy each: Modbus RTU frames (LED boards) and the keypad frames.

CRC-16/MODBUS: polynomial 0x8005 reflected (0xA001), initial value 0xFFFF, sent low byte first.
CRC-8 (polynomial 0x07, initial 0): the `*XX` of the QMS keypad line protocol and the crc8 frame checksum.
sum8 and xor8: the simple checksums of vendor RS485 keypad frames.
"""
from __future__ import annotations

from typing import Callable


def crc16_modbus(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc16(body: bytes) -> bytes:
    """A Modbus RTU frame: the body and its CRC-16/MODBUS, low byte first."""
    return bytes(body) + crc16_modbus(body).to_bytes(2, "little")


def crc16_ok(frame: bytes) -> bool:
    return len(frame) >= 4 and crc16_modbus(frame[:-2]) == int.from_bytes(frame[-2:], "little")


def crc8(data: bytes) -> int:
    """CRC-8, polynomial 0x07, initial value 0, no reflection."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def sum8(data: bytes) -> int:
    return sum(data) & 0xFF


def xor8(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


CHECKSUMS: dict[str, tuple[int, Callable[[bytes], int]]] = {
    # name: (size in bytes, function); crc16-modbus is sent low byte first
    "sum8": (1, sum8), "xor8": (1, xor8), "crc8": (1, crc8), "crc16-modbus": (2, crc16_modbus),
    "none": (0, lambda data: 0),
}
