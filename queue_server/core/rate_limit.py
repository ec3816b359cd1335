"""A per-client limit of requests in a sliding window: how many a client address may make, and how long it waits.

Plain numbers in, plain numbers out. The caller keeps one `RequestTimes` per key (a client address) and drops the
keys it has not seen for a window; `admit` says whether one more request fits, and if not how long to wait.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class RequestTimes:
    """The times (ms) of a key's requests admitted within the last window."""

    times: deque = field(default_factory=deque)


def admit(window: RequestTimes, now_ms: int, *, limit: int, window_ms: int) -> int:
    """Admit one request at `now_ms` (recorded in `window`) and return 0, or refuse it and return the
    milliseconds until one fits (nothing recorded)."""
    while window.times and now_ms - window.times[0] >= window_ms:
        window.times.popleft()
    if len(window.times) >= limit:
        return window.times[0] + window_ms - now_ms
    window.times.append(now_ms)
    return 0


@dataclass
class Limiter:
    """`admit` per key, with at most `max_keys` keys kept (the oldest are forgotten first)."""

    limit: int
    window_ms: int
    max_keys: int = 10_000
    windows: dict = field(default_factory=dict)

    def admit(self, key: str, now_ms: int) -> int:
        w = self.windows.pop(key, None) or RequestTimes()
        self.windows[key] = w  # most recent last
        wait = admit(w, now_ms, limit=self.limit, window_ms=self.window_ms)
        while len(self.windows) > self.max_keys:
            del self.windows[next(iter(self.windows))]
        return wait
