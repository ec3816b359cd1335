"""A webhook receiver on 127.0.0.1 for the tests: it records every POST (headers, raw body) and answers as told.

Modes: `ok` (204), `fail` (500), `drop` (read the whole request, then close the connection without a word, as a
receiver that crashes after taking the event), `hang` (read the request, then answer nothing until released).
`fail_ids` answers 500 to those event ids only. Stopped and started again on the same port, it is a receiver
restart.
"""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, port: int = 0, mode: str = "ok"):
        self.mode = mode
        self.fail_ids: set[int] = set()
        self.got: list[dict] = []
        self.release = threading.Event()
        self.arrived = threading.Event()
        self._port = port
        self.server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/hooks/qms"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.got.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                                     "path": self.path})
                receiver.arrived.set()
                mode = receiver.mode
                if mode == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if mode == "hang":
                    receiver.release.wait(30)
                    return
                failing = mode == "fail" or int(self.headers.get("X-QMS-Event-Id", 0)) in receiver.fail_ids
                self.send_response(500 if failing else 204)
                self.end_headers()

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self._port), Handler)
        self._port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def ids(self) -> list[int]:
        return [int(r["headers"]["x-qms-event-id"]) for r in self.got]
