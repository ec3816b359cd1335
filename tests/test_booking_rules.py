"""The booking rules (queue_server/core/booking.py) by tables: days open for booking, a day's slots, the derived
capacity, the limits, the one-time code, the no-show block, the arrival window, codes, CCCD and phone numbers."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from queue_server.core import booking as B
from queue_server.core.errors import DomainError

MON_FRI = frozenset(range(5))
TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize("today, n, holidays, always_open, expected", [
    (TODAY, 3, (), False, ["2026-11-25", "2026-11-26", "2026-11-27"]),
    (TODAY, 4, (), False, ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30"]),  # the weekend skipped
    (date(2026, 11, 28), 2, (), False, ["2026-11-30", "2026-12-01"]),  # a Saturday: today is not a working day
    (date(2026, 12, 30), 3, (date(2026, 12, 31), date(2027, 1, 1)), False, ["2026-12-30", "2027-01-04", "2027-01-05"]),
    (date(2026, 11, 28), 2, (), True, ["2026-11-28", "2026-11-29"]),  # always open (demo): every day
])
def test_the_days_open_for_booking(today, n, holidays, always_open, expected):
    got = B.booking_days(today, n, weekdays=MON_FRI, holidays=frozenset(holidays), always_open=always_open)
    assert [d.isoformat() for d in got] == expected


def test_a_centre_open_on_no_day_offers_no_day_and_the_search_ends():
    assert B.booking_days(TODAY, 7, weekdays=frozenset(), holidays=frozenset()) == []


@pytest.mark.parametrize("windows, minutes, expected", [
    ([(time(7, 30), time(11, 15)), (time(13, 15), time(16, 30))], 30,
     ["07:30-08:00", "08:00-08:30", "08:30-09:00", "09:00-09:30", "09:30-10:00", "10:00-10:30", "10:30-11:00",
      "13:15-13:45", "13:45-14:15", "14:15-14:45", "14:45-15:15", "15:15-15:45", "15:45-16:15"]),
    ([(time(8, 0), time(10, 0))], 60, ["08:00-09:00", "09:00-10:00"]),
    ([(time(8, 0), time(8, 20))], 30, []),  # shorter than a slot: none
    ([(time(8, 0), time(9, 0))], 45, ["08:00-08:45"]),
])
def test_a_days_slots(windows, minutes, expected):
    assert [f"{s.label}-{B.hhmm(s.end)}" for s in B.day_slots(windows, minutes)] == expected


@pytest.mark.parametrize("counters, slot, avg, share, expected", [
    (2, 30, 10, 0.5, 3),  # 2 counters see 6 citizens in 30 min; half for bookings
    (2, 30, 10, 1.0, 6),
    (1, 30, 20, 0.5, 0),  # 0.75 rounds down: no place
    (3, 30, 15, 0.5, 3),
    (0, 30, 10, 0.5, 0),
    (5, 30, 7, 0.3, 6),  # 6.43
])
def test_the_derived_capacity(counters, slot, avg, share, expected):
    assert B.derived_capacity(counters, slot, avg, share) == expected


LIMITS = B.Limits(per_id_per_day=2, per_id_per_service_per_day=1, per_phone_per_day=2, per_phone_per_service_per_day=1)


@pytest.mark.parametrize("held, refused", [
    (B.Held(), None),
    (B.Held(id_day=1), None),
    (B.Held(id_day=1, id_service_day=1), "id_service_day"),
    (B.Held(id_day=2), "id_day"),
    (B.Held(phone_day=1), None),
    (B.Held(phone_day=1, phone_service_day=1), "phone_service_day"),
    (B.Held(phone_day=2), "phone_day"),
    (B.Held(id_day=1, phone_day=1), None),
])
def test_the_limits(held, refused):
    if refused is None:
        B.check_limits(LIMITS, held)
    else:
        with pytest.raises(DomainError) as e:
            B.check_limits(LIMITS, held)
        assert (e.value.code, e.value.params["reason"], e.value.http_status) == ("booking_limit", refused, 409)


@pytest.mark.parametrize("taken, start_ms, now_ms, full", [(4, 10, 0, False), (5, 10, 0, True), (0, 10, 10, True),
                                                           (0, 10, 11, True), (0, 10, 9, False)])
def test_a_slot_is_full_when_its_places_are_taken_or_it_has_started(taken, start_ms, now_ms, full):
    if full:
        with pytest.raises(DomainError, match="full"):
            B.check_capacity(5, taken, start_ms=start_ms, now_ms=now_ms, date_text="2026-11-26", start="08:00")
    else:
        B.check_capacity(5, taken, start_ms=start_ms, now_ms=now_ms, date_text="2026-11-26", start="08:00")


@pytest.mark.parametrize("matches, now, attempts, expected", [
    (True, 0, 0, (True, 0, None, 0)),
    (False, 0, 0, (False, 1, "otp_wrong", 4)),
    (False, 0, 3, (False, 4, "otp_wrong", 1)),
    (False, 0, 4, (False, 5, "otp_attempts", 0)),  # the fifth wrong code uses them up
    (True, 0, 5, (False, 5, "otp_attempts", 0)),  # the right code after that is too late
    (True, 1000, 0, (False, 0, "otp_expired", 0)),  # expires_ms = 1000: at that instant it is expired
    (True, 999, 4, (True, 4, None, 0)),
])
def test_the_one_time_code(matches, now, attempts, expected):
    v = B.check_otp(matches=matches, now_ms=now, expires_ms=1000, attempts=attempts, max_attempts=5)
    assert (v.ok, v.attempts, v.error, v.left) == expected


@pytest.mark.parametrize("now, last, sends, expected", [(0, 0, 1, 60), (59_001, 0, 1, 1), (60_000, 0, 1, 0),
                                                        (90_000, 0, 2, 0)])
def test_a_new_code_waits_and_stops(now, last, sends, expected):
    assert B.resend_wait(now_ms=now, last_sent_ms=last, sends=sends, resend_after_seconds=60, max_sends=3) == expected
    with pytest.raises(DomainError, match="No more codes"):
        B.resend_wait(now_ms=now, last_sent_ms=last, sends=3, resend_after_seconds=60, max_sends=3)


def _d(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.mark.parametrize("days, expected", [
    ([], None),
    ([_d(1), _d(2)], None),  # two: not yet
    ([_d(1), _d(2), _d(3)], TODAY + timedelta(days=13)),  # the third, yesterday: 14 days from it
    ([_d(1), _d(15), _d(30)], TODAY + timedelta(days=13)),  # 30 days counting both ends: within
    ([_d(1), _d(15), _d(31)], None),  # 31 days: outside
    ([_d(20), _d(21), _d(22)], None),  # blocked from 20 days ago for 14 days: over
    ([_d(14), _d(15), _d(16)], TODAY),  # the block's last day is today
    ([_d(2), _d(1), _d(3), _d(40)], TODAY + timedelta(days=13)),  # order does not matter
])
def test_the_no_show_block(days, expected):
    assert B.blocked_until(days, TODAY, count=3, within_days=30, block_days=14) == expected


def test_no_block_when_block_days_is_zero():
    assert B.blocked_until([_d(1), _d(2), _d(3)], TODAY, count=3, within_days=30, block_days=0) is None


HANOI = timezone(timedelta(hours=7))


@pytest.mark.parametrize("now, state", [("07:44", "early"), ("07:45", "open"), ("08:14", "open"), ("08:15", "late"),
                                         ("09:00", "late")])
def test_the_arrival_window(now, state):
    start = datetime(2026, 11, 26, 8, 0, tzinfo=HANOI)
    arrival = B.arrival_window(start, before_minutes=15, after_minutes=15)
    at = datetime.combine(start.date(), time.fromisoformat(now), tzinfo=HANOI)
    assert arrival.state(at) == state
    err = B.outside_window(arrival, at)
    assert (err.code, err.http_status, err.params["arrive_from"], err.params["arrive_until"]) == \
        ("outside_window", 409, "07:45", "08:15")


@pytest.mark.parametrize("text, code", [("ABCDEFGH", "ABCDEFGH"), ("abcd-efgh", "ABCDEFGH"), (" 2345 6789 ", "23456789"),
                                        ("ABCDEFG0", None), ("ABCDEFGI", None), ("ABCDEFG", None), ("ABCDEFGHJ", None),
                                        (12345678, None), ("001090123456|", None), ("ĂBCDEFGH", None)])
def test_reading_a_booking_code(text, code):
    assert B.read_code(text) == code


def test_a_made_code_uses_the_alphabet_only():
    import random

    rng = random.Random(7)
    codes = {B.make_code(rng.randrange) for _ in range(200)}
    assert len(codes) == 200 and all(B.read_code(c) == c for c in codes)
    assert not set("".join(codes)) & set("0O1IL")


@pytest.mark.parametrize("text, phone", [("0912345678", "0912345678"), ("+84912345678", "0912345678"),
                                         ("84 912 345 678", "0912345678"), ("091.234.5678", "0912345678"),
                                         ("0312345678", "0312345678"), ("0512345678", "0512345678"),
                                         ("0712345678", "0712345678"), ("0812345678", "0812345678"),
                                         ("0212345678", None), ("0412345678", None), ("091234567", None),
                                         ("09123456789", None), ("+8591234567", None), ("", None), (None, None),
                                         ("０912345678", None), ("0912345678\ud800", None)])
def test_mobile_numbers(text, phone):
    if phone is None:
        with pytest.raises(DomainError) as e:
            B.normalise_phone(text)
        assert (e.value.code, e.value.http_status) == ("phone_invalid", 400)
    else:
        assert B.normalise_phone(text) == phone


@pytest.mark.parametrize("cccd, reason", [("001090123456", None), ("001 090 123 456", None),
                                          ("001290123456", "birth_year"),  # born 2090
                                          ("003090123456", "province"), ("00109012345", "format"),
                                          ("00109012345a", "format"), (1090123456, "format")])
def test_citizen_ids_are_checked_by_the_card_rules(cccd, reason):
    if reason is None:
        assert B.check_identity(cccd, TODAY) == "001090123456"
    else:
        with pytest.raises(DomainError) as e:
            B.check_identity(cccd, TODAY)
        assert (e.value.code, e.value.params["reason"]) == ("cccd_invalid", reason)


def test_messages_keep_their_diacritics_and_speak_english_when_asked():
    vi = B.otp_message("042137", service="Cấp đổi căn cước", date_text="26/11/2026", start="08:00", ttl_minutes=5, lang="vi")
    en = B.otp_message("042137", service="Identity card", date_text="2026-11-26", start="08:00", ttl_minutes=5, lang="en")
    assert "042137" in vi and "Mã xác nhận đặt lịch Cấp đổi căn cước" in vi and "Không chia sẻ" in vi
    assert "042137" in en and "Identity card" in en and "Do not share" in en


@pytest.mark.parametrize("start, window, opens, closes", [
    ("07:30", ("07:30", "11:15"), "07:30", "07:45"),  # the kiosk issues nothing before the window opens
    ("08:00", ("07:30", "11:15"), "07:45", "08:15"),
    ("11:00", ("07:30", "11:10"), "10:45", "11:10"),  # nor after it closes
    ("13:15", None, "13:00", "13:30"),
])
def test_the_arrival_window_stays_within_the_opening_window(start, window, opens, closes):
    at = datetime.combine(date(2026, 11, 26), time.fromisoformat(start), tzinfo=HANOI)
    w = (time.fromisoformat(window[0]), time.fromisoformat(window[1])) if window else None
    a = B.arrival_window(at, before_minutes=15, after_minutes=15, window=w)
    assert (B.hhmm(a.opens.time()), B.hhmm(a.closes.time())) == (opens, closes)


def test_the_window_a_slot_lies_in():
    windows = [(time(7, 30), time(11, 15)), (time(13, 15), time(16, 30))]
    assert B.window_of(windows, time(13, 15)) == windows[1] and B.window_of(windows, time(11, 15)) is None
