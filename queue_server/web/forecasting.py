"""The supervisors' forecast of the rest of today (issue 14; the model in queue_server/simulate/forecast.py):
when each service's queue should empty, which waits will pass their target, what one more counter would change.

A background task (started by supervision.start) refreshes it every REFRESH_SECONDS while a supervisor looks
(a socket in the `supervisors` room, or a recent request), off the request path: the
queue is read from the store (a few queries), then the simulated runs, pure CPU work, hand the event loop back
every few milliseconds (`forecast.every`: eventlet's or gevent's sleep(0)), so requests and pushes go on while it
is made and none waits more than about that. (A real thread was measured worse: under eventlet the loop then waits
for the GIL at every database call and socket write, docs/simulator.md.) The result is kept, pushed to the
`supervisors` room as `forecast.updated`, and served by GET /api/v1/forecast and in GET /api/v1/supervisor/state.
Requests never compute it."""
from __future__ import annotations

import logging
import time

from queue_server.push.payloads import ForecastUpdated
from queue_server.simulate import forecast as model
from queue_server.simulate import params as sim_params

log = logging.getLogger(__name__)

REFRESH_SECONDS = 60
CHECK_SECONDS = 5  # how often the task looks whether a forecast is due
WANTED_FOR_SECONDS = 180  # a forecast asked for over REST keeps them coming this long
RUNS = 5  # simulated runs of the rest of the day; the answer is their median
ORDER = {"late": 0, "over": 1, "ok": 2}


def _rank(s: dict) -> tuple:
    """Services that will not empty today first, then those past their target, then by when they empty."""
    kind = "late" if s["empties_at"] is None else ("over" if s["over_target"] else "ok")
    hour, minute = (s["empties_at"] or "00:00").split(":")
    return ORDER[kind], -(s["unserved"] or 0), -(int(hour) * 60 + int(minute)), s["service"]


class Forecaster:
    """The latest forecast of one server process, and how to make the next."""

    def __init__(self, c, timer=time.monotonic):
        self.c = c
        self.timer = timer  # when forecasts are due: the process's own time, not the centre's clock
        self.latest: dict | None = None
        self.made: float | None = None  # timer() of the latest
        self.asked: float | None = None  # timer() of the latest request for it
        self._params: tuple[object, sim_params.Params] | None = None

    def params(self) -> sim_params.Params:
        config = self.c.config  # replaced on a config reload: the parameters follow it
        if self._params is None or self._params[0] is not config:
            self._params = (config, sim_params.from_config(config))
        return self._params[1]

    def refresh(self) -> dict:
        """Read the queue, simulate the rest of the day (yielding to the event loop), keep and push the answer."""
        c = self.c
        seq, now_ms = c.store.last_seq(), c.store.now_ms()
        queue = model.read_now(c.store)
        t0 = time.perf_counter()
        services = model.answer(self.params(), queue, runs=RUNS, pause=lambda: c.socketio.sleep(0))
        took_ms = round((time.perf_counter() - t0) * 1000)
        services.sort(key=_rank)
        self.made = self.timer()
        self.latest = {"state": "ready", "as_of": seq, "at": queue.at, "at_ms": now_ms, "took_ms": took_ms,
                       "refresh_seconds": REFRESH_SECONDS, "services": services}
        c.push.send_supervisors(ForecastUpdated(seq, self.latest))
        return self.latest

    def wanted(self) -> bool:
        """Someone looks: a supervisor's socket on this process, or a request for it within WANTED_FOR_SECONDS.
        With nobody looking no CPU is spent on it."""
        if self.asked is not None and self.timer() - self.asked < WANTED_FOR_SECONDS:
            return True
        sockets = self.c.sockets
        return sockets is not None and any(client.get("room") == "supervisors"
                                           for client in list(sockets.clients.values()))

    def due(self) -> bool:
        return self.wanted() and (self.made is None or self.timer() - self.made >= REFRESH_SECONDS)

    def current(self) -> dict:
        """What a supervisor is shown now: the latest forecast, or that the first is still being made."""
        self.asked = self.timer()
        if self.latest is None:
            return {"state": "pending", "as_of": None, "at": None, "at_ms": None, "took_ms": None,
                    "refresh_seconds": REFRESH_SECONDS, "services": []}
        return self.latest


def of(c) -> Forecaster:
    if c.forecaster is None:
        c.forecaster = Forecaster(c)
    return c.forecaster


def keep_refreshing(c) -> None:
    """Background: while someone looks, a forecast within CHECK_SECONDS, then one every REFRESH_SECONDS."""
    forecaster = of(c)
    while True:
        c.socketio.sleep(CHECK_SECONDS)
        try:
            if forecaster.due():
                forecaster.refresh()
        except Exception:  # noqa: BLE001 - the forecast must keep coming
            log.exception("forecast failed")
