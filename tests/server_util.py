"""A real server process on 127.0.0.1 for the integration tests, in either async mode."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import threading

import requests
import socketio
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def morning_zone(now: datetime | None = None) -> str:
    """A whole-hour UTC offset zone in which `now` (default: this instant) reads 09:xx.

    A test server keeps the centre's close_day_at (17:30) and lives on the real clock. Placed in this zone it
    starts in the morning at whatever hour the tests run, so neither the scheduled close nor midnight comes
    within eight hours of its start: no test depends on the hour CI runs."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    offset = (9 - now.hour) % 24
    if offset > 14:
        offset -= 24  # Etc/GMT zones run from UTC-12 to UTC+14
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-7 is UTC+7


def server_config(tmp: Path, *, extra_counters: int = 20, now: datetime | None = None, **queue) -> Path:
    """The test centre, open at any hour, with `extra_counters` more police counters (6, 7, ...), in a zone
    where `now` (default: this instant) is morning (see morning_zone)."""
    data = _open_at_any_hour("centre.yaml", now, queue)
    for i in range(6, 6 + extra_counters):
        data["counters"].append({"id": str(i), "number": i, "department": "police", "services": ["cccd"]})
    data["devices"]["agents"] = [{"id": "agent-1", "token": "test-agent-token-1", "kind": "any"}]
    data["devices"]["displays"].append({"id": "hall-b", "zone": "B"})
    return _write(tmp / "server.yaml", data)


def big_server_config(tmp: Path, *, now: datetime | None = None, **queue) -> Path:
    """The big city centre (tests/fixtures/big_centre.yaml: counters 101-170 in 4 zones, codes of up to 6
    characters, names of 80+ characters), open at any hour, in a zone where `now` is morning."""
    data = _open_at_any_hour("big_centre.yaml", now, queue)
    data["devices"]["agents"] = [{"id": "agent-1", "token": "test-agent-token-1", "kind": "any"}]
    return _write(tmp / "big-server.yaml", data)


def _open_at_any_hour(fixture: str, now: datetime | None, queue: dict) -> dict:
    data = yaml.safe_load((FIXTURES / fixture).read_text(encoding="utf-8"))
    data["centre"]["timezone"] = morning_zone(now)
    data["queue"].update({"always_open": True, "repeat_press_seconds": 2, **queue})
    data["server"]["coalesce_ms"] = 100
    return data


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class ServerProcess:
    def __init__(self, config: Path, db: Path, mode: str, port: int | None = None, log: Path | None = None):
        self.config, self.db, self.mode = config, db, mode
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or db.with_suffix(f".{mode}.log")
        self.proc: subprocess.Popen | None = None

    def _seed_accounts(self) -> None:
        """A new database gets its accounts here, hashed as this test process hashes them (cheaply: conftest's
        cheap_password_hashes): the server then finds them in place and its sign-ins cost no scrypt check. What
        the server's own seeding does is tested by test_security_docs and test_demo_secrets."""
        from queue_server.accounts import Accounts
        from queue_server.config import load_config
        from queue_server.store import Store

        cfg = load_config(self.config)
        store = Store(self.db, cfg)
        try:
            Accounts(store, cfg).seed_from_config()
        finally:
            store.close()

    def start(self, timeout: float = 20) -> "ServerProcess":
        if not Path(self.db).exists():
            self._seed_accounts()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "serve", "--config", str(self.config), "--db", str(self.db),
             "--host", "127.0.0.1", "--port", str(self.port), "--async-mode", self.mode],
            stdout=self._logf, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log.read_text(errors='replace')}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer in {timeout}s:\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_logf", None):
            self._logf.close()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self._logf.close()

    # ------------------------------------------------------------ small REST helpers
    def login(self, username: str, password: str) -> dict:
        r = requests.post(self.url + "/api/v1/login", json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        return {"Authorization": "Bearer " + r.json()["token"]}

    def post(self, path: str, json=None, headers=None, **kw) -> requests.Response:
        return requests.post(self.url + path, json=json, headers=headers or {}, timeout=10, **kw)

    def get(self, path: str, headers=None) -> requests.Response:
        return requests.get(self.url + path, headers=headers or {}, timeout=10)

    def request(self, method: str, path: str, json=None, headers=None, **kw) -> requests.Response:
        return requests.request(method, self.url + path, json=json, headers=headers or {}, timeout=10, **kw)

    def socket(self, auth: dict) -> "Listener":
        """A real Socket.IO client over a websocket (the in-process server's socket() answers alike)."""
        return Listener(self.url, auth)


KIOSK = {"Authorization": "Bearer test-kiosk-token-1"}
AGENT = {"Authorization": "Bearer test-agent-token-1"}

class Listener:
    """A Socket.IO client recording every event it receives."""

    def __init__(self, url: str, auth: dict):
        self.events: list[tuple[str, dict, float]] = []
        self.cond = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._on)
        self.client.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)

    def _on(self, event, data):
        with self.cond:
            self.events.append((event, data, time.monotonic()))
            self.cond.notify_all()

    def wait_for(self, pred, timeout: float = 8.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for ev in self.events:
                    if pred(ev[0], ev[1]):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event in {timeout}s; got {[(e[0], e[1]) for e in self.events][-8:]}")
                self.cond.wait(left)

    def call(self, event: str, data, timeout: float = 5):
        return self.client.call(event, data, timeout=timeout)

    def of(self, name: str) -> list[dict]:
        with self.cond:
            return [d for e, d, _ in self.events if e == name]

    def close(self):
        self.client.disconnect()


class RedisServer:
    """A real redis-server on a free loopback port, which a test may stop (SIGSTOP), resume, kill and start
    again on the same port."""

    def __init__(self, tmp: Path):
        import shutil

        self.exe = shutil.which("redis-server")
        if self.exe is None:
            raise RuntimeError("redis-server is missing: run `make test-tools` (apt-get install redis-server)")
        self.tmp, self.port = tmp, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> "RedisServer":
        import redis

        self.proc = subprocess.Popen([self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.tmp)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return self
            except redis.RedisError:
                if time.monotonic() > deadline:
                    self.proc.kill()
                    raise
                time.sleep(0.05)

    def signal(self, sig) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            import signal

            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(5)
