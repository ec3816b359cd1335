"""The day-closing rule at every hour of the day (docs/rules.md, section 10 "The day keeper"), in process on the
test clock: one app per case, one local day per hour tested, `day_keeper_pass` as the keeper runs it.

- a centre first used at any hour keeps what was done for the keeper's next passes (the evening demo);
- a day that was open before `hours.close_day_at` closes at it, not a second before, at whatever hour the
  keeper next runs after it;
- in demo mode (`queue.always_open`) the day closes only at its end, after midnight.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from conftest import Clock
from queue_server.day_keeper import closes_now
from queue_server.store import meta
from queue_server.web.app import create_app, day_keeper_pass
from storecheck import check_invariants, config_variant

FIRST_DAY = date(2026, 11, 2)  # a Monday; one day per hour tested: 2 Nov (00:xx) to 25 Nov (23:xx)
LATER = date(2026, 12, 1)  # the second test's 24 days on the same centre: 1 to 24 December


def make_centre(tmp, always_open: bool):
    clock = Clock()
    app = create_app(config_variant(queue={"always_open": always_open}), db_path=str(tmp / "day.sqlite3"),
                     async_mode="threading", clock=clock, start_background=False)
    ctx = app.extensions["qms"]
    ctx.store.set_service_state("cccd", manual="open", actor="supervisor")  # tickets at any hour
    return ctx, clock


@pytest.fixture(scope="module")
def regular(tmp_path_factory):
    """(ctx, clock) of the fixture centre, not in demo mode; each test below has its own 24 days on it."""
    ctx, clock = make_centre(tmp_path_factory.mktemp("regular"), False)
    yield ctx, clock
    check_invariants(ctx.store.conn, ctx.store.config)
    ctx.store.close()


@pytest.fixture
def demo(tmp_path):
    ctx, clock = make_centre(tmp_path, True)
    yield ctx, clock
    check_invariants(ctx.store.conn, ctx.store.config)
    ctx.store.close()


def day_of(hour: int, first: date = FIRST_DAY) -> str:
    return (first + timedelta(days=hour)).isoformat()


def open_the_day(ctx) -> tuple[int, int]:
    """Counter 1 opened, two tickets issued, the first called: (called, waiting)."""
    s = ctx.store
    s.set_counter_state("1", "open", staff_id=3)
    called, waiting = s.issue("cccd").ticket["id"], s.issue("cccd").ticket["id"]
    s.call_code("1", s.ticket(called)["code"])
    return called, waiting


def state(ctx, called: int, waiting: int) -> tuple[str, str, str]:
    s = ctx.store
    return s.ticket(called)["status"], s.ticket(waiting)["status"], s.counter("1")["state"]


def test_a_centre_first_used_at_any_hour_keeps_what_was_done(regular):
    """Started at h:00 (the server, or the first person trying it), every hour: the keeper's passes over the
    next 90 s close nothing of it, not even at 18:00 or 23:00."""
    ctx, clock = regular
    for hour in range(24):
        clock.set_local(f"{day_of(hour)} {hour:02d}:00")
        day_keeper_pass(ctx)  # yesterday's leftovers close here
        called, waiting = open_the_day(ctx)
        for _ in range(3):
            clock.advance(30)
            day_keeper_pass(ctx)
            assert state(ctx, called, waiting) == ("called", "waiting", "open"), f"{hour:02d}:00"
        assert meta.last_close_day(ctx.store) != day_of(hour)


def test_a_day_open_before_close_day_at_closes_at_it_whatever_the_hour_of_the_pass(regular):
    """Opened at 00:10; the keeper then runs at h:00, h:29:59, h:30 and h:59:59 (each hour on its own day): the
    day is closed by the first pass at or after 17:30, and only by it."""
    ctx, clock = regular
    assert ctx.config.hours.close_day_at.strftime("%H:%M") == "17:30"
    for hour in range(24):
        clock.set_local(f"{day_of(hour, LATER)} 00:10")
        day_keeper_pass(ctx)
        called, waiting = open_the_day(ctx)
        for minute in ("00:00", "29:59", "30:00", "59:59"):
            if (hour, minute) < (0, "10:00"):
                continue
            clock.set_local(f"{day_of(hour, LATER)} {hour:02d}:{minute}")
            day_keeper_pass(ctx)
            after_close = (hour, minute) >= (17, "30:00")
            expected = ("unserved", "unserved", "closed") if after_close else ("called", "waiting", "open")
            assert state(ctx, called, waiting) == expected, f"{hour:02d}:{minute}"
            assert (meta.last_close_day(ctx.store) == day_of(hour, LATER)) == after_close


def test_in_demo_mode_the_day_closes_only_at_its_end(demo):
    """queue.always_open: open at 00:10, the keeper at h:00, h:30 and h:59:59 closes nothing, at any hour; the
    first pass after midnight closes the day's leftovers."""
    ctx, clock = demo
    for hour in range(24):
        clock.set_local(f"{day_of(hour)} 00:10")
        day_keeper_pass(ctx)
        called, waiting = open_the_day(ctx)
        for minute in ("00:00", "30:00", "59:59"):
            clock.set_local(f"{day_of(hour)} {hour:02d}:{minute}")
            day_keeper_pass(ctx)
            assert state(ctx, called, waiting) == ("called", "waiting", "open"), f"{hour:02d}:{minute}"
        clock.set_local(f"{day_of(hour + 1)} 00:00:30")
        day_keeper_pass(ctx)
        assert state(ctx, called, waiting) == ("unserved", "unserved", "closed"), f"after {day_of(hour)}"
    assert meta.last_close_day(ctx.store) is None, "no scheduled close in demo mode"


def test_the_rule_as_a_table():
    from datetime import datetime, time

    close_at = time(17, 30)
    evening, afternoon = datetime(2026, 11, 25, 17, 30), datetime(2026, 11, 25, 17, 29, 59)
    assert closes_now(evening, close_at, always_open=False, closed_today=False, open_before_close=lambda: True)
    assert not closes_now(afternoon, close_at, always_open=False, closed_today=False, open_before_close=lambda: True)
    assert not closes_now(evening, close_at, always_open=False, closed_today=False, open_before_close=lambda: False)
    assert not closes_now(evening, close_at, always_open=False, closed_today=True, open_before_close=lambda: True)
    assert not closes_now(evening, close_at, always_open=True, closed_today=False, open_before_close=lambda: True)
