"""The day keeper's pass over bookings (day_keeper.py): unconfirmed holds past their code's expiry become expired,
confirmed bookings not checked in by the end of their arrival window become no_show (their place returns; they
count toward the no-show block), and personal data past its retention is erased (docs/booking.md)."""
from __future__ import annotations

from datetime import timedelta

from queue_server.store.bookings import _log
from queue_server.store.rows import OpResult

BATCH = 500  # rows changed per transaction at most, so the writer is never held long


def upkeep(store, result: OpResult | None = None) -> dict:
    """One pass; the counts of what it changed. Its events go into `result` when given (to publish after)."""
    cfg = store.config.booking
    out = {"expired": 0, "no_show": 0, "phones_erased": 0, "identities_erased": 0, "deleted": 0}
    grace_ms = cfg.arrive_after_minutes * 60_000
    while True:
        with store.writer.transaction() as c:
            now = store.now_ms()
            rows = c.execute("""SELECT * FROM bookings WHERE (state = 'pending_otp' AND otp_expires_ms <= ?)
                                   OR (state = 'confirmed' AND slot_start_ms + ? <= ?) LIMIT ?""",
                             (now, grace_ms, now, BATCH)).fetchall()
            for r in rows:
                state = "expired" if r["state"] == "pending_otp" else "no_show"
                c.execute("UPDATE bookings SET state = ?, ended_ms = ? WHERE id = ?", (state, now, r["id"]))
                _log(store, c, f"booking.{state}", r, now, result)
                out[state] += 1
        if len(rows) < BATCH:
            break
    today = store.local_now().date()
    with store.writer.transaction() as c:
        # the phone in clear and the code's hash: needed no longer than the booking's day
        out["phones_erased"] = c.execute("""UPDATE bookings SET phone = NULL, otp_hash = NULL
                                            WHERE day < ? AND (phone IS NOT NULL OR otp_hash IS NOT NULL)""",
                                         (today.isoformat(),)).rowcount
        # the keyed hashes: kept for the limits and the no-show block, then erased
        cut = (today - timedelta(days=cfg.identity_retention_days)).isoformat()
        out["identities_erased"] = c.execute("""UPDATE bookings SET id_hash = NULL, phone_hash = NULL
                                                WHERE day < ? AND (id_hash IS NOT NULL OR phone_hash IS NOT NULL)""",
                                             (cut,)).rowcount
        cut = (today - timedelta(days=cfg.booking_retention_days)).isoformat()
        out["deleted"] = c.execute("DELETE FROM bookings WHERE day < ? AND state NOT IN ('pending_otp', 'confirmed')",
                                   (cut,)).rowcount
    return out
