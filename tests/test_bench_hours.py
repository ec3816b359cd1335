"""The bench's pinned centre gives the same results at any hour it runs: always open, so the day keeper never
closes its day at hours.close_day_at, and placed in a zone where the bench starts at midday, so local midnight
(when leftovers close) is hours away. Checked for a start at every UTC hour, and on the in-process app: a
counter the bench opens stays open through the keeper's passes over the bench's length."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from bench.engine import midday_zone
from bench.server import bench_centre
from queue_server.config import parse_config
from queue_server.web.app import create_app, day_keeper_pass

BENCH_MINUTES = 10  # `python -m bench server` takes 4 to 5 minutes


@pytest.mark.parametrize("utc_hour", range(24))
def test_the_bench_centre_starts_at_midday_whatever_the_hour(utc_hour):
    now = datetime(2026, 11, 25, utc_hour, 59, 59, tzinfo=timezone.utc)
    local = now.astimezone(ZoneInfo(midday_zone(now)))
    assert local.hour == 12
    assert (local + timedelta(minutes=BENCH_MINUTES)).date() == local.date(), "midnight comes during the bench"


def test_a_counter_the_bench_opens_stays_open_through_the_keepers_passes_even_across_1730(tmp_path):
    """Even without the zone, the bench centre (always open) keeps its counters: run at 17:25 in Hanoi (the bench
    once had 214 of 500 calls refused with counter_not_open after 17:30), the keeper's passes over the next ten
    minutes close nothing."""
    now = datetime(2026, 11, 25, 10, 25, tzinfo=timezone.utc)
    data, _ = bench_centre(counters_total=4, displays=1, now=now)
    assert data["queue"]["always_open"] is True and data["centre"]["timezone"] == midday_zone(now)
    data["centre"]["timezone"] = "Asia/Ho_Chi_Minh"  # 17:25 local
    data["server"]["device_parts"] = []  # the keeper alone
    data["staff"] = data["staff"][:1]  # (each account costs a password hash)
    clock = [now]
    cfg = parse_config(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "bench-centre.yaml")
    app = create_app(cfg, db_path=str(tmp_path / "bench.sqlite3"), async_mode="threading", clock=lambda: clock[0],
                     start_background=False)
    ctx = app.extensions["qms"]
    try:
        counter = cfg.counters[0]
        ctx.store.set_counter_state(counter.id, "open", staff_id=None)
        service = counter.services[0]
        ticket = ctx.store.issue(service).ticket["id"]
        for _ in range(BENCH_MINUTES * 2):
            clock[0] += timedelta(seconds=30)
            day_keeper_pass(ctx)
        assert ctx.store.counter(counter.id)["state"] == "open"
        assert ctx.store.ticket(ticket)["status"] == "waiting"
    finally:
        ctx.store.close()
