"""The device kit: one back-off (driven by an injected clock and random source: no sleeps), the checksums on
the wire, ports opened from config with a fake for `fake://...`, and one state enum every transport maps onto."""
from __future__ import annotations

import random

import pytest
import serial

from device_kit import (Backoff, DeviceState, FakePort, TransportState, crc8, crc16_modbus, crc16_ok, open_port,
                        register_fake, sum8, with_crc16, xor8)
from device_kit import ports as P


class Monotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ------------------------------------------------------------------ back-off
def test_backoff_doubles_up_to_its_cap():
    b = Backoff(0.5, 4)
    assert [b.next_delay() for _ in range(7)] == [0.5, 1, 2, 4, 4, 4, 4]
    assert b.attempt == 7 and list(b.recent) == [0.5, 1, 2, 4, 4, 4, 4]
    b.reset()
    assert b.next_delay() == 0.5


def test_backoff_factor_and_a_cap_below_the_doubling():
    b = Backoff(1, 10, factor=3)
    assert [b.next_delay() for _ in range(4)] == [1, 3, 9, 10]


def test_jitter_shortens_each_pause_within_its_share():
    b = Backoff(0.5, 4, jitter=0.5, rng=random.Random(7).random)
    delays = [b.next_delay() for _ in range(8)]
    highs = [0.5, 1, 2, 4, 4, 4, 4, 4]
    assert all(h / 2 <= d <= h for d, h in zip(delays, highs)), delays
    assert len({round(d, 9) for d in delays[3:]}) == 5, "randomised: a fleet does not retry in step"
    edges = Backoff(2, 2, jitter=0.2, rng=iter([0.0, 1.0]).__next__)
    assert [edges.next_delay(), edges.next_delay()] == [2, pytest.approx(1.6)]


def test_a_connection_that_lasted_starts_the_pauses_again():
    clock = Monotonic()
    b = Backoff(0.5, 30, stable=10, clock=clock)
    assert [b.next_delay() for _ in range(3)] == [0.5, 1, 2]
    b.up()
    clock.advance(9.9)  # up, but not for long: the pauses keep growing
    assert b.next_delay() == 4
    b.up()
    clock.advance(10)  # stayed up 10 s: the next loss is a fresh start
    assert b.next_delay() == 0.5
    clock.advance(60)  # no up() since: a long wait between failures does not count as a connection
    assert b.next_delay() == 1


@pytest.mark.parametrize("kw", [{"first": 0}, {"first": 2, "cap": 1}, {"factor": 0.5}, {"jitter": 1}])
def test_backoff_refuses_settings_that_cannot_work(kw):
    with pytest.raises(ValueError):
        Backoff(**{"first": 0.5, "cap": 30, **kw})


# ------------------------------------------------------------------ checksums
@pytest.mark.parametrize("body, on_wire", [
    ("01 06 00 01 00 03", "98 0b"),  # the Modbus specification's example
    ("11 03 00 6b 00 03", "76 87"),  # Modbus over serial line guide
    ("11 10 00 01 00 02", "12 98"),
])
def test_crc16_modbus_vectors(body, on_wire):
    frame = with_crc16(bytes.fromhex(body))
    assert frame[-2:] == bytes.fromhex(on_wire) and crc16_ok(frame)
    assert not crc16_ok(frame[:-1] + bytes([frame[-1] ^ 1]))
    assert not crc16_ok(frame[:3])


def test_catalogued_check_values():
    assert crc16_modbus(b"123456789") == 0x4B37  # CRC-16/MODBUS
    assert crc8(b"123456789") == 0xF4  # CRC-8/SMBUS, the keypad line protocol's *XX
    assert crc8(b"P,K01,42,B3") == 0x96  # docs/keypad-protocol.md's worked example
    assert sum8(bytes([0xFF, 0x02])) == 0x01 and xor8(bytes([3, 2])) == 1


# ------------------------------------------------------------------ ports
def test_fake_loopback_is_picked_by_its_url_and_behaves_like_a_port():
    port = open_port("fake://loopback/kiosk-1", baudrate=9600, timeout=0.01)
    assert isinstance(port, FakePort) and P.opened["fake://loopback/kiosk-1"] is port
    assert port.write(b"$H,K01,1*00\r\n") == 13
    assert port.in_waiting == 13
    assert port.read(4) == b"$H,K" and port.read(100) == b"01,1*00\r\n"
    assert port.read(1) == b""  # nothing more within the timeout
    port.unplug()
    with pytest.raises(OSError):
        port.read(1)


def test_fake_silent_takes_writes_and_says_nothing():
    port = open_port("fake://silent", timeout=0)
    port.write(b"\x01\x06\x00\x00\x00\x01")
    assert port.written == b"\x01\x06\x00\x00\x00\x01" and port.read(8) == b""
    port.close()
    with pytest.raises(OSError):
        port.write(b"x")


def test_a_package_plugs_its_own_fake_in():
    register_fake("echo-upper", lambda url, **kw: FakePort(url, answer=lambda data: data.upper(), **kw))
    port = open_port("fake://echo-upper/a", timeout=0)
    port.write(b"ok a001")
    assert port.read(10) == b"OK A001"


def test_an_unknown_fake_is_named_and_real_urls_go_to_pyserial():
    with pytest.raises(ValueError, match="unknown fake port 'fake://nope'.*loopback"):
        open_port("fake://nope")
    real = open_port("loop://", timeout=0)  # pyserial's own loopback URL: a real Serial object
    try:
        assert isinstance(real, serial.SerialBase) and not isinstance(real, FakePort)
    finally:
        real.close()


# ------------------------------------------------------------------ states
def test_each_transport_keeps_its_words_and_maps_onto_one_state():
    from displays.agent.driver import BoardState
    from feedback_buttons.agent.keypads import PortState
    from ticket_printer.agent.dispenser import State as DispenserState
    from ticket_printer.agent.escpos_job import OK_STATES, PrinterState

    for enum in (BoardState, PortState, PrinterState, DispenserState):
        assert issubclass(enum, TransportState)
        assert all(isinstance(m.device, DeviceState) for m in enum), enum
    # the words the server and the supervisors see do not change
    assert [m.value for m in BoardState] == ["connected", "disconnected", "error"]
    assert PortState("missing").device is DeviceState.OFFLINE and PortState.STOPPED.value == "offline"
    assert PrinterState("paper_low").device is DeviceState.DEGRADED and PrinterState.PAPER_OUT.device.problem
    assert set(OK_STATES) == {PrinterState.ONLINE, PrinterState.PAPER_LOW}
    assert {m.device for m in (BoardState.CONNECTED, PortState.CONNECTED, PrinterState.ONLINE, DispenserState.ONLINE)} \
        == {DeviceState.ONLINE}
    assert [s for s in DeviceState if s.works] == [DeviceState.ONLINE, DeviceState.DEGRADED]
