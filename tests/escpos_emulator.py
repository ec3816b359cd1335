"""A TCP receipt-printer emulator on 127.0.0.1 for the printing tests: it parses the ESC/POS stream it is sent,
answers the real-time status queries (DLE EOT n) as a printer in a chosen condition would, and keeps every
command it received. Modes: ok, paper_low, paper_out, cover_open, silent (reads, never answers a status query),
no_read (accepts the connection and never reads a byte)."""
from __future__ import annotations

import socket
import threading
import time

ESC, GS, DLE, EOT = 0x1B, 0x1D, 0x10, 0x04

# DLE EOT answers: n=1 printer status, n=2 offline cause, n=4 paper roll sensor (fixed bits 1 and 4 set).
STATUS = {
    "ok": {1: 0x16, 2: 0x12, 4: 0x12},
    "paper_low": {1: 0x16, 2: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1E, 2: 0x32, 4: 0x72},
    "cover_open": {1: 0x1E, 2: 0x16, 4: 0x12},
}


def parse(data: bytes) -> list[tuple]:
    """ESC/POS commands of a byte stream: ('init',), ('raster', m, width_bytes, height, bits), ('feed', n),
    ('cut', m), ('status', n), ('text', bytes). Raises ValueError on a truncated command."""
    out: list[tuple] = []
    i, n = 0, len(data)
    text = bytearray()

    def flush_text():
        if text:
            out.append(("text", bytes(text)))
            text.clear()

    while i < n:
        b = data[i]
        if b == ESC and i + 1 < n and data[i + 1] == 0x40:
            flush_text(); out.append(("init",)); i += 2  # noqa: E702
        elif b == ESC and i + 2 < n and data[i + 1] == 0x64:
            flush_text(); out.append(("feed", data[i + 2])); i += 3  # noqa: E702
        elif b == DLE and i + 2 < n and data[i + 1] == EOT:
            flush_text(); out.append(("status", data[i + 2])); i += 3  # noqa: E702
        elif b == GS and i + 1 < n and data[i + 1] == 0x76:  # GS v 0 m xL xH yL yH d1...dk
            if i + 8 > n:
                raise ValueError("truncated GS v 0 header")
            m, xl, xh, yl, yh = data[i + 3:i + 8]
            width, height = xl + 256 * xh, yl + 256 * yh
            end = i + 8 + width * height
            if end > n:
                raise ValueError(f"truncated raster: {n - i - 8} of {width * height} bytes")
            flush_text(); out.append(("raster", m, width, height, data[i + 8:end])); i = end  # noqa: E702
        elif b == GS and i + 2 < n and data[i + 1] == 0x56:  # GS V m [n]
            m = data[i + 2]
            flush_text(); out.append(("cut", m)); i += 4 if m in (65, 66, 97, 98, 103, 104) else 3  # noqa: E702
        else:
            text.append(b)
            i += 1
    flush_text()
    return out


class PrinterEmulator:
    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []  # one entry per connection
        self.connections = 0
        self.stopped = threading.Event()
        self.cond = threading.Condition()
        self._open: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self._open.append(conn)
            with self.cond:
                self.connections += 1
                self.cond.notify_all()
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        if self.mode == "no_read":
            self.stopped.wait()
            conn.close()
            return
        buf = bytearray()
        conn.settimeout(0.2)
        answered = 0  # status queries seen so far in this connection
        while not self.stopped.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if self.mode != "silent":
                queries = self._queries(bytes(buf))
                for q in queries[answered:]:
                    conn.sendall(bytes((STATUS[self.mode][q],)))
                answered = len(queries)
        conn.close()
        with self.cond:
            self.received.append(bytes(buf))
            self.cond.notify_all()

    @staticmethod
    def _queries(data: bytes) -> list[int]:
        """Status queries in the stream so far (a command still arriving at the end is not read yet)."""
        try:
            cmds = parse(data)
        except ValueError:
            cmds = parse(data[:_last_complete(data)])
        return [c[1] for c in cmds if c[0] == "status"]

    def wait_jobs(self, count: int = 1, timeout: float = 5.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the emulator got {len(self.received)} of {count} connections' data")
                self.cond.wait(left)
            return list(self.received)

    def close(self) -> None:
        self.stopped.set()
        for c in self._open:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()
        self.thread.join(2)


def _last_complete(data: bytes) -> int:
    """The end of the longest prefix of `data` that parses (a raster block still arriving is left out)."""
    end = len(data)
    while end > 0:
        try:
            parse(data[:end])
            return end
        except ValueError:
            j = data.rfind(b"\x1dv0", 0, end)
            end = j if j >= 0 else end - 1
    return 0
