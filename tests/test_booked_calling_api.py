"""Booked tickets from the real check-in, called in the documented order (docs/rules.md section 5, "Booked
tickets"): bookings made and confirmed over the API, checked in at the kiosk before and after their slot
begins, among walk-ins from the kiosk; counter 1 (cccd, passport) presses "next" (queue.walk_ins_per_booked 2)."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from conftest import FIXTURES
from inproc import InProcessServer
from queue_server.store import notifications

TOMORROW = "2026-11-26"
KIOSK = {"Authorization": "Bearer test-kiosk-token-1"}


@pytest.fixture
def srv(tmp_path, clock):
    s = InProcessServer(FIXTURES / "centre.yaml", tmp_path / "qms.sqlite3", clock)
    yield s
    s.close()


def booked_code(srv, cccd: str, phone: str, start: str) -> str:
    made = srv.post("/api/v1/bookings", {"service": "cccd", "date": TOMORROW, "start": start, "cccd": cccd,
                                         "phone": phone})
    assert made.status_code == 202, made.json()
    body = next(m["body"] for m in notifications.outbox(srv.ctx.store, kind="otp") if m["to_phone"] == phone)
    otp = re.search(r"(?<![\d/])(\d{6})(?![\d/])", body).group(1)
    got = srv.post(f"/api/v1/bookings/{made.json()['booking_id']}/confirm", {"otp": otp})
    assert got.status_code == 201, got.json()
    return got.json()["code"]


def check_in(srv, code: str) -> dict:
    r = srv.post("/api/v1/bookings/check-in", {"code": code}, headers=KIOSK)
    assert r.status_code == 201, r.json()
    return r.json()["ticket"]


def walk_in(srv) -> dict:
    r = srv.post("/api/v1/tickets", {"service": "cccd"}, headers=KIOSK)
    assert r.status_code == 201, r.json()
    return r.json()


def test_checked_in_bookings_are_called_in_the_documented_order(srv, clock):
    store = srv.ctx.store
    assert store.config.queue.walk_ins_per_booked == 2
    early_code = booked_code(srv, "001090000001", "0912000001", "08:00")
    later_code = booked_code(srv, "079195000002", "0987000002", "08:30")

    clock.set_local(f"{TOMORROW} 07:50")
    store.close_stale_days()
    store.set_counter_state("1", "open")
    a = check_in(srv, early_code)  # first in the hall, 10 minutes before its slot
    slot_ms = int(datetime.fromisoformat(f"{TOMORROW}T08:00:00+07:00").timestamp() * 1000)
    row = store.ticket(a["id"])
    assert (row["source"], row["slot_start_ms"]) == ("online", slot_ms)
    w = []
    for _ in range(3):
        clock.advance(30)
        w.append(walk_in(srv)["id"])

    def next_call() -> int:
        clock.advance(60)
        return store.call_next("1").ticket["id"]

    assert next_call() == w[0]  # 07:52: the booking's slot has not begun: it does not go ahead
    clock.set_local(f"{TOMORROW} 08:00")
    assert next_call() == w[1]  # its slot has begun; one walk-in called since the last booked one: one more
    assert next_call() == a["id"]  # two walk-ins: now the due booked ticket, ahead of the third walk-in
    assert store.counter("1")["walk_in_streak"] == 0
    clock.set_local(f"{TOMORROW} 08:20")
    b = check_in(srv, later_code)  # its slot begins at 08:30
    assert next_call() == w[2]
    assert next_call() == b["id"]  # nothing else waits: called before its slot, the counter does not idle
    assert store.ticket(b["id"])["source"] == "online"
