"""The device kit: what every agent (LED boards, keypads, printers, dispensers) shares, and nothing else.

- `state`: one state enum (`DeviceState`) that each transport's own state words map onto;
- `backoff`: one capped exponential back-off, with an injectable clock and random source;
- `crc`: one home for the checksums on the wire (CRC-16/MODBUS, CRC-8, sum-8, xor-8);
- `ports`: the port protocol (read/write/close) and `open_port`, which picks a fake for `fake://...`.

Plain Python and pyserial: the kit imports nothing of the server, so an agent installs without it.
"""
from __future__ import annotations

from device_kit.backoff import Backoff
from device_kit.crc import CHECKSUMS, crc8, crc16_modbus, crc16_ok, sum8, with_crc16, xor8
from device_kit.ports import FakePort, Port, open_port, register_fake
from device_kit.state import DeviceState, TransportState

__all__ = ["Backoff", "CHECKSUMS", "DeviceState", "FakePort", "Port", "TransportState", "crc16_modbus", "crc16_ok",
           "crc8", "open_port", "register_fake", "sum8", "with_crc16", "xor8"]
