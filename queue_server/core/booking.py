"""Online bookings, the rules (docs/booking.md): the days open for booking, a day's slots, a slot's capacity, the
limits against hoarding, the one-time code, the no-show block, the arrival window, the booking code, a citizen ID
and a mobile number checked. Pure: no I/O, no clock; `today` and `now` are always passed in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

from queue_server.core.citizen_card import check_cccd
from queue_server.core.errors import DomainError

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed without doubt
CODE_LENGTH = 8
STATES = ("pending_otp", "confirmed", "checked_in", "cancelled", "no_show", "expired")
HOLDING = ("pending_otp", "confirmed", "checked_in")  # states that take a place (pending_otp: until its code expires)
MAX_SCAN_DAYS = 400  # the days looked through for `days_ahead` working days, at most
_PHONE = re.compile(r"0(3|5|7|8|9)[0-9]{8}")


# ------------------------------------------------------------------ days and slots
def working_day(day: date, *, weekdays: frozenset[int], holidays: frozenset[date], always_open: bool = False) -> bool:
    """Whether the centre receives citizens on `day` (its weekdays, not a holiday; every day when always open)."""
    return always_open or (day.weekday() in weekdays and day not in holidays)


def booking_days(today: date, days_ahead: int, *, weekdays: frozenset[int], holidays: frozenset[date],
                 always_open: bool = False) -> list[date]:
    """The first `days_ahead` working days from `today` (today included when it is one)."""
    out: list[date] = []
    day = today
    for _ in range(MAX_SCAN_DAYS):
        if len(out) >= days_ahead:
            break
        if working_day(day, weekdays=weekdays, holidays=holidays, always_open=always_open):
            out.append(day)
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class Slot:
    start: time
    end: time

    @property
    def label(self) -> str:
        return hhmm(self.start)


def hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def day_slots(windows: list[tuple[time, time]], slot_minutes: int) -> list[Slot]:
    """The slots of a day: from each opening window's start, one every `slot_minutes`, each ending within the
    window (a last stretch shorter than a slot is not offered)."""
    out: list[Slot] = []
    step = timedelta(minutes=slot_minutes)
    for start, end in windows:
        at = datetime.combine(date.min, start)
        stop = datetime.combine(date.min, end)
        while at + step <= stop:
            out.append(Slot(at.time(), (at + step).time()))
            at += step
    return out


def find_slot(slots: list[Slot], start: str) -> Slot | None:
    return next((s for s in slots if s.label == start), None)


def derived_capacity(counters: int, slot_minutes: int, avg_service_minutes: float, share: float) -> int:
    """Places of one slot when the config names none: the citizens the counters serving the service can see in
    the slot, times the share of their time offered to bookings (the rest stays for walk-ins), rounded down."""
    if counters <= 0 or avg_service_minutes <= 0:
        return 0
    return int(counters * slot_minutes / avg_service_minutes * share + 1e-9)


def parse_day(text: object) -> date:
    """A date written YYYY-MM-DD, or DomainError("bad_request")."""
    try:
        return date.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DomainError("bad_request", detail="date must be YYYY-MM-DD") from None


def check_capacity(capacity: int, taken: int, *, start_ms: int, now_ms: int, date_text: str, start: str) -> None:
    """A place is left in the slot, and the slot has not started; else DomainError("slot_full")."""
    if taken >= capacity or start_ms <= now_ms:
        raise DomainError("slot_full", date=date_text, start=start)


# ------------------------------------------------------------------ limits
@dataclass(frozen=True)
class Limits:
    per_id_per_day: int
    per_id_per_service_per_day: int
    per_phone_per_day: int
    per_phone_per_service_per_day: int


@dataclass(frozen=True)
class Held:
    """Bookings already held on the day asked for (states in HOLDING), counted four ways."""

    id_day: int = 0
    id_service_day: int = 0
    phone_day: int = 0
    phone_service_day: int = 0


def check_limits(limits: Limits, held: Held) -> None:
    """One more booking fits every limit, or DomainError("booking_limit", reason=<which>)."""
    for reason, have, cap in (("id_service_day", held.id_service_day, limits.per_id_per_service_per_day),
                              ("id_day", held.id_day, limits.per_id_per_day),
                              ("phone_service_day", held.phone_service_day, limits.per_phone_per_service_per_day),
                              ("phone_day", held.phone_day, limits.per_phone_per_day)):
        if have >= cap:
            raise DomainError("booking_limit", reason=reason)


def blocked_until(no_show_days: list[date], today: date, *, count: int, within_days: int,
                  block_days: int) -> date | None:
    """The last day of a no-show block in force on `today`, or None. A block starts on the day of a no-show that
    makes `count` within `within_days` (that day included) and lasts `block_days` days after it."""
    if block_days <= 0:
        return None
    days = sorted(no_show_days)
    until: date | None = None
    for i, day in enumerate(days):
        first = day - timedelta(days=within_days - 1)
        if sum(1 for d in days[: i + 1] if d >= first) >= count:
            end = day + timedelta(days=block_days)
            if end >= today and (until is None or end > until):
                until = end
    return until


# ------------------------------------------------------------------ one-time code
@dataclass(frozen=True)
class OtpVerdict:
    ok: bool
    attempts: int  # the attempts counted after this one
    error: str | None = None  # otp_wrong | otp_expired | otp_attempts
    left: int = 0  # tries left after a wrong code


def check_otp(*, matches: bool, now_ms: int, expires_ms: int, attempts: int, max_attempts: int) -> OtpVerdict:
    """One try of a code. An expired code is refused whatever it is; a code tried `max_attempts` times wrong is
    used up (the booking is dropped); a wrong one counts."""
    if attempts >= max_attempts:
        return OtpVerdict(False, attempts, "otp_attempts")
    if now_ms >= expires_ms:
        return OtpVerdict(False, attempts, "otp_expired")
    if matches:
        return OtpVerdict(True, attempts)
    attempts += 1
    if attempts >= max_attempts:
        return OtpVerdict(False, attempts, "otp_attempts")
    return OtpVerdict(False, attempts, "otp_wrong", left=max_attempts - attempts)


def require_state(state: str, *allowed: str) -> None:
    """The booking is in one of the `allowed` states, or DomainError("booking_state", reason=state)."""
    if state not in allowed:
        raise DomainError("booking_state", reason=state)


def confirm_refused(state: str, *, attempts: int, max_attempts: int) -> DomainError:
    """Why a booking that no longer waits for its code refuses one: its codes used up, or its state."""
    if state == "expired" and attempts >= max_attempts:
        return DomainError("otp_attempts")
    return DomainError("booking_state", reason=state)


def resend_wait(*, now_ms: int, last_sent_ms: int, sends: int, resend_after_seconds: int, max_sends: int) -> int:
    """Seconds to wait before another code may be sent (0: now). A booking past `max_sends` gets no more codes:
    DomainError("otp_sends")."""
    if sends >= max_sends:
        raise DomainError("otp_sends")
    wait_ms = last_sent_ms + resend_after_seconds * 1000 - now_ms
    return max(0, -(-wait_ms // 1000))


def make_otp(digits: int, randbelow: Callable[[int], int]) -> str:
    return f"{randbelow(10 ** digits):0{digits}d}"


# ------------------------------------------------------------------ the arrival window
@dataclass(frozen=True)
class Arrival:
    opens: datetime
    closes: datetime

    def state(self, now: datetime) -> str:
        """early | open | late (open: opens <= now < closes)."""
        if now < self.opens:
            return "early"
        return "open" if now < self.closes else "late"


def arrival_window(slot_start: datetime, *, before_minutes: int, after_minutes: int,
                   window: tuple[time, time] | None = None) -> Arrival:
    """When a booked citizen may check in: from `before_minutes` before the slot's start to `after_minutes`
    after it, within the opening window the slot lies in (`window`, local times: the kiosk issues no ticket
    outside it). A booking not checked in by then is a no-show of the booking."""
    opens = slot_start - timedelta(minutes=before_minutes)
    closes = slot_start + timedelta(minutes=after_minutes)
    if window is not None:
        opens = max(opens, slot_start.replace(hour=window[0].hour, minute=window[0].minute, second=0, microsecond=0))
        closes = min(closes, slot_start.replace(hour=window[1].hour, minute=window[1].minute, second=0, microsecond=0))
    return Arrival(opens, closes)


def window_of(windows: list[tuple[time, time]], start: time) -> tuple[time, time] | None:
    """The opening window a slot starting at `start` lies in."""
    return next(((a, b) for a, b in windows if a <= start < b), None)


def outside_window(arrival: Arrival, now: datetime) -> DomainError:
    return DomainError("outside_window", arrive_from=hhmm(arrival.opens.timetz()), arrive_until=hhmm(arrival.closes.timetz()),
                       date=arrival.opens.date().isoformat(), reason=arrival.state(now))


# ------------------------------------------------------------------ codes, identity, phone
def make_code(randbelow: Callable[[int], int]) -> str:
    return "".join(CODE_ALPHABET[randbelow(len(CODE_ALPHABET))] for _ in range(CODE_LENGTH))


def read_code(text: object) -> str | None:
    """A typed or scanned booking code, upper-cased, spaces and hyphens dropped; None if it cannot be one."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def check_identity(cccd: object, today: date) -> str:
    """The 12 digits of a citizen ID number whose structure holds (province code, gender and century digit, a
    possible year of birth in digits 5-6), or DomainError("cccd_invalid")."""
    if not isinstance(cccd, str):
        raise DomainError("cccd_invalid", reason="format")
    return check_cccd(cccd, today).number


def normalise_phone(text: object) -> str:
    """A Vietnamese mobile number as 0xxxxxxxxx (10 digits, 03/05/07/08/09); +84 and 84 forms, spaces, dots
    and hyphens are accepted. Anything else: DomainError("phone_invalid")."""
    if not isinstance(text, str) or len(text) > 30:
        raise DomainError("phone_invalid")
    digits = re.sub(r"[\s.()-]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not _PHONE.fullmatch(digits):
        raise DomainError("phone_invalid")
    return digits


# ------------------------------------------------------------------ messages
def otp_message(otp: str, *, service: str, date_text: str, start: str, ttl_minutes: int, lang: str) -> str:
    if lang == "en":
        return (f"Your booking code for {service} on {date_text} at {start}: {otp}. It expires in {ttl_minutes} "
                "minutes. Do not share it.")
    return (f"Mã xác nhận đặt lịch {service} ngày {date_text} lúc {start}: {otp}. Mã có hiệu lực {ttl_minutes} phút. "
            "Không chia sẻ mã này.")


def confirmed_message(code: str, *, service: str, date_text: str, start: str, arrive_from: str, arrive_until: str,
                      lang: str) -> str:
    if lang == "en":
        return (f"Booking {code} confirmed: {service}, {date_text} at {start}. Check in at the kiosk from "
                f"{arrive_from} to {arrive_until}.")
    return (f"Đã xác nhận lịch hẹn {code}: {service}, ngày {date_text} lúc {start}. Vui lòng lấy số tại máy từ "
            f"{arrive_from} đến {arrive_until}.")
