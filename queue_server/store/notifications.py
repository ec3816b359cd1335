"""The notification outbox (table messages) and the phone numbers given for a ticket (table ticket_contacts).

One row of `messages` is one message to one phone: a one-time code, a booking's confirmation, "your turn is
near", the call, a supervisor's broadcast. `enqueue` writes it inside the caller's open transaction, so a notice
commits together with the change it tells of (or not at all); `dedupe` (e.g. "near:<ticket id>") keeps one
notice from ever being queued twice. Nothing here touches the network: a sender outside any transaction takes
the pending rows.
"""
from __future__ import annotations

KINDS = frozenset({"otp", "booking", "near", "called", "broadcast"})
STATES = frozenset({"pending", "sent", "dead"})
OUTBOX_MAX = 1000  # rows `outbox` answers at most


def enqueue(store, c, *, kind: str, to_phone: str, body: str, lang: str = "vi", ticket_id: int | None = None,
            booking_id: int | None = None, dedupe: str | None = None, channel: str = "sms", now: int) -> int | None:
    """Inside the caller's transaction `c`: one pending message, due at once. Its id, or None when a message with
    the same `dedupe` key exists already (nothing is written then)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    cur = c.execute("""INSERT INTO messages (created_ms, day, kind, channel, to_phone, lang, body, ticket_id,
                                             booking_id, next_ms, dedupe)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe) DO NOTHING""",
                    (now, store.day_of_ms(now), kind, channel, to_phone, lang, body, ticket_id, booking_id, now,
                     dedupe))
    return cur.lastrowid if cur.rowcount == 1 else None


def queue_message(store, *, kind: str, to_phone: str, body: str, lang: str = "vi", ticket_id: int | None = None,
                  booking_id: int | None = None, dedupe: str | None = None, channel: str = "sms") -> int | None:
    """`enqueue` in a short write transaction of its own, at the store's clock."""
    with store.writer.transaction() as c:
        return enqueue(store, c, kind=kind, to_phone=to_phone, body=body, lang=lang, ticket_id=ticket_id,
                       booking_id=booking_id, dedupe=dedupe, channel=channel, now=store.now_ms())


def outbox(store, *, state: str | None = None, kind: str | None = None, limit: int = 200) -> list[dict]:
    """The messages for admins, newest first; only one `state` and/or `kind` when given."""
    where, args = [], []
    if state is not None:
        where.append("state = ?")
        args.append(state)
    if kind is not None:
        where.append("kind = ?")
        args.append(kind)
    q = "SELECT * FROM messages" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    return [dict(r) for r in store.conn.execute(q, (*args, max(0, min(int(limit), OUTBOX_MAX))))]


def save_contact(store, c, *, ticket_id: int, phone: str, lang: str = "vi", now: int) -> None:
    """Inside the caller's transaction `c`: the phone number given for notices about the ticket (a second one
    replaces the first)."""
    c.execute("""INSERT INTO ticket_contacts (ticket_id, phone, lang, created_ms) VALUES (?, ?, ?, ?)
                 ON CONFLICT (ticket_id) DO UPDATE SET phone = excluded.phone, lang = excluded.lang""",
              (ticket_id, phone, lang, now))


def contact(store, ticket_id: int) -> dict | None:
    """The phone number and language given for the ticket's notices, or None."""
    row = store.conn.execute("SELECT phone, lang FROM ticket_contacts WHERE ticket_id = ?", (ticket_id,)).fetchone()
    return {"phone": row["phone"], "lang": row["lang"]} if row is not None else None
