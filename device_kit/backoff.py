"""One back-off for every agent: how long to wait before reopening a port or reconnecting to the server.

The n-th pause is d = min(cap, first * factor^(n-1)), spread down by up to `jitter` (a fleet of agents does
not reconnect in step after a server restart): it lies in [d * (1 - jitter), d]. After a connection that
stayed up for `stable` seconds (measured on the injectable `clock`), the next loss starts again at `first`.
Tests pass a fake clock and a seeded random source: they need no sleeps.
"""
from __future__ import annotations

import random
import time
from collections import deque
from typing import Callable


class Backoff:
    def __init__(self, first: float = 0.5, cap: float = 30.0, *, factor: float = 2.0, jitter: float = 0.0,
                 stable: float | None = None, clock: Callable[[], float] = time.monotonic,
                 rng: Callable[[], float] = random.random):
        if first <= 0 or cap < first:
            raise ValueError("backoff needs 0 < first <= cap")
        if factor < 1 or not 0 <= jitter < 1:
            raise ValueError("backoff needs factor >= 1 and 0 <= jitter < 1")
        self.first, self.cap, self.factor, self.jitter = first, cap, factor, jitter
        self.stable, self.clock, self.rng = stable, clock, rng
        self.attempt = 0
        self.up_since: float | None = None
        self.recent: deque[float] = deque(maxlen=16)  # the pauses given last, oldest first

    def next_delay(self) -> float:
        """The pause before the next try (counts one more failed try)."""
        if self.up_since is not None and self.stable is not None and self.clock() - self.up_since >= self.stable:
            self.attempt = 0  # it stayed up: the next loss starts with a short pause again
        self.up_since = None
        self.attempt += 1
        high = float(min(self.cap, self.first * self.factor ** min(self.attempt - 1, 64)))
        pause = high * (1 - self.jitter * self.rng()) if self.jitter else high
        self.recent.append(pause)
        return pause

    def up(self) -> None:
        """The connection is up now: once it has lasted `stable` seconds, the next pause is short again."""
        self.up_since = self.clock()

    def reset(self) -> None:
        self.attempt = 0
        self.up_since = None
