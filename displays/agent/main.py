"""The LED agent: drives the RS485 LED boards plugged into this PC from the server's live counter states.

    python -m displays.led --server http://10.0.0.5:5000 --token <agent token> [--board led-1 ...]

1. Asks the server which boards it drives (GET /api/v1/led_boards with its agent token: the boards with
   run_in: agent whose `agent` is this agent or empty).
2. Opens their ports (displays.agent.driver.LedDriver) and joins the Socket.IO room counter:<id> of each board's
   counter; the snapshot and every counter.updated / ticket.called set what the boards show.
3. Reports each board's state to the server (POST /api/v1/devices/led_board/<id>/status), on every change and
   as a heartbeat, so supervisors see a board that is unplugged or silent.
The server being away does not blank the boards: they keep their number until the agent hears otherwise.
"""
from __future__ import annotations

import argparse
import logging
import os
import queue
import signal
import threading
import time

import requests
import socketio

from device_kit import Backoff
from displays.agent.driver import DEFAULT_RECONNECT_MAX, FIRST_BACKOFF, LedDriver
from displays.agent.settings import BoardSettings
from displays.shared.led_values import Shown, shown_for_counter

log = logging.getLogger("displays.agent")

DEFAULT_HEARTBEAT = 60.0


class AgentRefused(Exception):
    """The server said no (bad token, not an LED agent): retrying will not help."""


def fetch_boards(server: str, token: str, *, timeout: float = 10) -> dict:
    r = requests.get(f"{server}/api/v1/led_boards", headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    if r.status_code in (401, 403):
        try:
            message = r.json().get("message", r.text)
        except ValueError:
            message = r.text
        raise AgentRefused(f"server refused the agent ({r.status_code}): {message}")
    r.raise_for_status()
    return r.json()


class Reporter(threading.Thread):
    """Sends board states to the server: each change, and every board's state as a heartbeat."""

    def __init__(self, server: str, token: str, heartbeat: float):
        super().__init__(name="led-reporter", daemon=True)
        self.server, self.token, self.heartbeat = server, token, heartbeat
        self.latest: dict[str, tuple[str, str]] = {}
        self.unsent: dict[str, tuple[str, str]] = {}
        self.cond = threading.Condition()
        self.stopping = False
        self.sent = 0
        self.failures = 0

    def report(self, board_id: str, state: str, detail: str) -> None:
        with self.cond:
            self.latest[board_id] = self.unsent[board_id] = (state, detail)
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()

    def run(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        next_beat = time.monotonic() + self.heartbeat
        backoff = Backoff(FIRST_BACKOFF, DEFAULT_RECONNECT_MAX)
        while True:
            with self.cond:
                while not self.stopping and not self.unsent and time.monotonic() < next_beat:
                    self.cond.wait(max(0.0, next_beat - time.monotonic()))
                if self.stopping:
                    return
                if time.monotonic() >= next_beat:
                    self.unsent.update({k: v for k, v in self.latest.items() if k not in self.unsent})
                    next_beat = time.monotonic() + self.heartbeat
                batch, self.unsent = self.unsent, {}
            failed = {}
            for board_id, (state, detail) in batch.items():
                try:
                    r = session.post(f"{self.server}/api/v1/devices/led_board/{board_id}/status",
                                     json={"state": state, "detail": detail[:300]}, timeout=10)
                    if r.status_code >= 500 or r.status_code in (401, 403):
                        raise requests.RequestException(f"HTTP {r.status_code}: {r.text[:200]}")
                    if r.status_code >= 400:
                        log.error("state report of %s refused: %s", board_id, r.text[:200])
                    self.sent += 1
                except requests.RequestException as exc:
                    self.failures += 1
                    failed[board_id] = (state, detail)
                    log.warning("cannot report %s to the server: %s", board_id, exc)
            if failed:
                with self.cond:
                    for k, v in failed.items():
                        self.unsent.setdefault(k, v)  # a newer state, if any, wins
                    self.cond.wait(backoff.next_delay())
            else:
                backoff.reset()


class CounterFeed:
    """One Socket.IO connection to the room counter:<id>; tells the driver what the counter's boards show."""

    def __init__(self, server: str, token: str, counter_id: str, driver: LedDriver, reconnect_max: float):
        self.server, self.token, self.counter_id, self.driver = server, token, counter_id, driver
        self.reconnect_max = reconnect_max
        self.seq = -1
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.5,
                                      reconnection_delay_max=reconnect_max, handle_sigint=False)
        self.client.on("snapshot", self._on_snapshot)
        self.client.on("counter.updated", self._on_counter)
        self.client.on("ticket.called", self._on_called)
        self.client.on("connect", lambda: log.info("counter %s: connected to %s", counter_id, server))
        self.client.on("disconnect", lambda *a: log.warning("counter %s: lost the server", counter_id))
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._connect_loop, name=f"led-feed {counter_id}", daemon=True)

    def start(self) -> "CounterFeed":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            pass

    def _connect_loop(self) -> None:
        backoff = Backoff(min(FIRST_BACKOFF, self.reconnect_max), self.reconnect_max)
        while not self.stopping.is_set():
            try:
                self.client.connect(self.server, auth={"room": f"counter:{self.counter_id}", "token": self.token},
                                    wait_timeout=10)
                return  # from here python-socketio reconnects by itself, and each reconnect brings a snapshot
            except socketio.exceptions.ConnectionError as exc:
                pause = backoff.next_delay()
                log.warning("counter %s: cannot connect to %s (%s); again in %.1f s", self.counter_id, self.server,
                            exc, pause)
                self.stopping.wait(pause)

    def _apply(self, seq, shown: Shown, *, fresh: bool = False) -> None:
        with self.lock:
            if fresh:
                self.seq = -1  # a snapshot (e.g. after the server restarted) starts the order again
            if isinstance(seq, int) and seq < self.seq:
                return  # an older message overtaken by a newer one
            if isinstance(seq, int):
                self.seq = seq
            self.driver.show_counter(self.counter_id, shown)

    def _on_snapshot(self, data) -> None:
        counter = (data.get("state") or {}).get("counter") if isinstance(data, dict) else None
        if counter is not None and counter.get("id") == self.counter_id:
            self._apply(data.get("seq"), shown_for_counter(counter), fresh=True)

    def _on_counter(self, data) -> None:
        counter = data.get("counter") if isinstance(data, dict) else None
        if counter is not None and counter.get("id") == self.counter_id:
            self._apply(data.get("seq"), shown_for_counter(counter))

    def _on_called(self, data) -> None:
        call = data.get("call") if isinstance(data, dict) else None
        if call and (call.get("counter") or {}).get("id") == self.counter_id and call.get("code"):
            self._apply(data.get("seq"), Shown("code", call["code"]))


class LedAgent:
    def __init__(self, server: str, token: str, *, only: list[str] | None = None, open_port=None):
        self.server = server.rstrip("/")
        self.token = token
        self.only = set(only or ())
        self.open_port = open_port
        self.driver: LedDriver | None = None
        self.reporter: Reporter | None = None
        self.feeds: list[CounterFeed] = []
        self.stopping = threading.Event()
        self.ready = threading.Event()

    def setup(self) -> None:
        """Fetch this agent's boards (waiting for the server if need be), open them, join their counters."""
        backoff = Backoff(FIRST_BACKOFF, DEFAULT_RECONNECT_MAX)
        while not self.stopping.is_set():
            try:
                info = fetch_boards(self.server, self.token)
                break
            except requests.RequestException as exc:
                pause = backoff.next_delay()
                log.warning("cannot reach %s (%s); again in %.1f s", self.server, exc, pause)
                self.stopping.wait(pause)
        else:
            return
        boards = [BoardSettings.from_dict(b) for b in info["boards"] if not self.only or b["id"] in self.only]
        unknown = self.only - {b.id for b in boards}
        if unknown:
            raise AgentRefused(f"board(s) {sorted(unknown)} are not driven by agent {info.get('agent')!r}")
        timeouts = info.get("timeouts") or {}
        reconnect_max = float(timeouts.get("serial_reconnect_max_seconds", DEFAULT_RECONNECT_MAX))
        heartbeat = min(DEFAULT_HEARTBEAT, float(timeouts.get("missing_seconds", 120)) / 2)
        self.reporter = Reporter(self.server, self.token, heartbeat)
        self.reporter.start()
        self.driver = LedDriver(boards, timeouts=timeouts, on_state=self.reporter.report, open_port=self.open_port)
        log.info("agent %s drives %d board(s): %s", info.get("agent"), len(boards),
                 ", ".join(f"{b.id} (counter {b.counter}, {b.port} unit {b.unit_id})" for b in boards) or "none")
        self.driver.start()
        self.feeds = [CounterFeed(self.server, self.token, c, self.driver, reconnect_max).start()
                      for c in sorted(self.driver.counters())]
        self.ready.set()

    def run(self) -> None:
        self.setup()
        self.stopping.wait()
        self.close()

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        for f in self.feeds:
            f.stop()
        if self.driver is not None:
            self.driver.stop()
        if self.reporter is not None:
            self.reporter.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m displays.led",
                                     description="LED agent: shows each counter's current number on its RS485 LED board.")
    parser.add_argument("--server", required=True, help="the server's address, e.g. http://10.0.0.5:5000")
    parser.add_argument("--token", default=os.environ.get("QMS_AGENT_TOKEN"),
                        help="this agent's token (devices.agents[].token); or set QMS_AGENT_TOKEN")
    parser.add_argument("--board", action="append", default=[], help="drive only this board id (repeatable)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.token:
        parser.error("--token is required (or set QMS_AGENT_TOKEN)")
    agent = LedAgent(args.server, args.token, only=args.board)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: agent.stop())
    try:
        agent.run()
    except AgentRefused as exc:
        log.error("%s", exc)
        agent.close()
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
