"""A fake one-stop system for the demo and the tests: `python -m queue_server.dossiers.fake_server --port N`.

It listens on 127.0.0.1 only and answers for the dossiers in fake_data.py (one in every state):
- GET /a/hoso/<code>         shape A (an object under `data`); an unknown code is a 404
- GET /b/dossiers?code=<c>   shape B (a list under `result`); an unknown code is 200 with an empty list
- GET /slow/<code>           shape A after --slow-seconds (default 10): a source that hangs
- GET /error/<code>          500, a source that fails
- GET /garbage/<code>        200 with an HTML page instead of JSON
A code ending in -SLOW, -ERROR or -GARBAGE behaves like the matching address on any route (a scanned receipt
can show a kiosk's answer to a source that hangs or fails). Requests must carry the header given with --token (default demo-onestop-token) as `Authorization: Bearer ...`;
without it the answer is 401.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from queue_server.dossiers import fake_data


class OneStopHandler(BaseHTTPRequestHandler):
    server_version = "FakeOneStop/1"
    token = "demo-onestop-token"
    slow_seconds = 10.0

    def log_message(self, fmt, *args):  # quiet: the tests read answers, not logs
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, status: int, data: object) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode())

    def _fault(self, kind: str, code: str) -> None:
        if kind == "error":
            return self._json(500, {"success": False, "message": "internal error"})
        if kind == "garbage":
            return self._send(200, b"<html><body>Maintenance</body></html>", "text/html")
        time.sleep(self.slow_seconds)
        return self._json(404, {"success": False, "message": "dossier not found"})

    def do_GET(self):  # noqa: N802 - the http.server name
        url = urlsplit(self.path)
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json(401, {"success": False, "message": "token required"})
        parts = [unquote(p) for p in url.path.split("/") if p]
        if parts[:1] == ["b"] and parts[1:] == ["dossiers"]:
            code = (parse_qs(url.query).get("code") or [""])[0]
            if code.upper().endswith(("-SLOW", "-ERROR", "-GARBAGE")):
                return self._fault(code.rsplit("-", 1)[1].lower(), code)
            d = fake_data.by_code(code)
            return self._json(200, fake_data.shape_b(d) if d else {"status": "OK", "result": []})
        if len(parts) != 3 and not (len(parts) == 2 and parts[0] in ("slow", "error", "garbage")):
            return self._json(404, {"success": False, "message": "no such address"})
        kind, code = parts[0], parts[-1]
        for fault in ("slow", "error", "garbage"):
            if code.upper().endswith("-" + fault.upper()):
                kind = fault
        if kind in ("error", "garbage"):
            return self._fault(kind, code)
        if kind == "slow":
            time.sleep(self.slow_seconds)
        d = fake_data.by_code(code)
        if d is None:
            return self._json(404, {"success": False, "message": "dossier not found"})
        return self._json(200, fake_data.shape_a(d))


def make_server(port: int, *, token: str = OneStopHandler.token, slow_seconds: float = 10.0) -> ThreadingHTTPServer:
    handler = type("Handler", (OneStopHandler,), {"token": token, "slow_seconds": slow_seconds})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m queue_server.dossiers.fake_server",
                                description="a fake one-stop system answering dossier look-ups on 127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--token", default=OneStopHandler.token)
    p.add_argument("--slow-seconds", type=float, default=10.0)
    args = p.parse_args(argv)
    server = make_server(args.port, token=args.token, slow_seconds=args.slow_seconds)
    print(f"fake one-stop system on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
