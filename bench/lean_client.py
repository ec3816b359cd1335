"""Lean protocol clients for the load generator: standard library only, no threads, no event loop library.

SioSocket: a Socket.IO v5 client over Engine.IO v4's websocket transport (RFC 6455 frames written here):
  GET /socket.io/?EIO=4&transport=websocket  (Upgrade: websocket; Sec-WebSocket-Accept checked)
  <- "0{sid, pingInterval, ...}"  Engine.IO open
  -> "40{auth json}"              Socket.IO connect to "/" with the auth object
  <- "40{sid}" or "44{message}"   accepted / refused
  <- "2"  -> "3"                  Engine.IO ping / pong (the server pings; the client answers)
  <- "42[event, data]"            an event
Client frames are masked with a random key (the RFC requires it); server frames are not masked. Fragmented
messages and websocket-level ping/close frames are handled.

HttpConn: HTTP/1.1 keep-alive requests on one socket, responses framed by Content-Length or chunked coding.

Both are non-blocking after their (blocking, bounded) connect: the owner registers `sock` with a selector,
calls `on_readable()` when it is readable and `flush()` when writable output is pending (`wants_write`).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RECV = 262_144


class ProtocolError(Exception):
    pass


# ------------------------------------------------------------------ websocket framing
def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One final, masked client frame."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65_536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    if n:
        stream = (key * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    return head + key + payload


def unmask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if not n:
        return payload
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


class FrameReader:
    """Incremental RFC 6455 frame parser: feed bytes, get whole messages (opcode, payload)."""

    def __init__(self):
        self.buf = bytearray()
        self.frag_op: int | None = None
        self.frag = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self.buf
        buf += data
        out: list[tuple[int, bytes]] = []
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            key = None
            if b1 & 0x80:
                if n - pos < head + 4:
                    break
                key = bytes(buf[pos + head:pos + head + 4])
                head += 4
            if n - pos < head + length:
                break
            payload = bytes(buf[pos + head:pos + head + length])
            if key is not None:
                payload = unmask(payload, key)
            pos += head + length
            opcode, fin = b0 & 0x0F, b0 & 0x80
            if opcode == 0x0:  # continuation
                if self.frag_op is None:
                    raise ProtocolError("continuation frame without a start")
                self.frag += payload
                if fin:
                    out.append((self.frag_op, bytes(self.frag)))
                    self.frag_op, self.frag = None, bytearray()
            elif opcode in (0x1, 0x2) and not fin:
                self.frag_op, self.frag = opcode, bytearray(payload)
            else:
                out.append((opcode, payload))
        if pos:
            del buf[:pos]
        return out


def _read_http_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read up to the blank line ending an HTTP head; returns (head, bytes after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65_536)
        if not chunk:
            raise ProtocolError("connection closed during the HTTP head")
        data += chunk
        if len(data) > 65_536:
            raise ProtocolError("HTTP head too long")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


# ------------------------------------------------------------------ Socket.IO over websocket
class SioSocket:
    """One Socket.IO client connection. `messages` collects (event name, raw packet text) per on_readable()."""

    def __init__(self, host: str, port: int, auth: dict, timeout: float = 10.0):
        self.host, self.port, self.auth = host, port, auth
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.reader = FrameReader()
        self.out = bytearray()
        self.state = "new"  # new -> open (EIO open seen, connect sent) -> connected | refused | closed
        self.error = ""
        self.sid = ""
        self.pings = 0
        self.bytes_in = 0

    def connect(self) -> list[tuple[str, str]]:
        """Blocking: TCP, websocket upgrade, Engine.IO open, send the Socket.IO connect. Returns any events
        that came with the open packet (normally none). Leaves the socket non-blocking."""
        s = socket.create_connection((self.host, self.port), timeout=self.timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = s
        key = base64.b64encode(os.urandom(16))
        s.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                  b"Host: " + f"{self.host}:{self.port}".encode() + b"\r\n"
                  b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head, rest = _read_http_head(s)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise ProtocolError(f"websocket upgrade refused: {lines[0]!r}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        want = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise ProtocolError("bad Sec-WebSocket-Accept")
        msgs = self.reader.feed(rest)
        while not any(op == 0x1 and p[:1] == b"0" for op, p in msgs):
            chunk = s.recv(65_536)
            if not chunk:
                raise ProtocolError("closed before the Engine.IO open packet")
            msgs += self.reader.feed(chunk)
        events = self._handle(msgs)
        self.out += ws_frame(b"40" + json.dumps(self.auth, separators=(",", ":")).encode())
        s.setblocking(False)
        self.flush()
        return events

    def _handle(self, msgs: list[tuple[int, bytes]]) -> list[tuple[str, str]]:
        events: list[tuple[str, str]] = []
        for opcode, payload in msgs:
            if opcode == 0x1:
                text = payload.decode("utf-8")
                t = text[:1]
                if t == "4":
                    k = text[1:2]
                    if k == "2":
                        end = text.find('"', 4)
                        events.append((text[4:end], text))
                    elif k == "0":
                        self.state = "connected"
                        self.sid = json.loads(text[2:] or "{}").get("sid", "")
                    elif k == "4":
                        self.state, self.error = "refused", text[2:]
                    elif k == "1":
                        self.state, self.error = "closed", "socket.io disconnect"
                elif t == "2":
                    self.pings += 1
                    self.out += ws_frame(b"3" + payload[1:])
                elif t == "0":
                    self.state = "open"
                elif t == "1":
                    self.state, self.error = "closed", "engine.io close"
            elif opcode == 0x9:  # websocket ping
                self.out += ws_frame(payload, 0xA)
            elif opcode == 0x8:
                self.state, self.error = "closed", "websocket close"
        return events

    def on_readable(self) -> list[tuple[str, str]]:
        try:
            data = self.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError as exc:
            self.state, self.error = "closed", str(exc)
            return []
        if not data:
            if self.state != "closed":
                self.state, self.error = "closed", "EOF"
            return []
        self.bytes_in += len(data)
        events = self._handle(self.reader.feed(data))
        if self.out:
            self.flush()
        return events

    @property
    def wants_write(self) -> bool:
        return bool(self.out)

    def flush(self) -> None:
        try:
            n = self.sock.send(self.out)
            del self.out[:n]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as exc:
            self.state, self.error = "closed", str(exc)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass


# ------------------------------------------------------------------ HTTP/1.1 keep-alive
class HttpConn:
    """One keep-alive connection, one request at a time (an issuer, a counter terminal)."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.out = bytearray()
        self.busy = False
        self.closed = False

    def request_bytes(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> bytes:
        payload = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        head += f"Content-Length: {len(payload)}\r\n\r\n"
        return head.encode() + payload

    # -- blocking use (setup)
    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        self.sock.setblocking(True)
        self.sock.sendall(self.request_bytes(method, path, body, token))
        while True:
            got = self.parse()
            if got is not None:
                status, raw = got
                return status, json.loads(raw) if raw else {}
            chunk = self.sock.recv(RECV)
            if not chunk:
                raise ProtocolError("connection closed before the response")
            self.buf += chunk

    # -- non-blocking use (load)
    def send(self, data: bytes) -> None:
        self.busy = True
        self.out += data
        self.flush()

    @property
    def wants_write(self) -> bool:
        return bool(self.out)

    def flush(self) -> None:
        try:
            n = self.sock.send(self.out)
            del self.out[:n]
        except (BlockingIOError, InterruptedError):
            pass

    def on_readable(self) -> tuple[int, bytes] | None:
        """Read what is there; a whole response -> (status, body bytes), else None."""
        try:
            data = self.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return None
        if not data:
            self.closed = True
            raise ProtocolError("server closed the connection")
        self.buf += data
        got = self.parse()
        if got is not None:
            self.busy = False
        return got

    def parse(self) -> tuple[int, bytes] | None:
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buf[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length, chunked = None, False
        for line in head[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
        start = end + 4
        if length is not None:
            if len(buf) < start + length:
                return None
            body = bytes(buf[start:start + length])
            del buf[:start + length]
            return status, body
        if not chunked:
            raise ProtocolError("response without Content-Length or chunked coding")
        pos, body = start, bytearray()
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
            if size == 0:  # the last chunk, then optional trailers and a blank line
                tail = buf.find(b"\r\n\r\n", eol)
                if tail < 0:
                    return None
                del buf[:tail + 4]
                return status, bytes(body)
            if len(buf) < eol + 2 + size + 2:
                return None
            body += buf[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
