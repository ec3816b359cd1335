"""Shared fixtures: the test centre's config, a controllable clock, a store on a temporary database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from queue_server.config import load_config

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent

# Wednesday 2026-11-25, 09:00 in Hà Nội (UTC+7): inside the morning window.
WEDNESDAY_9AM = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = WEDNESDAY_9AM):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **kw) -> None:
        self.now += timedelta(seconds=seconds, **kw)

    def set_local(self, text: str) -> None:
        """Set the clock to a local time in the centre's zone, e.g. '2026-11-25 13:20'."""
        from zoneinfo import ZoneInfo

        self.now = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).astimezone(timezone.utc)


@pytest.fixture
def config():
    return load_config(FIXTURES / "centre.yaml")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, config, clock):
    from queue_server.store import Store

    s = Store(tmp_path / "qms.sqlite3", config, clock=clock)
    yield s
    s.close()


@pytest.fixture
def open_store(store):
    """A store with every counter open."""
    for c in store.config.counters:
        store.set_counter_state(c.id, "open")
    return store
