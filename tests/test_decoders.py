"""Keypad decoders: tables per decoder, chunking invariance, and 10,000 random byte strings through each."""
from __future__ import annotations

import random
import re
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device_kit.crc import CHECKSUMS, crc8
from feedback_buttons.agent import decoders as D
from feedback_buttons.agent.decoders import Dropped, Heartbeat, Press, key_event, qms_frame, rs485_frame

DOC = Path(__file__).parent.parent / "docs" / "keypad-protocol.md"


def run(name: str, data: bytes, chunks: list[int] | None = None, **options) -> list:
    """Feed `data` in pieces of the given sizes (cycled), then flush."""
    dec = D.create(name, **options)
    out, i, k = [], 0, 0
    while i < len(data):
        n = chunks[k % len(chunks)] if chunks else len(data)
        out += dec.feed(data[i:i + max(1, n)])
        i += max(1, n)
        k += 1
    return out + dec.flush()


def kinds(events) -> list[str]:
    out = []
    for e in events:
        if isinstance(e, Press):
            out.append(f"press {e.device}:{'B' + e.button if e.button is not None else 'L' + str(e.level)}")
        elif isinstance(e, Heartbeat):
            out.append(f"heartbeat {e.device}")
        else:
            out.append(f"drop {e.reason}")
    return out


# ------------------------------------------------------------------ checksums
def test_crc8_check_value_and_worked_example():
    assert crc8(b"123456789") == 0xF4
    assert crc8(b"P,K01,42,B3") == 0x96
    assert qms_frame("P", "K01", 42, "B3") == b"$P,K01,42,B3*96\r\n"
    assert qms_frame("A", "K01", 42) == b"$A,K01,42*D0\r\n"


def test_every_frame_in_the_protocol_document_has_a_correct_checksum():
    text = DOC.read_text(encoding="utf-8")
    frames = re.findall(r"\$([PHA],[A-Za-z0-9_-]+,\d+(?:,[BL]\d+)?)\*([0-9A-F]{2})", text)
    assert len(frames) >= 7
    for body, crc in frames:
        assert crc8(body.encode()) == int(crc, 16), f"${body}*{crc}"
    # The worked example's table: the CRC after each byte.
    row = re.search(r"\| CRC after it \|(.*)\|", text).group(1)
    body = b"P,K01,42,B3"
    running = [f"{crc8(body[:i + 1]):02X}" for i in range(len(body))]
    assert [c.strip() for c in row.split("|")] == running


@pytest.mark.parametrize("name,data,value", [
    ("sum8", bytes([3, 2]), 5), ("xor8", bytes([3, 2]), 1), ("crc8", b"123456789", 0xF4),
    ("crc16-modbus", b"123456789", 0x4B37),
])
def test_checksum_table(name, data, value):
    assert CHECKSUMS[name][1](data) == value


# ------------------------------------------------------------------ qms-line
P42 = qms_frame("P", "K01", 42, "B3")
QMS_CASES = [
    ("a press", P42, ["press K01:B3"]),
    ("a level", qms_frame("P", "K01", 7, "L2"), ["press K01:L2"]),
    ("a heartbeat", qms_frame("H", "K01", 43), ["heartbeat K01"]),
    ("LF only", P42.replace(b"\r\n", b"\n"), ["press K01:B3"]),
    ("CR only", P42.replace(b"\r\n", b"\r"), ["press K01:B3"]),
    ("lower-case checksum", b"$P,Q3-7,0,B1*fa\r\n", ["press Q3-7:B1"]),
    ("retransmission counts once", P42 + P42 + P42, ["press K01:B3", "drop duplicate", "drop duplicate"]),
    ("same seq after a heartbeat is new", P42 + qms_frame("H", "K01", 43) + P42,
     ["press K01:B3", "heartbeat K01", "press K01:B3"]),
    ("two devices keep their own seqs", P42 + qms_frame("P", "K02", 42, "B3"), ["press K01:B3", "press K02:B3"]),
    ("noise between frames", b"\x00\xff garbage" + P42 + b"zz\r\n" + qms_frame("H", "K01", 43),
     ["drop garbage", "press K01:B3", "drop garbage", "heartbeat K01"]),
    ("bad checksum", P42.replace(b"*96", b"*97"), ["drop checksum"]),
    ("no checksum", b"$P,K01,42,B3\r\n", ["drop malformed"]),
    ("bad checksum digits", b"$P,K01,42,B3*G1\r\n", ["drop malformed"]),
    ("unknown type", qms_frame("X", "K01", 1, "B1"), ["drop malformed"]),
    ("missing value", qms_frame("P", "K01", 1), ["drop malformed"]),
    ("heartbeat with a value", qms_frame("H", "K01", 1, "B1"), ["drop malformed"]),
    ("bad value", qms_frame("P", "K01", 1, "X1"), ["drop malformed"]),
    ("seq too large", qms_frame("P", "K01", 65536, "B1"), ["drop malformed"]),
    ("device id with a space", qms_frame("P", "K 1", 1, "B1"), ["drop malformed"]),
    ("button 0", qms_frame("P", "K01", 1, "B0"), ["drop out_of_range"]),
    ("level 11", qms_frame("P", "K01", 1, "L11"), ["drop out_of_range"]),
    ("frame cut by the next one", P42[:8] + P42, ["drop partial", "press K01:B3"]),
    ("frame cut by the end", P42[:10], ["drop partial"]),
    ("too long", b"$P," + b"9" * 100 + b"\r\n" + P42, ["drop too_long", "press K01:B3"]),
    ("non-ASCII inside", b"$P,K\xc3\xa901,42,B3*96\r\n", ["drop malformed"]),
    ("host ack echoed back is ignored", qms_frame("A", "K01", 42) + P42, ["press K01:B3"]),
    ("blank lines are not garbage", b"\r\n\r\n" + P42 + b"\n\n", ["press K01:B3"]),
]


@pytest.mark.parametrize("label,data,expected", QMS_CASES, ids=[c[0] for c in QMS_CASES])
def test_qms_line(label, data, expected):
    assert kinds(run("qms-line", data)) == expected


def test_qms_line_press_fields_and_ack():
    [p] = run("qms-line", P42)
    assert p == Press("K01", button="3", seq=42, ack=b"$A,K01,42*D0\r\n")
    dup = run("qms-line", P42 + P42)[1]
    assert dup.reason == "duplicate" and dup.ack == b"$A,K01,42*D0\r\n" and dup.device == "K01"


# ------------------------------------------------------------------ ascii-line
ASCII_CASES = [
    ("vendor line", b"K03,2\r\n", {}, ["press K03:B2"]),
    ("spaces and LF", b" K03 , 2 \n", {}, ["press K03:B2"]),
    ("leading zero button", b"K03,02\r\n", {}, ["press K03:B2"]),
    ("two lines in one write", b"K03,2\r\nK04,1\r\n", {}, ["press K03:B2", "press K04:B1"]),
    ("not matching", b"HELLO\r\n", {}, ["drop garbage"]),
    ("button 0", b"K03,0\r\n", {}, ["drop out_of_range"]),
    ("binary noise line", b"\x01\xfe\x80\r\nK03,2\r\n", {}, ["drop garbage", "press K03:B2"]),
    ("partial at the end", b"K03,2\r\nK0", {}, ["press K03:B2", "drop partial"]),
    ("too long", b"K" * 100 + b"\r\nK03,2\r\n", {}, ["drop too_long", "press K03:B2"]),
    ("bare digits pattern", b"3\r\n", {"pattern": r"^(?P<button>[1-5])$"}, ["press :B3"]),
    ("bare digits out of the pattern", b"7\r\n", {"pattern": r"^(?P<button>[1-5])$"}, ["drop garbage"]),
    ("level pattern", b"#07:S4\r\n", {"pattern": r"^#(?P<device>\d+):S(?P<level>\d)$"}, ["press 07:L4"]),
    ("level 0", b"#07:S0\r\n", {"pattern": r"^#(?P<device>\d+):S(?P<level>\d)$"}, ["drop out_of_range"]),
]


@pytest.mark.parametrize("label,data,options,expected", ASCII_CASES, ids=[c[0] for c in ASCII_CASES])
def test_ascii_line(label, data, options, expected):
    assert kinds(run("ascii-line", data, **options)) == expected


@pytest.mark.parametrize("pattern,message", [
    ("(", "not a valid regular expression"),
    (r"K(?P<device>\d+)", "button"),
    (r"(?P<button>\d)(?P<other>x)", "unknown group"),
])
def test_ascii_line_bad_patterns_are_named(pattern, message):
    with pytest.raises(ValueError, match=message):
        D.create("ascii-line", pattern=pattern)


# ------------------------------------------------------------------ rs485-frame
F32 = rs485_frame(3, 2)
RS485_CASES = [
    ("default frame", F32, {}, ["press 3:B2"]),
    ("two addresses", F32 + rs485_frame(7, 1), {}, ["press 3:B2", "press 7:B1"]),
    ("noise before", b"\x01\x02\x03" + F32, {}, ["drop garbage", "press 3:B2"]),
    ("noise after (then the end)", F32 + b"\x10\x11", {}, ["press 3:B2", "drop garbage"]),
    ("bad checksum", F32[:3] + b"\x06" + F32[4:], {}, ["drop checksum", "drop garbage"]),
    ("bad end byte, resync on the next start", F32[:4] + b"\x00" + F32, {}, ["drop malformed", "drop garbage", "press 3:B2"]),
    ("a start byte inside noise", b"\xaa\x01" + F32, {}, ["drop malformed", "drop garbage", "press 3:B2"]),
    ("button 0", rs485_frame(3, 0), {}, ["drop out_of_range"]),
    ("unfinished frame", F32 + F32[:3], {}, ["press 3:B2", "drop partial"]),
    ("xor8, no end byte", rs485_frame(3, 2, checksum="xor8", end=None, length=4), {"checksum": "xor8", "end": None, "length": 4},
     ["press 3:B2"]),
    ("crc16-modbus", rs485_frame(3, 2, checksum="crc16-modbus", length=6), {"checksum": "crc16-modbus", "length": 6},
     ["press 3:B2"]),
    ("crc16 wrong", rs485_frame(3, 2, checksum="crc16-modbus", length=6)[:3] + b"\x00\x00\x55",
     {"checksum": "crc16-modbus", "length": 6}, ["drop checksum", "drop garbage"]),
    ("other layout", rs485_frame(9, 4, start=0x02, end=0x03, length=6, address_at=2, button_at=3, checksum="crc8",
                                 checksum_at=4, checksum_from=1, checksum_to=4),
     {"start": 0x02, "end": 0x03, "length": 6, "address_at": 2, "button_at": 3, "checksum": "crc8", "checksum_at": 4,
      "checksum_from": 1, "checksum_to": 4}, ["press 9:B4"]),
]


@pytest.mark.parametrize("label,data,options,expected", RS485_CASES, ids=[c[0] for c in RS485_CASES])
def test_rs485_frame(label, data, options, expected):
    assert kinds(run("rs485-frame", data, **options)) == expected


def test_rs485_frame_doc_example():
    assert F32 == bytes.fromhex("aa 03 02 05 55")
    assert rs485_frame(3, 2, checksum="crc16-modbus", length=6) == bytes.fromhex("aa 03 02 80 81 55")


@pytest.mark.parametrize("options,message", [
    ({"checksum": "md5"}, "checksum must be"), ({"length": 1}, "length"), ({"address_at": 9}, "address_at"),
    ({"checksum_at": 4}, "checksum_at"), ({"start": 300}, "start and end"),
])
def test_rs485_bad_layouts_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        D.create("rs485-frame", **options)


# ------------------------------------------------------------------ keyboard (Linux input events)
KEYBOARD_CASES = [
    ("key 1 down", key_event(2), ["press :B1"]),
    ("down and up", key_event(4) + key_event(4, 0), ["press :B3"]),
    ("auto-repeat ignored", key_event(4) + key_event(4, 2) + key_event(4, 2), ["press :B3"]),
    ("numeric keypad 5", key_event(76), ["press :B5"]),
    ("a letter", key_event(30), ["drop out_of_range"]),
    ("sync events ignored", struct.pack(D.INPUT_EVENT, 0, 0, 0, 0, 0) + key_event(3), ["press :B2"]),
    ("not an input event", struct.pack(D.INPUT_EVENT, 0, 0, 0x99, 0, 0), ["drop garbage"]),
    ("half an event", key_event(2)[:10], ["drop partial"]),
]


@pytest.mark.parametrize("label,data,expected", KEYBOARD_CASES, ids=[c[0] for c in KEYBOARD_CASES])
def test_keyboard(label, data, expected):
    assert kinds(run("keyboard", data)) == expected


# ------------------------------------------------------------------ registry
class UpperDecoder(D.Decoder):
    """A plug-in for the test: each upper-case letter A-I is button 1-9."""

    def __init__(self, offset: int = 0):
        self.offset = offset

    def feed(self, data):
        return [Press("", button=str(b - 64 + self.offset)) if 65 <= b <= 73 else Dropped("garbage", "", bytes([b]))
                for b in data]


def test_registry_builtins_and_plugins():
    assert D.names() == ["ascii-line", "keyboard", "qms-line", "rs485-frame"]
    dec = D.create("test_decoders:UpperDecoder", offset=1)
    assert kinds(dec.feed(b"Ax")) == ["press :B2", "drop garbage"]
    with pytest.raises(ValueError, match="unknown keypad decoder"):
        D.create("nope")
    with pytest.raises(ValueError, match="decoder qms-line"):
        D.create("qms-line", colour="red")
    with pytest.raises(ValueError, match="not a keypad Decoder"):
        D.create("json:dumps")

    @D.register("upper-test")
    class Registered(UpperDecoder):
        pass

    try:
        assert isinstance(D.create("upper-test"), Registered)
    finally:
        D._REGISTRY.pop("upper-test")


# ------------------------------------------------------------------ chunking invariance
QMS_PIECES = st.one_of(
    st.builds(lambda d, s, v: qms_frame("P", d, s, v), st.sampled_from(["K01", "K02"]), st.integers(0, 65535),
              st.sampled_from(["B1", "B2", "B3", "L1", "L3"])),
    st.builds(lambda d, s: qms_frame("H", d, s), st.sampled_from(["K01", "K02"]), st.integers(0, 65535)),
    st.just(P42), st.binary(max_size=12), st.just(b"$P,K0"), st.just(b"\r\n"))
ASCII_PIECES = st.one_of(st.builds(lambda d, b: f"K{d:02d},{b}\r\n".encode(), st.integers(0, 99), st.integers(0, 9)),
                         st.binary(max_size=12), st.just(b"\n"), st.just(b"K03,"))
RS485_PIECES = st.one_of(st.builds(rs485_frame, st.integers(0, 255), st.integers(0, 12)), st.binary(max_size=8),
                         st.just(b"\xaa"), st.just(b"\x55"))
KEY_PIECES = st.one_of(st.builds(key_event, st.integers(0, 120), st.integers(0, 2)), st.binary(max_size=30))


@pytest.mark.parametrize("name,pieces", [("qms-line", QMS_PIECES), ("ascii-line", ASCII_PIECES),
                                         ("rs485-frame", RS485_PIECES), ("keyboard", KEY_PIECES)])
def test_any_split_gives_the_same_events(name, pieces):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(st.lists(pieces, max_size=12), st.lists(st.integers(1, 9), min_size=1, max_size=6))
    def check(items, chunks):
        data = b"".join(items)
        assert run(name, data, chunks) == run(name, data)
        assert run(name, data, [1]) == run(name, data)

    check()


# ------------------------------------------------------------------ 10,000 random byte strings, no exception
@pytest.mark.parametrize("name", ["qms-line", "ascii-line", "rs485-frame", "keyboard"])
def test_ten_thousand_random_byte_strings(name):
    rng = random.Random(f"keypad-{name}")
    alphabet = b"$*,PHABLK0123456789\r\n\xaa\x55\x01\x02\x03"
    seen = {"press": 0, "drop": 0}
    for _ in range(10_000):
        n = rng.randint(0, 120)
        if rng.random() < 0.5:
            data = bytes(rng.getrandbits(8) for _ in range(n))
        else:  # bytes the decoders care about, so the random strings reach their deeper branches
            data = bytes(rng.choice(alphabet) for _ in range(n))
        chunks = [rng.randint(1, 16) for _ in range(3)]
        events = run(name, data, chunks)
        for e in events:
            assert isinstance(e, (Press, Heartbeat, Dropped))
            if isinstance(e, Press):
                seen["press"] += 1
                assert (e.button is None) != (e.level is None)
                assert e.button is None or 1 <= int(e.button) <= 99
                assert e.level is None or 1 <= e.level <= 10
            elif isinstance(e, Dropped):
                seen["drop"] += 1
                assert e.reason in D.REASONS
    assert seen["drop"] > 1000
