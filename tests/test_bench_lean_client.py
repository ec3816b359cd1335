"""The benchmark's lean protocol code (bench/lean_client.py): websocket framing and HTTP response framing.

The benchmark itself (`make bench`) runs the lean client against a real server; these tests pin the framing
rules it relies on, by table, with no network.
"""
from __future__ import annotations

import struct

import pytest

from bench.lean_client import FrameReader, HttpConn, ProtocolError, unmask, ws_frame


def server_frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    """An unmasked frame as a server sends it."""
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes((b0, n)) + payload
    if n < 65_536:
        return struct.pack("!BBH", b0, 126, n) + payload
    return struct.pack("!BBQ", b0, 127, n) + payload


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 70_000])
def test_client_frames_are_masked_and_round_trip(size):
    payload = bytes(i % 251 for i in range(size))
    frame = ws_frame(payload)
    assert frame[0] == 0x81 and frame[1] & 0x80  # final text frame, mask bit set
    reader = FrameReader()
    assert reader.feed(frame) == [(0x1, payload)]  # the reader unmasks masked frames too


@pytest.mark.parametrize("chunks", [1, 2, 3, 7])
def test_reader_reassembles_split_and_coalesced_frames(chunks):
    frames = [b"2", b'42["ticket.called",{"seq":1}]', b"x" * 300, b"y" * 70_000]
    stream = b"".join(server_frame(f) for f in frames)
    step = len(stream) // chunks + 1
    reader, got = FrameReader(), []
    for i in range(0, len(stream), step):
        got += reader.feed(stream[i:i + step])
    assert got == [(0x1, f) for f in frames]


def test_reader_joins_fragmented_messages_and_passes_control_frames():
    stream = (server_frame(b'42["a",', fin=False) + server_frame(b"", 0x9) + server_frame(b'{"b":1}]', 0x0)
              + server_frame(b"", 0x8))
    assert FrameReader().feed(stream) == [(0x9, b""), (0x1, b'42["a",{"b":1}]'), (0x8, b"")]


def test_continuation_without_a_start_is_an_error():
    with pytest.raises(ProtocolError):
        FrameReader().feed(server_frame(b"x", 0x0))


@pytest.mark.parametrize("payload,key", [(b"", b"abcd"), (b"hello", b"\x00\x00\x00\x00"), (b"hello world", b"\xff\x01\x02\x03")])
def test_unmask_is_its_own_inverse(payload, key):
    assert unmask(unmask(payload, key), key) == payload


class _Parser(HttpConn):
    def __init__(self):  # no socket: only the response framing
        self.buf = bytearray()


@pytest.mark.parametrize("raw,expected", [
    (b"HTTP/1.1 201 CREATED\r\nContent-Length: 2\r\n\r\n{}", (201, b"{}")),
    (b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", (200, b"")),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", (200, b"abcde")),
    (b"HTTP/1.1 409 CONFLICT\r\nContent-Length: 5\r\n\r\n{\"a\"", None),  # body not complete yet
    (b"HTTP/1.1 200 OK\r\nContent-Len", None),  # head not complete yet
])
def test_http_responses_are_framed_by_length_or_chunks(raw, expected):
    p = _Parser()
    p.buf += raw
    assert p.parse() == expected


def test_keep_alive_responses_back_to_back_are_split():
    p = _Parser()
    p.buf += b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 201 CREATED\r\nContent-Length: 1\r\n\r\nb"
    assert p.parse() == (200, b"a")
    assert p.parse() == (201, b"b")
    assert p.parse() is None
