"""No test depends on the hour it runs: a test server keeps close_day_at 17:30, yet a counter it opened stays
open however late in the centre's day the tests start, and the in-process fixtures drive the background steps
(the day keeper, the push tick) instead of waiting for them."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from queue_server.config import load_config

from conftest import Clock
from inproc import InProcessServer, make_server
from server_util import KIOSK, morning_zone, server_config

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize("utc_hour", range(24))
def test_a_test_server_starts_in_its_morning_at_any_hour(tmp_path, utc_hour):
    now = datetime(2026, 11, 25, utc_hour, 59, 59, tzinfo=timezone.utc)
    cfg = load_config(server_config(tmp_path, now=now))
    assert cfg.hours.close_day_at == time(17, 30), "the centre's close time is kept, not moved out of the way"
    local = now.astimezone(cfg.tz)
    assert local.hour == 9
    close = local.replace(hour=17, minute=30, second=0)
    assert close - local >= timedelta(hours=7, minutes=30)
    assert morning_zone(now) == cfg.centre.timezone


def open_and_issue(srv) -> dict:
    sup = srv.login("super", "test-super")
    assert srv.post("/api/v1/counters/1/open", headers=sup).status_code == 200
    assert srv.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).status_code == 201
    return sup


def test_a_server_started_at_1745_in_hanoi_keeps_its_counter_open(tmp_path):
    clock = Clock()
    clock.set_local("2026-11-25 17:45")
    srv = make_server(tmp_path, clock)
    try:
        sup = open_and_issue(srv)
        for _ in range(3):  # the keeper's steps over the next 90 s
            clock.advance(30)
            srv.keep_day()
        assert srv.get("/api/v1/counters/1", sup).json()["counter"]["state"] == "open"
        r = srv.post("/api/v1/counters/1/next", headers=sup)
        assert r.status_code == 200 and r.json()["ticket"]["code"] == "1001"
    finally:
        srv.close()


def test_the_keeper_step_does_close_a_day_that_reads_1745(tmp_path):
    """The same step at 17:45 does close a day that was open before 17:30 (a counter opened and a ticket issued
    at 16:00, not in demo mode): the test above could fail."""
    clock = Clock()
    clock.set_local("2026-11-25 16:00")
    cfg = server_config(tmp_path, always_open=False)
    text = cfg.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["centre"]["timezone"] = "Asia/Ho_Chi_Minh"
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = InProcessServer(cfg, tmp_path / "qms.sqlite3", clock)
    try:
        sup = open_and_issue(srv)
        clock.set_local("2026-11-25 17:45")
        srv.keep_day()
        assert srv.get("/api/v1/counters/1", sup).json()["counter"]["state"] == "closed"
        assert srv.post("/api/v1/counters/1/next", headers=sup).status_code == 409
    finally:
        srv.close()


def test_queue_counts_reach_a_display_on_the_tick_the_test_drives(site, sio):
    display = sio({"room": "display:hall-a"})
    assert display.connected
    display.wait_for(lambda e, d: e == "snapshot")
    assert site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).status_code == 201
    assert display.of("queue.updated") == [], "counts are coalesced: none before the tick"
    site.tick()
    counts = display.of("queue.updated")
    assert len(counts) == 1 and counts[0]["services"]["cccd"]["waiting"] == 1


def test_the_app_fixtures_are_one_server_on_a_temporary_database_and_the_clock(app, client, site, tmp_path, clock):
    assert app is site.app
    health = client.get("/healthz").get_json()
    assert health["store"]["path"] == str(tmp_path / "qms.sqlite3") and health["async_mode"] == "threading"
    assert health["store"]["today"] == "2026-11-25"  # the Clock's Wednesday, not the day the tests run
    clock.advance(days=1)
    assert client.get("/healthz").get_json()["store"]["today"] == "2026-11-26"
