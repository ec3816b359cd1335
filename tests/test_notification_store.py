"""The bookings' foundation in the store (migration 0014_bookings_base): a ticket's booking and slot, the phone
number given for its notices (ticket_contacts, never on a public view), a counter's walk-in streak, and the
notification outbox (store/notifications.py).

The clock is the fixture's (Wednesday 2026-11-25 09:00 local); nothing here depends on the hour it runs.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest
from sqlite_utils import Database

from queue_server.core import rules as E
from queue_server.core.errors import DomainError
from queue_server.store import Store, notifications
from queue_server.store.rows import OpResult
from queue_server.store.schema import migrations
from storecheck import check_invariants, dump

PHONE = "0912345678"
SLOT_MS = 1_795_573_800_000  # the 09:30 slot of the fixture's day (2026-11-25, local)


def all_rows(store, table: str) -> list[tuple]:
    return [tuple(r) for r in store.conn.execute(f"SELECT * FROM {table} ORDER BY 1")]


# ------------------------------------------------------------------ a ticket's booking and contact
def test_a_booked_ticket_keeps_its_booking_slot_and_phone(store, clock):
    t = store.issue("cccd", source="online", booking_id=41, slot_start_ms=SLOT_MS, phone=PHONE, lang="en").ticket
    assert (t["booking_id"], t["slot_start_ms"], t["source"]) == (41, SLOT_MS, "online")
    again = store.ticket(t["id"])  # read back from its row
    assert (again["booking_id"], again["slot_start_ms"]) == (41, SLOT_MS)
    assert store.ticket_by_token(t["token"])["booking_id"] == 41
    assert notifications.contact(store, t["id"]) == {"phone": PHONE, "lang": "en"}
    assert all_rows(store, "ticket_contacts") == [(t["id"], PHONE, "en", store.now_ms())]
    issued = [e for e in store.events_since(0) if e["type"] == "ticket.issued"]
    assert issued[-1]["data"]["booking"] == 41 and issued[-1]["data"]["slot_start_ms"] == SLOT_MS
    check_invariants(store.conn, store.config)  # the log's replay agrees with the row, booking included


def test_a_walk_in_has_no_booking_no_slot_and_no_contact(store):
    t = store.issue("cccd").ticket
    assert (t["booking_id"], t["slot_start_ms"]) == (None, None)
    assert notifications.contact(store, t["id"]) is None
    assert all_rows(store, "ticket_contacts") == []
    assert "booking" not in store.events_since(0)[-1]["data"]  # a walk-in's event is as it was
    remote = store.issue("cccd", source="remote", phone=PHONE).ticket  # a number taken on the phone in the hall
    assert remote["booking_id"] is None and notifications.contact(store, remote["id"]) == {"phone": PHONE, "lang": "vi"}
    check_invariants(store.conn, store.config)


def test_a_refused_issue_keeps_no_phone(store, clock):
    store.issue("cccd")
    clock.set_local("2026-11-25 12:00")  # between the morning and afternoon windows
    before = dump(store.conn)
    with pytest.raises(DomainError) as err:
        store.issue("cccd", booking_id=7, slot_start_ms=SLOT_MS, phone=PHONE)
    assert err.value.code == "service_closed"
    assert dump(store.conn) == before and all_rows(store, "ticket_contacts") == []


def test_no_public_view_of_a_ticket_shows_its_phone(site):
    t = site.ctx.store.issue("cccd", booking_id=3, slot_start_ms=SLOT_MS, phone=PHONE).ticket
    display = site.ctx.config.devices.displays[0].id
    for path in (f"/api/v1/tickets/{t['id']}", f"/api/v1/status/{t['token']}", f"/api/v1/displays/{display}"):
        r = site.get(path)
        assert r.status_code == 200 and PHONE not in r.text, path
    assert PHONE not in json.dumps(site.ctx.read.ticket_staff(site.ctx.store.ticket(t["id"])), ensure_ascii=False)


# ------------------------------------------------------------------ a counter's walk-in streak
def test_a_counters_walk_in_streak_round_trips(open_store):
    s = open_store
    assert s.counter("1")["walk_in_streak"] == 0
    with s.writer.transaction() as c:
        k = s._counter(c, "1")
        s._apply(c, E.Outcome(counters=(replace(k, walk_in_streak=3),)), actor=None, staff_id=None,
                 result=OpResult(), now=s.now_ms())
    assert s.counter("1")["walk_in_streak"] == 3
    with s.writer.transaction() as c:
        assert s._counter(c, "1").walk_in_streak == 3
    assert s.counter("2")["walk_in_streak"] == 0


# ------------------------------------------------------------------ the outbox
def test_enqueue_writes_inside_the_callers_transaction(store, clock):
    now = store.now_ms()
    with store.writer.transaction() as c:
        mid = notifications.enqueue(store, c, kind="otp", to_phone=PHONE, body="Mã OTP: 123456", booking_id=9,
                                    now=now)
    (row,) = notifications.outbox(store)
    assert row["id"] == mid and row["kind"] == "otp" and row["booking_id"] == 9 and row["ticket_id"] is None
    assert (row["state"], row["attempts"], row["next_ms"], row["created_ms"], row["lease_ms"]) == ("pending", 0, now, now, 0)
    assert (row["day"], row["channel"], row["lang"], row["body"]) == ("2026-11-25", "sms", "vi", "Mã OTP: 123456")
    with pytest.raises(RuntimeError):  # the caller's transaction rolls back: its message goes with it
        with store.writer.transaction() as c:
            notifications.enqueue(store, c, kind="booking", to_phone=PHONE, body="x", now=now)
            raise RuntimeError("refused after the message was written")
    assert [r["id"] for r in notifications.outbox(store)] == [mid]


def test_a_deduplicated_notice_is_queued_once(store):
    t = store.issue("cccd", phone=PHONE).ticket
    first = notifications.queue_message(store, kind="near", to_phone=PHONE, body="Sắp đến lượt bạn",
                                        ticket_id=t["id"], dedupe=f"near:{t['id']}")
    again = notifications.queue_message(store, kind="near", to_phone=PHONE, body="Sắp đến lượt bạn (2)",
                                        ticket_id=t["id"], dedupe=f"near:{t['id']}")
    assert isinstance(first, int) and again is None
    assert [(r["id"], r["body"]) for r in notifications.outbox(store)] == [(first, "Sắp đến lượt bạn")]
    no_key = [notifications.queue_message(store, kind="broadcast", to_phone=PHONE, body="Quầy 3 tạm nghỉ")
              for _ in range(2)]  # messages without a key are never folded together
    assert None not in no_key and len(set(no_key)) == 2 and len(notifications.outbox(store)) == 3


def test_the_outbox_is_newest_first_and_filters(store, clock):
    ids = []
    for kind in ("otp", "booking", "near", "called", "broadcast"):
        ids.append(notifications.queue_message(store, kind=kind, to_phone=PHONE, body=kind, lang="en"))
        clock.advance(1)
    with store.writer.transaction() as c:  # a sender marks one sent (the sender itself is another module's)
        c.execute("UPDATE messages SET state = 'sent', sent_ms = 1 WHERE id = ?", (ids[1],))
    assert [r["id"] for r in notifications.outbox(store)] == ids[::-1]
    assert [r["id"] for r in notifications.outbox(store, state="sent")] == [ids[1]]
    assert [r["id"] for r in notifications.outbox(store, state="pending", kind="near")] == [ids[2]]
    assert [r["id"] for r in notifications.outbox(store, kind="booking", state="pending")] == []
    assert [r["id"] for r in notifications.outbox(store, limit=2)] == ids[:-3:-1]
    assert notifications.outbox(store, limit=-5) == []


def test_a_message_of_an_unknown_kind_is_refused_and_writes_nothing(store):
    with pytest.raises(ValueError):
        notifications.queue_message(store, kind="spam", to_phone=PHONE, body="x")
    with pytest.raises(sqlite3.IntegrityError):  # and the table's CHECK holds for any other writer
        with store.writer.transaction() as c:
            c.execute("INSERT INTO messages (created_ms, day, kind, to_phone, body, next_ms) "
                      "VALUES (0, 'd', 'spam', 'p', 'b', 0)")
    assert notifications.outbox(store) == []


# ------------------------------------------------------------------ the migration on a database already in use
def test_0014_adds_to_a_database_of_0013_without_touching_its_rows(tmp_path, config, clock):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    migrations.apply(Database(conn), stop_before="0014_bookings_base")
    conn.execute("""INSERT INTO tickets (day, service_id, seq_key, seq_index, number, code, status, source,
                                         issued_ms, queued_ms, token)
                    VALUES ('2026-11-24', 'cccd', 'police', 0, 1001, '1001', 'done', 'walk_in', 1, 1, 'tok')""")
    conn.commit()
    conn.close()
    store = Store(path, config, clock=clock)
    try:
        assert store.migrated[:1] == ["0014_bookings_base"]  # later migrations (0015_bookings, ...) follow it
        old = store.ticket_by_token("tok")
        assert (old["code"], old["booking_id"], old["slot_start_ms"]) == ("1001", None, None)
        assert {c["walk_in_streak"] for c in store.counters()} == {0}
        assert store.issue("cccd", booking_id=1, slot_start_ms=SLOT_MS).ticket["booking_id"] == 1
    finally:
        store.close()
