"""Modbus RTU frames (CRC-16/MODBUS, functions 06 and 16, answers and exceptions) and LED register values."""
from __future__ import annotations

import pytest

from device_kit.crc import crc16_modbus, crc16_ok, with_crc16
from displays.shared import modbus as M
from displays.shared.led_values import BLANK, BREAK, Shown, register_values, shown_for, shown_for_counter


# ------------------------------------------------------------------ CRC
@pytest.mark.parametrize("body, crc_on_wire", [
    ("01 06 00 01 00 03", "98 0b"),  # the Modbus specification's example
    ("01 03 00 00 00 0a", "c5 cd"),
    ("11 03 00 6b 00 03", "76 87"),  # Modbus over serial line guide
    ("01 04 00 00 00 01", "31 ca"),
    ("11 06 00 01 00 03", "9a 9b"),  # the specification's function 06 example
    ("11 10 00 01 00 02 04 00 0a 01 02", "c6 f0"),  # ... function 16 request
    ("11 10 00 01 00 02", "12 98"),  # ... and its answer
])
def test_crc_vectors(body, crc_on_wire):
    frame = with_crc16(bytes.fromhex(body))
    assert frame[-2:] == bytes.fromhex(crc_on_wire)
    assert crc16_ok(frame)


def test_crc_check_value():
    assert crc16_modbus(b"123456789") == 0x4B37  # the catalogued check value of CRC-16/MODBUS


@pytest.mark.parametrize("flip", range(8))
def test_any_flipped_bit_breaks_the_crc(flip):
    frame = bytearray(M.write_single_register(1, 1, 3))
    frame[flip] ^= 0x01 << (flip % 8)
    assert not crc16_ok(bytes(frame))


# ------------------------------------------------------------------ requests
@pytest.mark.parametrize("unit, address, value, wire", [
    (1, 1, 3, "01 06 00 01 00 03 98 0b"),
    (17, 1, 3, "11 06 00 01 00 03 9a 9b"),
    (2, 0, 1005, None),
    (247, 0xFFFF, 0xFFFF, None),
    (0, 0, 0, None),  # broadcast
])
def test_write_single_register(unit, address, value, wire):
    frame = M.write_single_register(unit, address, value)
    assert len(frame) == 8 and frame[0] == unit and frame[1] == 6
    if wire:
        assert frame == bytes.fromhex(wire)
    req = M.decode_request(frame)
    assert (req.unit, req.function, req.address, req.values) == (unit, 6, address, (value,))


@pytest.mark.parametrize("values", [[10, 258], [0x4130, 0x3031], [1] * 123])
def test_write_multiple_registers(values):
    frame = M.write_multiple_registers(1, 1, values)
    assert frame[1] == 0x10 and frame[6] == 2 * len(values) and len(frame) == 9 + 2 * len(values)
    assert M.decode_request(frame).values == tuple(values)
    assert M.write_registers(1, 1, values) == frame
    assert M.write_registers(1, 1, values[:1])[1] == 6


@pytest.mark.parametrize("call", [
    lambda: M.write_single_register(248, 0, 0),
    lambda: M.write_single_register(-1, 0, 0),
    lambda: M.write_single_register(1, 65536, 0),
    lambda: M.write_single_register(1, 0, 65536),
    lambda: M.write_single_register(1, 0, -1),
    lambda: M.write_single_register(1, 0, True),
    lambda: M.write_multiple_registers(1, 0, []),
    lambda: M.write_multiple_registers(1, 0, [0] * 124),
    lambda: M.write_multiple_registers(1, 65535, [0, 0]),
])
def test_bad_requests_are_refused(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("frame, error", [
    ("01 06 00 01 00 03 98 0c", M.CrcError),
    ("01 06 00 01 00 03", M.FrameError),
    (None, M.FrameError),  # fn 16 whose byte count disagrees
    ("01 03 00 00 00 0a c5 cd", M.FrameError),  # a read, not a write
])
def test_decode_request_rejects(frame, error):
    if frame is None:
        raw = bytearray(M.write_multiple_registers(1, 0, [1, 2]))[:-2]
        raw[6] = 3
        data = with_crc16(bytes(raw))
    else:
        data = bytes.fromhex(frame)
    with pytest.raises(error):
        M.decode_request(data)


# ------------------------------------------------------------------ answers
def test_echo_confirms_function_06():
    req = M.write_single_register(1, 1, 3)
    M.check_answer(req, req)
    assert M.answer_length(req[:2]) == 8


def test_function_16_answer():
    spec = M.write_multiple_registers(17, 1, [10, 258])
    assert spec == bytes.fromhex("11 10 00 01 00 02 04 00 0a 01 02 c6 f0")
    assert M.expected_answer(spec) == bytes.fromhex("11 10 00 01 00 02 12 98")
    req = M.write_multiple_registers(3, 10, [1, 2, 3])
    answer = M.expected_answer(req)
    assert answer == with_crc16(bytes([3, 0x10, 0, 10, 0, 3]))
    M.check_answer(req, answer)


@pytest.mark.parametrize("answer_hex, error, text", [
    ("01 86 02", M.ExceptionResponse, "illegal data address"),
    ("01 86 03", M.ExceptionResponse, "illegal data value"),
    ("01 86 06", M.ExceptionResponse, "busy"),
    ("02 06 00 01 00 03", M.FrameError, "unit 2"),
    ("01 06 00 01 00 04", M.FrameError, "does not confirm"),
    ("01 06 00 02 00 03", M.FrameError, "does not confirm"),
])
def test_bad_answers(answer_hex, error, text):
    req = M.write_single_register(1, 1, 3)
    with pytest.raises(error, match=text):
        M.check_answer(req, with_crc16(bytes.fromhex(answer_hex)))


def test_exception_answer_length_and_code():
    answer = with_crc16(bytes.fromhex("01 86 02"))
    assert M.answer_length(answer[:2]) == 5
    with pytest.raises(M.ExceptionResponse) as exc:
        M.check_answer(M.write_single_register(1, 1, 3), answer)
    assert exc.value.code == 2 and exc.value.function == 6


@pytest.mark.parametrize("answer", [b"", b"\x01\x06", bytes.fromhex("01 06 00 01 00 03 98 0c")])
def test_short_or_corrupt_answers(answer):
    with pytest.raises(M.ModbusError):
        M.check_answer(M.write_single_register(1, 1, 3), answer)


# ------------------------------------------------------------------ what a board shows
@pytest.mark.parametrize("state, code, shown", [
    ("open", "1005", Shown("code", "1005")), ("open", None, BLANK), ("break", None, BREAK),
    ("break", "1005", BREAK), ("closed", None, BLANK), ("closed", "1005", BLANK), (None, None, BLANK),
])
def test_shown_for(state, code, shown):
    assert shown_for(state, code) == shown


@pytest.mark.parametrize("counter, shown", [
    ({"state": "open", "current": {"code": "A001", "status": "called"}}, Shown("code", "A001")),
    ({"state": "open", "current": {"code": "A001", "status": "serving"}}, Shown("code", "A001")),
    ({"state": "open", "current": {"code": "A001", "status": "done"}}, BLANK),
    ({"state": "open", "current": None}, BLANK),
    ({"state": "break", "current": None}, BREAK),
    ({"state": "closed"}, BLANK),
    (None, BLANK),
])
def test_shown_for_counter(counter, shown):
    assert shown_for_counter(counter) == shown


@pytest.mark.parametrize("shown, encoding, registers, values", [
    (Shown("code", "1005"), "number", 1, [1005]),
    (Shown("code", "A001"), "number", 1, [1]),
    (Shown("code", "TKQ012"), "number", 1, [12]),
    (Shown("code", "65535"), "number", 1, [65535]),
    (Shown("code", "999999"), "number", 2, [15, 16959]),
    (BLANK, "number", 1, [0xFFFF]),
    (BREAK, "number", 1, [0xFFFF]),
    (Shown("code", "1005"), "bcd", 1, [0x1005]),
    (Shown("code", "A001"), "bcd", 1, [0x0001]),
    (Shown("code", "999999"), "bcd", 2, [0x0099, 0x9999]),
    (Shown("code", "A001"), "ascii", 2, [0x4130, 0x3031]),
    (Shown("code", "1005"), "ascii", 3, [0x2020, 0x3130, 0x3035]),
    (Shown("code", "B12"), "ascii", 2, [0x2042, 0x3132]),
    (BLANK, "ascii", 2, [0x2020, 0x2020]),
    (BREAK, "ascii", 2, [0x2D2D, 0x2D2D]),
])
def test_register_values(shown, encoding, registers, values):
    assert register_values(shown, encoding, registers) == values


def test_blank_and_break_values_are_settings():
    assert register_values(BLANK, "number", 1, blank_value=0, break_value=0xAAAA) == [0]
    assert register_values(BREAK, "bcd", 1, blank_value=0, break_value=0xAAAA) == [0xAAAA]
    assert register_values(BREAK, "number", 2, blank_value=0, break_value=7) == [7, 7]


@pytest.mark.parametrize("shown, encoding, registers", [
    (Shown("code", "65536"), "number", 1),
    (Shown("code", "12345"), "bcd", 1),
    (Shown("code", "A0001"), "ascii", 2),
    (Shown("code", "ABC"), "number", 1),
    (Shown("code", "1"), "number", 3),
    (Shown("code", "1"), "morse", 1),
])
def test_codes_that_do_not_fit(shown, encoding, registers):
    with pytest.raises(ValueError):
        register_values(shown, encoding, registers)
