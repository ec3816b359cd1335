"""Online bookings (table bookings): a slot held for a one-time code, confirmed, cancelled, checked in at the kiosk
(the ticket issued in the same transaction), or left unused (no_show) or unconfirmed (expired).

Capacity, the limits and the no-show block are read and the row written in ONE write transaction (BEGIN
IMMEDIATE, through the writer), so two requests for the last place never both get it; a pending_otp hold takes a
place until its code expires. The one-time code goes to the outbox (store/notifications.py) in the same
transaction. Identity numbers and phone numbers are kept only as HMAC-SHA256 under the server's secret key; the
phone in clear only until the booking's day is over (notices need it). The rules are in core/booking.py.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from datetime import date, datetime, timedelta

from queue_server.core import booking as B
from queue_server.core.errors import DomainError
from queue_server.store import notifications
from queue_server.store.rows import OpResult

_WEEKDAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
# A place still to be used: a confirmed booking, or one held while its one-time code lasts.
TO_COME = """(state = 'confirmed' OR (state = 'pending_otp' AND otp_expires_ms > :now))"""
HOLD = f"""(state = 'checked_in' OR {TO_COME})"""  # a booking that takes a place


# ------------------------------------------------------------------ keys and plans
def keyed_hash(store, kind: str, value: str) -> str:
    """HMAC-SHA256 of `value` under the server's secret key (`kind` keeps an ID and a phone apart)."""
    key = store.config.server.secret_key.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _cfg(store):
    return store.config.booking


def takes_bookings(store, service_id: str) -> bool:
    cfg = _cfg(store)
    return cfg.enabled and service_id in store.config.services() and (cfg.services is None or service_id in cfg.services)


def booking_services(store) -> list[str]:
    return [sid for sid in store.config.services() if takes_bookings(store, sid)]


def open_days(store) -> list[date]:
    """The days open for booking now (core/booking.booking_days over the centre's hours and holidays)."""
    hours = store.config.hours
    return B.booking_days(store.local_now().date(), _cfg(store).days_ahead,
                          weekdays=frozenset(_WEEKDAY[d] for d in hours.weekdays), holidays=frozenset(hours.holidays),
                          always_open=store.config.queue.always_open)


def capacity(store, service_id: str) -> int:
    cfg = _cfg(store)
    if service_id in cfg.capacity:
        return cfg.capacity[service_id]
    svc = store.config.service(service_id)
    serving = sum(1 for k in store.config.counters if service_id in k.services)
    return B.derived_capacity(serving, cfg.slot_minutes, svc.avg_service_minutes, cfg.share_for_bookings)


def service_slots(store, service_id: str) -> list[B.Slot]:
    svc = store.config.service(service_id)
    windows = svc.windows if svc.windows is not None else store.config.hours.windows
    return B.day_slots([(w.start, w.end) for w in windows], _cfg(store).slot_minutes)


def slot_start(store, day: date, slot: B.Slot) -> datetime:
    return datetime.combine(day, slot.start, tzinfo=store.config.tz)


def _bookable(store, service_id: str, day_text: str) -> date:
    if not takes_bookings(store, service_id):
        raise DomainError("booking_off", service=service_id)
    day = B.parse_day(day_text)
    if day not in open_days(store):
        raise DomainError("booking_day_closed", date=day_text)
    return day


# ------------------------------------------------------------------ reads
def still_to_check_in(store, c, service_id: str, day_text: str) -> int:
    """The service's bookings of that day still holding a place and not checked in: the walk-ins' daily cap
    keeps their places (core/rules.service_status)."""
    return c.execute(f"SELECT COUNT(*) FROM bookings WHERE service_id = :sid AND day = :day AND {TO_COME}",
                     {"sid": service_id, "day": day_text, "now": store.now_ms()}).fetchone()[0]


def cap_room(store, c, service_id: str, day: date) -> int | None:
    """How many more bookings the service's daily cap allows on `day` (None: no cap). Today: the cap less the
    tickets issued and the places still booked; a later day: the config's cap less that day's bookings."""
    if day == store.local_now().date():
        st = store._service_status(c, service_id, day.isoformat())
        return None if st.cap is None else max(0, st.cap - st.issued_today - st.reserved)
    cap = store.config.service(service_id).daily_cap
    if cap is None:
        return None
    held = c.execute(f"SELECT COUNT(*) FROM bookings WHERE service_id = :sid AND day = :day AND {HOLD}",
                     {"sid": service_id, "day": day.isoformat(), "now": store.now_ms()}).fetchone()[0]
    return max(0, cap - held)


def slots(store, service_id: str, day_text: str) -> list[dict]:
    """The day's slots of a service with their capacity and the places left (a slot already started: none; none
    beyond what the service's daily cap still allows that day)."""
    day = _bookable(store, service_id, day_text)
    cap = capacity(store, service_id)
    now = store.now_ms()
    taken = dict(store.conn.execute(
        f"SELECT slot_start, COUNT(*) FROM bookings WHERE service_id = :sid AND day = :day AND {HOLD} GROUP BY slot_start",
        {"sid": service_id, "day": day.isoformat(), "now": now}).fetchall())
    room = cap_room(store, store.conn, service_id, day)
    out = []
    for s in service_slots(store, service_id):
        started = slot_start(store, day, s).timestamp() * 1000 <= now
        left = 0 if started else max(0, cap - taken.get(s.label, 0))
        out.append({"start": s.label, "end": B.hhmm(s.end), "capacity": cap,
                    "left": left if room is None else min(left, room)})
    return out


def public(store, row: sqlite3.Row | dict) -> dict:
    """A booking as its holder and the kiosk see it: no identity, no phone."""
    cfg = _cfg(store)
    start = datetime.fromtimestamp(row["slot_start_ms"] / 1000, store.config.tz)
    arrival = _arrival(store, row)
    end = start + timedelta(minutes=cfg.slot_minutes)
    return {"code": row["code"], "service": row["service_id"], "date": row["day"], "start": row["slot_start"],
            "end": B.hhmm(end.time()), "state": row["state"], "arrive_from": B.hhmm(arrival.opens.time()),
            "arrive_until": B.hhmm(arrival.closes.time()), "ticket_id": row["ticket_id"]}


def by_code(store, code: str, id_number: str) -> dict:
    """The booking with this code, asked by the same identity; else booking_unknown."""
    row = _by_code(store.conn, code)
    if row is None or row["id_hash"] is None or not hmac.compare_digest(row["id_hash"], keyed_hash(store, "cccd", id_number)):
        raise DomainError("booking_unknown")
    return public(store, row)


def _by_code(c, code: str | None):
    if code is None:
        return None
    return c.execute("SELECT * FROM bookings WHERE code = ?", (code,)).fetchone()


# ------------------------------------------------------------------ writes
def _log(store, c, etype: str, row, now: int, result: OpResult | None = None, **extra) -> None:
    """A booking.* event: the booking's id, service, day and slot; never an identity or a phone. With `result`,
    the caller publishes it after COMMIT (so this process knows the seq as its own)."""
    data = {"booking": row["id"], "service": row["service_id"], "date": row["day"], "start": row["slot_start"], **extra}
    store._log(c, etype, now=now, day=store.day_of_ms(now), ticket=None, counter_id=None, staff_id=None, actor=None,
               data=data, result=result)


def create(store, *, service_id: str, day_text: str, start: str, id_number: str, phone: str, lang: str = "vi",
           result: OpResult | None = None) -> dict:
    """Hold a place and send a one-time code: {"booking_id" (the ref), "id"}. Refusals: booking_off,
    booking_day_closed, slot_unknown, slot_full, booking_limit, booking_blocked."""
    cfg = _cfg(store)
    day = _bookable(store, service_id, day_text)
    slot = B.find_slot(service_slots(store, service_id), start)
    if slot is None:
        raise DomainError("slot_unknown", date=day_text, start=start)
    start_ms = int(slot_start(store, day, slot).timestamp() * 1000)
    id_hash, phone_hash = keyed_hash(store, "cccd", id_number), keyed_hash(store, "phone", phone)
    cap = capacity(store, service_id)
    limits = B.Limits(cfg.per_id_per_day, cfg.per_id_per_service_per_day, cfg.per_phone_per_day,
                      cfg.per_phone_per_service_per_day)
    otp = B.make_otp(cfg.otp.digits, secrets.randbelow)
    ref = secrets.token_urlsafe(12)
    svc_name = _service_name(store, service_id, lang)
    with store.writer.transaction() as c:
        now = store.now_ms()
        today = store.local_now().date()
        _check_block(store, c, id_hash, phone_hash, today)
        # A second try by the same identity for the same service and day replaces its unconfirmed hold.
        for old in c.execute("""SELECT * FROM bookings WHERE id_hash = ? AND service_id = ? AND day = ?
                                AND state = 'pending_otp'""", (id_hash, service_id, day.isoformat())).fetchall():
            c.execute("UPDATE bookings SET state = 'expired', ended_ms = ? WHERE id = ?", (now, old["id"]))
            _log(store, c, "booking.expired", old, now, result, reason="replaced")
        args = {"now": now, "day": day.isoformat(), "sid": service_id, "idh": id_hash, "ph": phone_hash}
        held = B.Held(*c.execute(f"""SELECT COALESCE(SUM(id_hash = :idh), 0), COALESCE(SUM(id_hash = :idh AND service_id = :sid), 0),
                                        COALESCE(SUM(phone_hash = :ph), 0), COALESCE(SUM(phone_hash = :ph AND service_id = :sid), 0)
                                 FROM bookings WHERE day = :day AND (id_hash = :idh OR phone_hash = :ph) AND {HOLD}""",
                                 args).fetchone())
        B.check_limits(limits, held)
        taken = c.execute(f"SELECT COUNT(*) FROM bookings WHERE service_id = :sid AND day = :day AND slot_start = :start AND {HOLD}",
                          {**args, "start": slot.label}).fetchone()[0]
        room = cap_room(store, c, service_id, day)  # the service's daily cap keeps its walk-ins' share too
        B.check_capacity(cap if room is None else min(cap, taken + room), taken, start_ms=start_ms, now_ms=now,
                         date_text=day_text, start=start)
        code = _new_code(c)
        expires = now + cfg.otp.ttl_seconds * 1000
        cur = c.execute("""INSERT INTO bookings (ref, code, service_id, day, slot_start, slot_start_ms, id_hash, phone_hash,
                                                 phone, lang, state, otp_hash, otp_expires_ms, otp_sent_ms, created_ms)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending_otp', ?, ?, ?, ?)""",
                        (ref, code, service_id, day.isoformat(), slot.label, start_ms, id_hash, phone_hash, phone, lang,
                         _otp_hash(store, ref, otp), expires, now, now))
        bid = cur.lastrowid
        body = B.otp_message(otp, service=svc_name, date_text=_day_words(day, lang), start=slot.label,
                             ttl_minutes=max(1, cfg.otp.ttl_seconds // 60), lang=lang)
        notifications.enqueue(store, c, kind="otp", to_phone=phone, body=body, lang=lang, booking_id=bid,
                              dedupe=f"otp:{bid}:1", now=now)
        _log(store, c, "booking.created", {"id": bid, "service_id": service_id, "day": day.isoformat(),
                                           "slot_start": slot.label}, now, result)
    return {"booking_id": ref, "id": bid}


def resend(store, ref: str) -> dict:
    """A new one-time code for a booking still waiting for one (the hold is renewed with it)."""
    cfg = _cfg(store)
    otp = B.make_otp(cfg.otp.digits, secrets.randbelow)
    wait = 0
    with store.writer.transaction() as c:
        now = store.now_ms()
        row = c.execute("SELECT * FROM bookings WHERE ref = ?", (ref,)).fetchone()
        if row is None:
            raise DomainError("booking_unknown")
        B.require_state("expired" if row["state"] == "pending_otp" and row["otp_expires_ms"] <= now else row["state"],
                        "pending_otp")
        wait = B.resend_wait(now_ms=now, last_sent_ms=row["otp_sent_ms"], sends=row["otp_sends"],
                             resend_after_seconds=cfg.otp.resend_after_seconds, max_sends=cfg.otp.max_sends)
        if wait == 0:
            sends = row["otp_sends"] + 1
            c.execute("""UPDATE bookings SET otp_hash = ?, otp_expires_ms = ?, otp_sent_ms = ?, otp_sends = ?
                         WHERE id = ?""", (_otp_hash(store, ref, otp), now + cfg.otp.ttl_seconds * 1000, now, sends, row["id"]))
            day = date.fromisoformat(row["day"])
            body = B.otp_message(otp, service=_service_name(store, row["service_id"], row["lang"]),
                                 date_text=_day_words(day, row["lang"]), start=row["slot_start"],
                                 ttl_minutes=max(1, cfg.otp.ttl_seconds // 60), lang=row["lang"])
            notifications.enqueue(store, c, kind="otp", to_phone=row["phone"], body=body, lang=row["lang"],
                                  booking_id=row["id"], dedupe=f"otp:{row['id']}:{sends}", now=now)
    if wait:
        raise DomainError("otp_resend_wait", retry_after=wait)
    return {"booking_id": ref, "otp_sent": True}


def confirm(store, ref: str, otp: str, *, result: OpResult | None = None) -> dict:
    """The code checked: the booking confirmed (a retry with the right code answers the same), or refused with
    otp_wrong, otp_expired or otp_attempts (the hold dropped for the last two)."""
    cfg = _cfg(store)
    error: DomainError | None = None
    with store.writer.transaction() as c:
        now = store.now_ms()
        row = c.execute("SELECT * FROM bookings WHERE ref = ?", (ref,)).fetchone()
        if row is None:
            raise DomainError("booking_unknown")
        matches = row["otp_hash"] is not None and hmac.compare_digest(row["otp_hash"], _otp_hash(store, ref, otp))
        if row["state"] == "confirmed" and matches:
            return public(store, row)  # the answer was lost on the way: the same answer again
        if row["state"] != "pending_otp":
            raise B.confirm_refused(row["state"], attempts=row["otp_attempts"], max_attempts=cfg.otp.max_attempts)
        v = B.check_otp(matches=matches, now_ms=now, expires_ms=row["otp_expires_ms"], attempts=row["otp_attempts"],
                        max_attempts=cfg.otp.max_attempts)
        if v.ok:
            c.execute("UPDATE bookings SET state = 'confirmed', confirmed_ms = ? WHERE id = ?", (now, row["id"]))
            row = c.execute("SELECT * FROM bookings WHERE id = ?", (row["id"],)).fetchone()
            out = public(store, row)
            lang = row["lang"]
            body = B.confirmed_message(row["code"], service=_service_name(store, row["service_id"], lang),
                                       date_text=_day_words(date.fromisoformat(row["day"]), lang),
                                       start=row["slot_start"], arrive_from=out["arrive_from"],
                                       arrive_until=out["arrive_until"], lang=lang)
            notifications.enqueue(store, c, kind="booking", to_phone=row["phone"], body=body, lang=lang,
                                  booking_id=row["id"], dedupe=f"booking:{row['id']}", now=now)
            _log(store, c, "booking.confirmed", row, now, result)
            return out
        if v.error == "otp_wrong":
            c.execute("UPDATE bookings SET otp_attempts = ? WHERE id = ?", (v.attempts, row["id"]))
            error = DomainError("otp_wrong", left=v.left)
        else:
            c.execute("UPDATE bookings SET state = 'expired', otp_attempts = ?, ended_ms = ? WHERE id = ?",
                      (v.attempts, now, row["id"]))
            _log(store, c, "booking.expired", row, now, result, reason=v.error)
            error = DomainError(v.error)
    raise error


def cancel(store, code: str, id_number: str, *, result: OpResult | None = None) -> dict:
    """Cancelled by the holder (the same identity only; any other is told booking_unknown)."""
    with store.writer.transaction() as c:
        now = store.now_ms()
        row = _by_code(c, code)
        if row is None or row["id_hash"] is None or not hmac.compare_digest(row["id_hash"], keyed_hash(store, "cccd", id_number)):
            raise DomainError("booking_unknown")
        B.require_state(row["state"], "pending_otp", "confirmed")
        c.execute("UPDATE bookings SET state = 'cancelled', ended_ms = ? WHERE id = ?", (now, row["id"]))
        _log(store, c, "booking.cancelled", row, now, result)
        row = c.execute("SELECT * FROM bookings WHERE id = ?", (row["id"],)).fetchone()
    return public(store, row)


def _check_block(store, c, id_hash: str, phone_hash: str, today: date) -> None:
    rule = _cfg(store).no_show_block
    since = (today - timedelta(days=rule.within_days + rule.block_days)).isoformat()
    days = [date.fromisoformat(r[0]) for r in c.execute(
        "SELECT day FROM bookings WHERE state = 'no_show' AND day >= ? AND (id_hash = ? OR phone_hash = ?)",
        (since, id_hash, phone_hash))]
    until = B.blocked_until(days, today, count=rule.count, within_days=rule.within_days, block_days=rule.block_days)
    if until is not None:
        raise DomainError("booking_blocked", until=until.isoformat())


def _new_code(c) -> str:
    for _ in range(20):
        code = B.make_code(secrets.randbelow)
        if c.execute("SELECT 1 FROM bookings WHERE code = ?", (code,)).fetchone() is None:
            return code
    raise RuntimeError("no free booking code after 20 draws")  # 31^8 codes: never in practice


def _otp_hash(store, ref: str, otp: str) -> str:
    return keyed_hash(store, f"otp:{ref}", otp)


def _service_name(store, service_id: str, lang: str) -> str:
    if service_id not in store.config.services():  # gone from the config since it was booked
        return service_id
    svc = store.config.service(service_id)
    return (svc.name_en or svc.name) if lang == "en" else svc.name


def _day_words(day: date, lang: str) -> str:
    return day.isoformat() if lang == "en" else day.strftime("%d/%m/%Y")


# ------------------------------------------------------------------ check-in at the kiosk
def find_for_check_in(store, *, code: str | None = None, id_number: str | None = None) -> dict:
    """The booking a kiosk checks in: by its code, or the identity's confirmed booking of today whose arrival
    window is open (several: the earliest; none open: the next one, to be told its window). booking_unknown when
    there is none; outside_window when it is not time (or no longer time); booking_state when it is used."""
    now = store.local_now()
    if code is not None:
        row = _by_code(store.conn, code)
        if row is None:
            raise DomainError("booking_unknown")
        rows = [row]
    else:
        rows = store.conn.execute("""SELECT * FROM bookings WHERE id_hash = ? AND day = ? AND state = 'confirmed'
                                     ORDER BY slot_start_ms, id""",
                                  (keyed_hash(store, "cccd", id_number or ""), now.date().isoformat())).fetchall()
        if not rows:
            raise DomainError("booking_unknown")
    B.require_state(rows[0]["state"], "confirmed")  # by code: one booking, in any state
    windows = [(r, _arrival(store, r)) for r in rows]
    for r, arrival in windows:
        if arrival.state(now) == "open":
            return dict(r)
    upcoming = [(r, a) for r, a in windows if a.state(now) == "early"]
    r, arrival = upcoming[0] if upcoming else windows[-1]
    err = B.outside_window(arrival, now)
    err.params["service"] = r["service_id"]  # the kiosk offers a walk-in number of this service
    raise err


def check_in(store, booking: dict, *, actor: str | None):
    """Issue the booking's ticket (source online, its booking and slot, its phone for notices). The ticket's
    INSERT checks the booking in within the same transaction (the triggers of migration 0015_bookings): a booking
    checked in meanwhile by another kiosk refuses the ticket, and nothing is written. Returns the OpResult."""
    try:
        return store.issue(booking["service_id"], source="online", actor=actor, booking_id=booking["id"],
                           slot_start_ms=booking["slot_start_ms"], phone=booking["phone"], lang=booking["lang"])
    except sqlite3.IntegrityError as exc:
        if "booking_not_confirmed" in str(exc):
            row = store.conn.execute("SELECT state FROM bookings WHERE id = ?", (booking["id"],)).fetchone()
            B.require_state(row["state"] if row else "checked_in", "confirmed")
        raise


def get(store, booking_id: int) -> dict:
    row = store.conn.execute("SELECT * FROM bookings WHERE id = ?", (booking_id,)).fetchone()
    if row is None:
        raise DomainError("booking_unknown")
    return public(store, row)


def _arrival(store, row) -> B.Arrival:
    cfg = _cfg(store)
    start = datetime.fromtimestamp(row["slot_start_ms"] / 1000, store.config.tz)
    window = None
    if row["service_id"] in store.config.services():
        svc = store.config.service(row["service_id"])
        windows = svc.windows if svc.windows is not None else store.config.hours.windows
        window = B.window_of([(w.start, w.end) for w in windows], start.time())
    return B.arrival_window(start, before_minutes=cfg.arrive_before_minutes, after_minutes=cfg.arrive_after_minutes,
                            window=window)
