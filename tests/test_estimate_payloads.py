"""The wait a citizen is shown, through the read models over a real store: people ahead are those the serving
counters will call first, and no counter open / closed for the day are said, not estimated (issue 12 item 4)."""
from __future__ import annotations

from queue_server.read_models import ReadModels


def test_ahead_counts_what_an_order_counter_calls_first(store, clock):
    """Counter 2 (policy order: cccd before passport) alone is open. A passport ticket issued first still
    waits for the three cccd tickets issued after it."""
    store.set_counter_state("2", "open")
    read = ReadModels(store)
    passport = store.issue("passport").ticket
    for _ in range(3):
        clock.advance(30)
        store.issue("cccd")
    shown = read.ticket_public(store.ticket(passport["id"]))
    assert shown["waiting_ahead"] == 3 and shown["wait"]["ahead"] == 3
    assert shown["wait"]["state"] == "estimate" and shown["wait"]["low"] <= 30 <= shown["wait"]["high"]
    assert shown["wait"]["text"]["vi"].startswith("Thời gian chờ dự kiến: khoảng ")
    before = read.wait_for_service("passport")  # one passport ticket more: behind all four
    assert before["ahead"] == 4 and before["state"] == "estimate"
    store.set_counter_state("1", "open")  # a fifo counter opens: it takes the passport ticket first
    clock.advance(1)
    read.refresh_board()  # what the push tick does after a change
    assert read.ticket_public(store.ticket(passport["id"]))["wait"]["state"] == "next"


def test_no_counter_open_is_said_not_estimated(store, clock):
    read = ReadModels(store)
    t = store.issue("cccd").ticket
    out = read.ticket_public(store.ticket(t["id"]))
    assert out["wait"]["state"] == "no_counter" and out["wait"]["minutes"] is None
    assert out["wait"]["text"]["vi"] == "Chưa có quầy nào mở cho dịch vụ này"
    assert read.wait_for_service("cccd")["state"] == "no_counter"
    svc = next(s for s in read.services() if s["id"] == "cccd")
    assert svc["estimated_wait_minutes"] is None and svc["wait"]["state"] == "no_counter"


def test_at_lunch_it_says_when_the_service_opens(store, clock):
    clock.set_local("2026-11-25 12:00")
    read = ReadModels(store)
    w = read.wait_for_service("cccd")
    assert (w["state"], w["opens_at"]) == ("no_counter", "13:15")
    assert w["text"]["en"] == "No counter is open for this service now — expected to open at 13:15"


def test_after_hours_with_no_counter_it_is_closed_for_the_day(store, clock):
    t = store.issue("cccd").ticket
    clock.set_local("2026-11-25 16:45")
    out = ReadModels(store).ticket_public(store.ticket(t["id"]))
    assert out["wait"]["state"] == "closed_today" and out["wait"]["text"]["vi"] == "Đã hết giờ phục vụ hôm nay"
    store.set_counter_state("1", "open")  # a counter still serving the queue after the window: an estimate
    clock.advance(1)
    assert ReadModels(store).ticket_public(store.ticket(t["id"]))["wait"]["state"] == "next"


def test_a_counter_on_break_is_counted_on_its_return(store, clock):
    store.set_counter_state("4", "open")
    store.set_counter_state("4", "break")
    t = store.issue("land").ticket
    w = ReadModels(store).ticket_public(store.ticket(t["id"]))["wait"]
    assert w["state"] == "next" and w["on_break"] == 1 and w["minutes"] >= 10
    assert w["text"]["vi"].endswith("(quầy đang nghỉ giải lao)")


def test_the_kiosk_answer_and_the_slip_carry_the_estimate(store, clock):
    store.set_counter_state("1", "open")
    read = ReadModels(store)
    for _ in range(4):
        store.issue("cccd")
    told = read.wait_for_new("cccd")  # the board made before the write: what the new ticket is told
    result = store.issue("cccd")
    out = read.issued(result, told)
    assert out["waiting_ahead"] == 4 and out["wait"]["state"] == "estimate"
    assert out["estimated_wait_minutes"] == out["wait"]["minutes"] and out["wait"]["low"] < out["wait"]["high"]
    assert read.wait_of(store.ticket(result.ticket["id"])) == out["wait"]
    store.call_next("1")
    clock.advance(1)
    called = read.wait_of(store.ticket(store.counter("1")["current_ticket_id"]))
    assert called["state"] == "not_waiting" and called["text"] == {"vi": "", "en": ""} == called["short"]
