"""The server in the test's own process: the app factory on a temporary database with the test Clock, Flask's
test client for REST and Flask-SocketIO's test client for sockets. Nothing runs in the background: a test
drives the coalescing push tick (`tick()`) and the day keeper (`keep_day()`: one `day_keeper_pass`) itself, so nothing waits on time.

`InProcessServer` answers the same small helpers as server_util.ServerProcess (post, get, put, login,
request) with replies shaped like requests' (status_code, json(), text, content, headers), so a test moved
off the subprocess keeps its assertions word for word.
"""
from __future__ import annotations

import time
from pathlib import Path

from flask_socketio.test_client import SocketIOTestClient
from socketio import packet

from server_util import big_server_config, server_config


class Reply:
    """A Flask test response read like a requests.Response."""

    def __init__(self, resp):
        self.raw = resp
        self.status_code = resp.status_code
        self.headers = resp.headers
        self.content = resp.get_data()

    @property
    def text(self) -> str:
        return self.raw.get_data(as_text=True)

    def json(self):
        data = self.raw.get_json(force=True, silent=True)
        if data is None:
            raise ValueError(f"not JSON: {self.text[:200]!r}")
        return data

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise AssertionError(f"{self.status_code}: {self.text[:500]}")


class InProcessServer:
    def __init__(self, config_path: Path, db: Path, clock):
        from queue_server.web.app import create_app

        self.config_path, self.db, self.clock = config_path, db, clock
        self.config = config_path  # as ServerProcess names it
        self.app = create_app(config_path, db_path=str(db), clock=clock, start_background=False, async_mode="threading")
        self.app.config["QMS_CONFIG_PATH"] = str(config_path)  # what POST /api/v1/admin/reload re-reads
        self.http = self.app.test_client()
        self.app.extensions["qms_printing"].recover()  # what a server does at start, its watcher loop aside
        self.mode = "threading"

    @property
    def ctx(self):
        return self.app.extensions["qms"]

    # ------------------------------------------------------------ REST, as ServerProcess has it
    def request(self, method: str, path: str, json=None, headers=None, data=None, **kw) -> Reply:
        kw = {k: v for k, v in kw.items() if k not in ("timeout", "stream")}
        if json is not None:
            kw["json"] = json
        if data is not None:
            kw["data"] = data
        reply = Reply(self.http.open(path, method=method.upper(), headers=dict(headers or {}), **kw))
        self.settle()  # a slip the request started is printed (or failed) before the test goes on
        return reply

    def get(self, path: str, headers=None, **kw) -> Reply:
        return self.request("GET", path, headers=headers, **kw)

    def post(self, path: str, json=None, headers=None, **kw) -> Reply:
        return self.request("POST", path, json=json, headers=headers, **kw)

    def put(self, path: str, json=None, headers=None, **kw) -> Reply:
        return self.request("PUT", path, json=json, headers=headers, **kw)

    def login(self, username: str, password: str) -> dict:
        r = self.post("/api/v1/login", {"username": username, "password": password})
        r.raise_for_status()
        return {"Authorization": "Bearer " + r.json()["token"]}

    # ------------------------------------------------------------ the background steps, driven by the test
    def tick(self) -> None:
        """One coalescing tick of live push (queue counts, phones' places in line)."""
        self.ctx.push.tick()

    def check_printer(self, printer_id: str) -> None:
        """One check of the printer watcher (a status query where the link can answer), run to its end."""
        jobs = self.app.extensions["qms_printing"]
        jobs.check_printer(next(p for p in self.ctx.config.devices.printers if p.id == printer_id))
        self.settle()

    def keep_day(self) -> None:
        from queue_server.web.app import day_keeper_pass

        day_keeper_pass(self.ctx)

    def socket(self, auth: dict) -> "SocketClient":
        return SocketClient(self, auth)

    def settle(self, timeout: float = 10) -> None:
        """Wait until the print workers (real threads printing slips) have nothing left to do. Every request
        and socket action waits so, so a test never races a worker for the database connection."""
        jobs = self.app.extensions.get("qms_printing")
        deadline = time.monotonic() + timeout
        while jobs is not None and jobs.busy:
            if time.monotonic() > deadline:
                raise AssertionError(f"printers still busy after {timeout}s: {sorted(jobs.busy)}")
            time.sleep(0.005)

    def close(self) -> None:
        self.settle()
        self.ctx.sockets.drain()  # a delayed disconnect would report through the store closed next
        self.ctx.store.close()


class _TestClient(SocketIOTestClient):
    """Flask-SocketIO's test client, keeping what a refused connect said (its connect_error data)."""

    refusal: dict | None = None

    def connect(self, namespace=None, query_string=None, headers=None, auth=None):
        send = self.socketio.server._send_packet  # the test client's own, just installed

        def record(eio_sid, pkt):
            if eio_sid == self.eio_sid and pkt.packet_type == packet.CONNECT_ERROR:
                self.refusal = pkt.data
            return send(eio_sid, pkt)

        self.socketio.server._send_packet = record
        try:
            super().connect(namespace=namespace, query_string=query_string, headers=headers, auth=auth)
        finally:
            self.socketio.server._send_packet = send


class SocketClient:
    """A Flask-SocketIO test client that keeps every event it received, in order, like server_util.Listener.
    `connected` tells whether the server let it in; `refusal` is the connect_error data when it did not."""

    def __init__(self, server: InProcessServer, auth: dict):
        self.server = server
        self.client = _TestClient(server.app, server.ctx.socketio, auth=auth)
        self.connected = self.client.is_connected()
        self.refusal = self.client.refusal
        self.events: list[tuple[str, object]] = []

    def _pump(self) -> None:
        self.server.settle()  # print workers emit from their own threads: let them finish first
        if self.client.is_connected():
            for p in self.client.get_received():
                args = p["args"]
                self.events.append((p["name"], args[0] if len(args) == 1 else (args or None)))

    def wait_for(self, pred, timeout: float | None = None):
        """The first received event matching pred(name, data), after one push tick if none has yet.
        Everything is synchronous here: what has not arrived after the tick never will."""
        for attempt in range(2):
            self._pump()
            for ev in self.events:
                if pred(ev[0], ev[1]):
                    return ev[0], ev[1], None
            if attempt == 0:
                self.server.tick()
        raise AssertionError(f"no matching event; got {[(e, d) for e, d in self.events][-8:]}")

    def of(self, name: str) -> list:
        self._pump()
        return [d for e, d in self.events if e == name]

    def call(self, event: str, data, timeout: float | None = None):
        ack = self.client.emit(event, data, callback=True)
        self.server.settle()
        self._pump()
        return ack

    def close(self) -> None:
        if self.client.is_connected():
            self.client.disconnect()

    disconnect = close


def make_server(tmp: Path, clock, **config_kw) -> InProcessServer:
    """The test centre of server_config() in this process, on tmp/qms.sqlite3, reading the given clock."""
    return InProcessServer(server_config(tmp, now=clock(), **config_kw), tmp / "qms.sqlite3", clock)


def make_big_server(tmp: Path, clock, **config_kw) -> InProcessServer:
    """The big city centre of big_server_config() in this process."""
    return InProcessServer(big_server_config(tmp, now=clock(), **config_kw), tmp / "qms.sqlite3", clock)
