"""A fake SMS gateway on 127.0.0.1 for the notice tests: a real HTTP server in a thread that answers as told
(`mode`: ok, fail = 500, hang = no answer for `hang_seconds`, refuse = 200 with {"error": 1}) and records
every request it got (the body read as JSON or a form, the headers) and which it accepted."""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGateway:
    def __init__(self, *, delay: float = 0.0, hang_seconds: float = 1.0):
        self.mode = "ok"
        self.delay = delay
        self.hang_seconds = hang_seconds
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ctype = self.headers.get("Content-Type", "")
                if self.command == "GET":
                    body = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                elif ctype.startswith("application/json"):
                    body = json.loads(raw.decode("utf-8"))
                else:
                    body = dict(urllib.parse.parse_qsl(raw.decode("utf-8")))
                seen = {"method": self.command, "path": self.path, "body": body, "headers": dict(self.headers)}
                mode = gateway.mode
                with gateway.lock:
                    gateway.requests.append({**seen, "mode": mode})
                if gateway.delay:
                    time.sleep(gateway.delay)
                if mode == "hang":
                    time.sleep(gateway.hang_seconds)
                    return
                status, answer = {"ok": (200, {"error": 0, "id": len(gateway.requests)}),
                                  "fail": (500, {"error": "down"}), "refuse": (200, {"error": 1})}[mode]
                if mode == "ok":
                    with gateway.lock:
                        gateway.accepted.append(seen)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = do_PUT = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
