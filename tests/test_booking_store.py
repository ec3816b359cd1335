"""Bookings in the store (queue_server/store/bookings.py, booking_upkeep.py) on a real SQLite file with the test
clock: capacity under 100 concurrent threads, the one-time code's expiry and attempts, the limits, cancelling
with the same identity only, the no-show block, the retention purge, and no personal data in the event log."""
from __future__ import annotations

import re
import threading

import pytest

from queue_server.core.errors import DomainError
from queue_server.store import Store, notifications
from queue_server.store import bookings as rows
from queue_server.store.booking_upkeep import upkeep

TOMORROW = "2026-11-26"  # the clock: Wednesday 2026-11-25 09:00 in Hà Nội


def person(i: int) -> tuple[str, str]:
    """A valid CCCD (Hà Nội, born 1990) and a mobile number, different for each i."""
    return f"0010900{i:05d}", f"09{i:08d}"


def book(store, i: int = 1, *, service="cccd", day=TOMORROW, start="08:00", lang="vi", phone=None) -> dict:
    cccd, own_phone = person(i)
    return rows.create(store, service_id=service, day_text=day, start=start, id_number=cccd, phone=phone or own_phone,
                       lang=lang)


def otp_of(store, booking_id: int) -> str:
    body = next(m["body"] for m in notifications.outbox(store, kind="otp") if m["booking_id"] == booking_id)
    return re.search(r"(?<![\d/])(\d{6})(?![\d/])", body).group(1)


def booked(store, i: int = 1, **kw) -> dict:
    made = book(store, i, **kw)
    return rows.confirm(store, made["booking_id"], otp_of(store, made["id"]))


def left(store, service="cccd", day=TOMORROW, start="08:00") -> int:
    return next(s["left"] for s in rows.slots(store, service, day) if s["start"] == start)


def refused(code: str, fn, *args, **kw) -> DomainError:
    with pytest.raises(DomainError) as e:
        fn(*args, **kw)
    assert e.value.code == code, e.value.to_dict("en")
    return e.value


def with_booking(config, **changes):
    return config.model_copy(update={"booking": config.booking.model_copy(update=changes)})


def test_100_threads_on_one_slot_of_capacity_5_get_exactly_5(tmp_path, config, clock):
    cfg = with_booking(config, capacity={"cccd": 5})
    stores = [Store(tmp_path / "qms.sqlite3", cfg, clock=clock) for _ in range(4)]  # four connections, one file
    start = threading.Barrier(100)
    answers: list[str] = []

    def attempt(i: int) -> None:
        start.wait()
        try:
            book(stores[i % 4], i)
            answers.append("held")
        except DomainError as e:
            answers.append(e.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(set(answers)) == ["held", "slot_full"] and answers.count("held") == 5 and len(answers) == 100
    assert stores[0].conn.execute("SELECT COUNT(*) FROM bookings WHERE state = 'pending_otp'").fetchone()[0] == 5
    assert len(notifications.outbox(stores[0], kind="otp")) == 5  # a code for each hold, none for a refusal
    assert left(stores[0]) == 0
    for s in stores:
        s.close()


def test_a_hold_takes_a_place_until_its_code_expires(store, clock):
    cap = left(store)
    assert cap == 3  # derived: 2 counters x 30 min / 10 min x 0.5
    made = book(store)
    assert left(store) == cap - 1
    clock.advance(299)
    assert left(store) == cap - 1
    clock.advance(1)
    assert left(store) == cap  # expired: the place is back before any keeper runs
    refused("otp_expired", rows.confirm, store, made["booking_id"], otp_of(store, made["id"]))
    assert store.conn.execute("SELECT state FROM bookings WHERE id = ?", (made["id"],)).fetchone()[0] == "expired"


def test_wrong_codes_count_and_the_fifth_drops_the_booking(store):
    made = book(store)
    good = otp_of(store, made["id"])
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    for left_after in (4, 3, 2, 1):
        assert refused("otp_wrong", rows.confirm, store, made["booking_id"], bad).params["left"] == left_after
    assert left(store) == 2
    refused("otp_attempts", rows.confirm, store, made["booking_id"], bad)
    assert left(store) == 3  # the place is back
    e = refused("otp_attempts", rows.confirm, store, made["booking_id"], good)  # the right code is too late now
    assert e.http_status == 429


def test_a_confirmation_asked_again_answers_the_same(store):
    made = book(store)
    otp = otp_of(store, made["id"])
    first = rows.confirm(store, made["booking_id"], otp)
    assert rows.confirm(store, made["booking_id"], otp) == first and first["state"] == "confirmed"
    assert [m["kind"] for m in notifications.outbox(store)] == ["booking", "otp"]  # one confirmation message
    assert re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{8}", first["code"])


def test_the_limits_per_identity_and_per_phone(store):
    booked(store, 1, start="08:00")
    refused("booking_limit", book, store, 1, start="08:30")  # one per service and day
    booked(store, 1, service="civil", start="08:30")  # another service: the second of the day
    e = refused("booking_limit", book, store, 1, service="land", start="09:00")
    assert e.params["reason"] == "id_day"
    assert book(store, 1, day="2026-11-27")  # another day is another count
    # a second identity with the first one's phone
    _, phone = person(1)
    assert refused("booking_limit", book, store, 2, phone=phone).params["reason"] == "phone_service_day"
    assert refused("booking_limit", book, store, 2, service="passport", phone=phone).params["reason"] == "phone_day"
    assert book(store, 6)  # someone else: free
    assert store.conn.execute("SELECT COUNT(*) FROM bookings").fetchone()[0] == 4  # the refusals wrote nothing


def test_a_second_try_replaces_the_unconfirmed_hold_of_the_same_identity(store):
    first = book(store, 1, start="08:00")
    second = book(store, 1, start="08:30")
    states = dict(store.conn.execute("SELECT id, state FROM bookings").fetchall())
    assert states == {first["id"]: "expired", second["id"]: "pending_otp"}
    assert left(store, start="08:00") == 3 and left(store, start="08:30") == 2
    refused("booking_state", rows.confirm, store, first["booking_id"], otp_of(store, first["id"]))


def test_cancel_with_the_same_identity_only(store):
    got = booked(store, 1)
    other, _ = person(2)
    before = store.conn.execute("SELECT state FROM bookings").fetchall()
    refused("booking_unknown", rows.cancel, store, got["code"], other)
    refused("booking_unknown", rows.by_code, store, got["code"], other)
    assert store.conn.execute("SELECT state FROM bookings").fetchall() == before and left(store) == 2
    own, _ = person(1)
    assert rows.by_code(store, got["code"], own)["state"] == "confirmed"
    assert rows.cancel(store, got["code"], own)["state"] == "cancelled"
    assert left(store) == 3
    refused("booking_state", rows.cancel, store, got["code"], own)


def test_three_no_shows_block_the_identity_and_its_phone(store, clock):
    days = ["2026-11-26", "2026-11-27", "2026-11-30"]
    for day in days:
        booked(store, 1, day=day)
    clock.set_local("2026-11-30 08:14")
    assert upkeep(store)["no_show"] == 2  # the third is still within its window
    clock.set_local("2026-11-30 08:15")
    assert upkeep(store)["no_show"] == 1
    assert {r[0] for r in store.conn.execute("SELECT state FROM bookings")} == {"no_show"}
    e = refused("booking_blocked", book, store, 1, day="2026-12-01")
    assert e.params["until"] == "2026-12-14"
    refused("booking_blocked", book, store, 2, day="2026-12-01", phone=person(1)[1])  # the same phone
    assert book(store, 3, day="2026-12-01")  # anyone else
    clock.set_local("2026-12-15 09:00")
    assert book(store, 1, day="2026-12-16")  # the block is over


def test_a_checked_in_booking_is_no_no_show_and_one_booking_gets_one_ticket(store, clock):
    got = booked(store, 1)
    clock.set_local(f"{TOMORROW} 07:50")
    found = rows.find_for_check_in(store, code=got["code"])
    result = rows.check_in(store, found, actor="kiosk-1")
    t = result.ticket
    assert (t["source"], t["booking_id"], t["slot_start_ms"]) == ("online", found["id"], found["slot_start_ms"])
    assert notifications.contact(store, t["id"]) == {"phone": person(1)[1], "lang": "vi"}
    refused("booking_state", rows.check_in, store, found, actor="kiosk-2")  # a second kiosk, the same instant
    assert store.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    assert rows.get(store, found["id"])["state"] == "checked_in"
    clock.set_local(f"{TOMORROW} 09:00")
    assert upkeep(store)["no_show"] == 0


def test_personal_data_is_erased_after_its_retention(store, clock):
    got = booked(store, 1)
    cccd, phone = person(1)
    dump = "\n".join(store.conn.iterdump())
    assert cccd not in dump  # never in clear, anywhere in the database
    events = " ".join(r[0] for r in store.conn.execute("SELECT data FROM events WHERE type GLOB 'booking.*'"))
    row = store.conn.execute("SELECT id_hash, phone_hash FROM bookings").fetchone()
    assert '"booking":' in events and '"service":"cccd"' in events  # created, confirmed
    assert not [v for v in (cccd, phone, row["id_hash"], row["phone_hash"]) if v in events]
    clock.set_local(f"{TOMORROW} 12:00")
    upkeep(store)
    assert store.conn.execute("SELECT phone FROM bookings").fetchone()[0] == phone  # its day is not over
    clock.set_local("2026-11-27 09:00")
    out = upkeep(store)
    assert out["phones_erased"] == 1 and tuple(store.conn.execute("SELECT phone, otp_hash FROM bookings").fetchone()) == (None, None)
    assert store.conn.execute("SELECT id_hash IS NOT NULL FROM bookings").fetchone()[0] == 1  # the block needs it
    clock.set_local("2027-02-24 09:00")  # 90 days after the booking's day: kept
    assert upkeep(store)["identities_erased"] == 0
    clock.set_local("2027-02-25 09:00")
    assert upkeep(store)["identities_erased"] == 1
    assert tuple(store.conn.execute("SELECT id_hash, phone_hash, state FROM bookings").fetchone()) == (None, None, "no_show")
    clock.set_local("2027-11-27 09:00")
    assert upkeep(store)["deleted"] == 1 and store.conn.execute("SELECT COUNT(*) FROM bookings").fetchone()[0] == 0


def test_bookings_off_or_a_service_left_out_take_none(tmp_path, config, clock):
    for cfg in (with_booking(config, enabled=False), with_booking(config, services=["civil"])):
        s = Store(tmp_path / f"{id(cfg)}.sqlite3", cfg, clock=clock)
        refused("booking_off", book, s)
        refused("booking_off", rows.slots, s, "cccd", TOMORROW)
        s.close()
    s = Store(tmp_path / "x.sqlite3", config, clock=clock)
    refused("booking_day_closed", rows.slots, s, "cccd", "2026-11-28")  # a Saturday
    refused("booking_day_closed", rows.slots, s, "cccd", "2026-12-04")  # the eighth working day
    refused("slot_unknown", book, s, start="08:10")
    refused("slot_full", book, s, day="2026-11-25", start="08:30")  # today's slot that has started
    s.close()


def test_0015_adds_bookings_to_a_database_in_use_and_leaves_tickets_without_a_booking_row_alone(tmp_path, config, clock):
    import sqlite3

    from sqlite_utils import Database

    from queue_server.store.schema import migrations

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    migrations.apply(Database(conn), stop_before="0015_bookings")
    conn.execute("""INSERT INTO tickets (day, service_id, seq_key, seq_index, number, code, status, source, issued_ms,
                                         queued_ms, token, booking_id) VALUES ('2026-11-24', 'cccd', 'police', 0, 1001,
                                         '1001', 'done', 'online', 1, 1, 'tok', 41)""")
    conn.commit()
    conn.close()
    s = Store(path, config, clock=clock)
    try:
        assert s.migrated[:1] == ["0015_bookings"] and s.ticket_by_token("tok")["booking_id"] == 41
        assert s.issue("cccd", booking_id=42, slot_start_ms=1).ticket["booking_id"] == 42  # no such booking: as before
        assert s.conn.execute("SELECT COUNT(*) FROM bookings").fetchone()[0] == 0
    finally:
        s.close()


def test_the_booking_settings_are_checked_against_the_centre(tmp_path):
    import yaml

    from conftest import FIXTURES
    from queue_server.config import ConfigError, load_config

    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))
    for booking, words in (({"services": ["cccd", "nope"]}, "booking.services[1]: unknown service"),
                           ({"capacity": {"nope": 3}}, "booking.capacity.nope"),
                           ({"capacity": {"cccd": -1}}, "booking.capacity.cccd"),
                           ({"otp": {"digits": 3}}, "booking.otp.digits"),
                           ({"identity_retention_days": 30}, "identity_retention_days"),
                           ({"slot_minutes": 0}, "booking.slot_minutes")):
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump({**data, "booking": {"enabled": True, **booking}}, allow_unicode=True), encoding="utf-8")
        with pytest.raises(ConfigError) as e:
            load_config(path)
        assert words in str(e.value), (booking, str(e.value))


def test_a_new_code_after_a_wait_replaces_the_old_one_and_renews_the_hold(store, clock):
    made = book(store)
    first = otp_of(store, made["id"])
    clock.advance(30)
    assert refused("otp_resend_wait", rows.resend, store, made["booking_id"]).params["retry_after"] == 30
    clock.advance(30)
    assert rows.resend(store, made["booking_id"]) == {"booking_id": made["booking_id"], "otp_sent": True}
    assert len(notifications.outbox(store, kind="otp")) == 2
    second = otp_of(store, made["id"])  # the newest message
    clock.advance(280)  # 340 s after the first code, 280 s after the second: still held
    assert left(store) == 2
    if second != first:  # (one chance in a million that they are equal)
        assert refused("otp_wrong", rows.confirm, store, made["booking_id"], first).params["left"] == 4
    rows.resend(store, made["booking_id"])  # the third code
    clock.advance(60)
    assert refused("otp_sends", rows.resend, store, made["booking_id"]).http_status == 429  # three codes at most
    assert rows.confirm(store, made["booking_id"], otp_of(store, made["id"]))["state"] == "confirmed"
    refused("booking_state", rows.resend, store, made["booking_id"])
    refused("booking_unknown", rows.resend, store, "no-such-booking")


def test_a_booking_of_a_service_the_config_dropped_is_still_confirmed_and_shown(tmp_path, config, clock):
    s = Store(tmp_path / "qms.sqlite3", config, clock=clock)
    made = book(s, service="land", start="08:00")
    departments = [d.model_copy(update={"services": [x for x in d.services if x.id != "land"]}) if d.id == "land"
                   else d for d in config.departments]
    departments = [d for d in departments if d.services]
    smaller = config.model_copy(update={"departments": departments,
                                        "counters": [k for k in config.counters if k.id != "4"]})
    s.reload_config(smaller)
    got = rows.confirm(s, made["booking_id"], otp_of(s, made["id"]))
    assert (got["service"], got["state"], got["arrive_from"]) == ("land", "confirmed", "07:45")
    clock.set_local(f"{TOMORROW} 07:50")
    refused("service_unknown", rows.check_in, s, rows.find_for_check_in(s, code=got["code"]), actor="kiosk-1")
    s.close()
