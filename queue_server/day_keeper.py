"""The day keeper: the scheduled end of the working day, and the close of earlier days' leftovers.

The rule (docs/rules.md, section 10 "The day keeper"):

- after local midnight, tickets and counters left over from earlier days are closed (`Store.close_stale_days`);
- at `hours.close_day_at`, once a day, the day is closed, but only a day that was open before that time: a
  ticket was issued, or a counter opened, earlier that day. A server first used after `close_day_at` (someone
  trying the demo in the evening) keeps what is done then until the day's end;
- with `queue.always_open` (demo mode) the day is never closed at `close_day_at`: it ends at midnight;
- every pass, bookings are kept up (store/booking_upkeep.py, docs/booking.md): unconfirmed holds past their code's
  expiry end as expired, confirmed bookings not checked in by the end of their arrival window as no_show (their
  place returns), and personal data past its retention is erased;
- every pass, client addresses kept beside their hash longer than `server.address_retention_days` after they
  were last seen are forgotten (all of them when it is 0; store/client_addresses.py, docs/security.md).

The keeper reads the time from the store's clock, the one clock of the app (`create_app(clock=...)`), so a
test drives it with its own clock, one `day_keeper_pass` at a time.
"""
from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Callable

from queue_server.store import client_addresses, meta
from queue_server.store.booking_upkeep import upkeep as booking_upkeep
from queue_server.store.rows import OpResult

log = logging.getLogger(__name__)

PASS_SECONDS = 30


def closes_now(now: datetime, close_at: time, *, always_open: bool, closed_today: bool,
               open_before_close: Callable[[], bool]) -> bool:
    """Whether the scheduled close of today runs at the local time `now` (see the module's rule).
    `open_before_close` is asked last, only when the answer depends on it (it reads the event log)."""
    if always_open or closed_today:
        return False
    return now.time() >= close_at and open_before_close()


def day_keeper_pass(ctx) -> None:
    """One pass: close earlier days' leftovers, then today's day if its time has come. What each close changed
    is pushed; silent devices are marked missing."""
    store = ctx.store
    stale = store.close_stale_days()
    if stale.events:
        ctx.push.publish(stale)
    now = store.local_now()
    close_at = ctx.config.hours.close_day_at
    cutoff = datetime.combine(now.date(), close_at, tzinfo=now.tzinfo)
    if closes_now(now, close_at, always_open=ctx.config.queue.always_open,
                  closed_today=meta.last_close_day(store) == store.today(),
                  open_before_close=lambda: meta.day_opened_before(store, store.today(), int(cutoff.timestamp() * 1000))):
        result = store.close_day(actor="schedule")
        if result.events:
            ctx.push.publish(result)
    kept = OpResult()
    booking_upkeep(store, kept)  # bookings: expired holds, no-shows of the booking, personal data past its retention
    if kept.events:
        ctx.push.publish(kept)
    forget_addresses(store, ctx.config.server.address_retention_days)
    ctx.devices.sweep(ctx.sockets.connected_devices() if ctx.sockets else set())


def forget_addresses(store, retention_days: int) -> int:
    """Forget the raw client addresses last seen `retention_days` days ago or earlier (every one when 0)."""
    return client_addresses.purge(store, store.now_ms() + 1 - retention_days * 86_400_000)


def run_day_keeper(ctx) -> None:
    """The background task: one `day_keeper_pass` every 30 s, for as long as the server runs."""
    while True:
        ctx.socketio.sleep(PASS_SECONDS)
        try:
            day_keeper_pass(ctx)
        except Exception:  # noqa: BLE001 - the keeper must keep running
            log.exception("day keeper failed")
