"""The day keeper, one pass at a time on an injected clock: the scheduled close at hours.close_day_at (once a
day), the close of earlier days' leftovers after midnight, and what each close pushes to a display.

The app runs in process (no background tasks); `day_keeper_pass(ctx)` is what the keeper runs every 30 s.
"""
from __future__ import annotations

import json

import pytest

from conftest import Clock
from queue_server.web.app import create_app, day_keeper_pass
from storecheck import check_invariants, config_variant, dump

DAY, NEXT_DAY = "2026-11-25", "2026-11-26"  # a Wednesday and a Thursday


@pytest.fixture
def keeper(tmp_path):
    """(ctx, clock, display socket) on the fixture centre (not in demo mode: `queue.always_open` is false).
    Tickets after the close come from services a supervisor opened by hand (`open_by_hand`)."""
    clock = Clock()
    app = create_app(config_variant(), db_path=str(tmp_path / "keeper.sqlite3"),
                     async_mode="threading", clock=clock, start_background=False)
    ctx = app.extensions["qms"]
    display = ctx.socketio.test_client(app, auth={"room": "display:hall"})
    assert display.is_connected()
    display.get_received()  # hello and snapshot
    yield ctx, clock, display
    display.disconnect()
    check_invariants(ctx.store.conn, ctx.store.config)
    ctx.store.close()


def unserved_pushed(display) -> set[int]:
    """Ids of the tickets whose change to unserved reached the display since the last look."""
    return {m["args"][0]["ticket"]["id"] for m in display.get_received()
            if m["name"] == "ticket.updated" and m["args"][0]["ticket"]["status"] == "unserved"}


def open_by_hand(ctx, *services: str) -> None:
    for service in services:
        ctx.store.set_service_state(service, manual="open", actor="supervisor")


def status(ctx, ticket_id: int) -> str:
    return ctx.store.ticket(ticket_id)["status"]


def last_close_day(ctx) -> str | None:
    row = ctx.store.conn.execute("SELECT value FROM meta WHERE key = 'last_close'").fetchone()
    return json.loads(row[0])["day"] if row else None


def test_the_day_closes_at_close_day_at_and_not_a_second_before(keeper):
    ctx, clock, display = keeper
    s = ctx.store
    assert ctx.config.hours.close_day_at.strftime("%H:%M") == "17:30"
    s.set_counter_state("1", "open", staff_id=3)
    served = s.issue("cccd").ticket["id"]
    at_counter = s.issue("cccd").ticket["id"]
    s.call_code("1", s.ticket(served)["code"])
    s.call_code("1", s.ticket(at_counter)["code"])  # finishes `served`, calls `at_counter`
    waiting = s.issue("passport").ticket["id"]
    display.get_received()

    clock.set_local(f"{DAY} 17:29:59")
    before = dump(s.conn)
    day_keeper_pass(ctx)
    assert dump(s.conn) == before, "the keeper changed something before close_day_at"
    assert unserved_pushed(display) == set()

    clock.set_local(f"{DAY} 17:30")
    day_keeper_pass(ctx)
    assert (status(ctx, served), status(ctx, at_counter), status(ctx, waiting)) == ("done", "unserved", "unserved")
    assert all(c["state"] == "closed" and c["current_ticket_id"] is None for c in s.counters())
    assert last_close_day(ctx) == DAY
    assert unserved_pushed(display) == {at_counter, waiting}
    actors = [r[0] for r in s.conn.execute("SELECT actor FROM events WHERE type = 'ticket.unserved'")]
    assert actors == ["schedule", "schedule"]


def test_the_scheduled_close_runs_once_a_day(keeper):
    ctx, clock, display = keeper
    s = ctx.store
    s.issue("civil")
    clock.set_local(f"{DAY} 17:30")
    day_keeper_pass(ctx)
    clock.set_local(f"{DAY} 18:00")
    open_by_hand(ctx, "civil")
    evening = s.issue("civil").ticket["id"]  # issued after the close
    display.get_received()
    before = dump(s.conn)
    for _ in range(3):
        clock.advance(30)
        day_keeper_pass(ctx)
    assert status(ctx, evening) == "waiting"
    assert dump(s.conn) == before and unserved_pushed(display) == set()


def test_after_midnight_the_leftovers_close_and_the_next_day_closes_again(keeper):
    ctx, clock, display = keeper
    s = ctx.store
    s.issue("civil")  # the day was open before close_day_at
    clock.set_local(f"{DAY} 17:30")
    day_keeper_pass(ctx)
    clock.set_local(f"{DAY} 23:50")
    open_by_hand(ctx, "cccd")
    late = s.issue("cccd").ticket["id"]
    display.get_received()

    clock.set_local(f"{NEXT_DAY} 00:00:30")
    day_keeper_pass(ctx)
    assert status(ctx, late) == "unserved"
    assert unserved_pushed(display) == {late}
    assert last_close_day(ctx) == DAY, "closing yesterday's leftovers is not today's close"

    clock.set_local(f"{NEXT_DAY} 09:00")
    today = s.issue("cccd").ticket["id"]
    day_keeper_pass(ctx)
    assert status(ctx, today) == "waiting"
    clock.set_local(f"{NEXT_DAY} 17:30")
    day_keeper_pass(ctx)
    assert status(ctx, today) == "unserved" and last_close_day(ctx) == NEXT_DAY
    assert unserved_pushed(display) == {today}


def test_one_pass_that_closes_yesterday_and_today_pushes_both(keeper):
    """The server was asleep from yesterday afternoon to this evening: one pass closes yesterday's leftovers and
    then today's day; the displays hear of both."""
    ctx, clock, display = keeper
    s = ctx.store
    clock.set_local(f"{DAY} 16:00")
    yesterday = s.issue("cccd").ticket["id"]
    clock.set_local(f"{NEXT_DAY} 09:00")
    today = s.issue("civil").ticket["id"]
    display.get_received()
    clock.set_local(f"{NEXT_DAY} 18:00")
    day_keeper_pass(ctx)
    assert (status(ctx, yesterday), status(ctx, today)) == ("unserved", "unserved")
    assert unserved_pushed(display) == {yesterday, today}
    assert last_close_day(ctx) == NEXT_DAY
