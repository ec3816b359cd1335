"""The notification outbox (table messages) and the phone numbers given for a ticket (table ticket_contacts).

One row of `messages` is one message to one phone: a one-time code, a booking's confirmation, "your turn is
near", the call, a supervisor's broadcast. `enqueue` writes it inside the caller's open transaction, so a notice
commits together with the change it tells of (or not at all); `dedupe` (e.g. "near:<ticket id>") keeps one
notice from ever being queued twice. Nothing here touches the network: a sender outside any transaction takes
the pending rows.
"""
from __future__ import annotations

from queue_server.store.event_log import log_audit
from queue_server.store.rows import ticket_from_row, ticket_to_dict

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


# ------------------------------------------------------------------ sending (queue_server/notices/delivery.py)
def claim(store, *, now: int, lease_ms: int, limit: int) -> list[dict]:
    """Due pending messages nobody is sending, taken until now + lease_ms: another process (or task) leaves them
    alone until then. Each row's `lease_ms` is the taker's mark: `sent` and `failed` change a row only while it
    still holds that mark, so a message is never marked twice."""
    if store.conn.execute("SELECT 1 FROM messages WHERE state = 'pending' AND next_ms <= ? AND lease_ms <= ? LIMIT 1",
                          (now, now)).fetchone() is None:
        return []  # a read only: an idle outbox costs no write
    until = now + lease_ms
    with store.writer.transaction() as c:
        rows = c.execute("""SELECT * FROM messages WHERE state = 'pending' AND next_ms <= ? AND lease_ms <= ?
                            ORDER BY next_ms, id LIMIT ?""", (now, now, limit)).fetchall()
        c.executemany("UPDATE messages SET lease_ms = ? WHERE id = ?", [(until, r["id"]) for r in rows])
    return [{**dict(r), "lease_ms": until} for r in rows]


def sent(store, message_id: int, lease: int, *, now: int, via: str, status: int | None) -> bool:
    """The gateway (or the outbox backend) took the message. False when the lease was no longer ours."""
    with store.writer.transaction() as c:
        return c.execute("""UPDATE messages SET state = 'sent', attempts = attempts + 1, lease_ms = 0, sent_ms = ?,
                              last_attempt_ms = ?, last_status = ?, last_error = '', via = ?
                            WHERE id = ? AND state = 'pending' AND lease_ms = ?""",
                         (now, now, status, via, message_id, lease)).rowcount == 1


def failed(store, message_id: int, lease: int, *, now: int, status: int | None, error: str,
           next_ms: int | None) -> bool:
    """An attempt that failed: try again at `next_ms`, or (None) the message is dead."""
    with store.writer.transaction() as c:
        return c.execute("""UPDATE messages SET state = ?, attempts = attempts + 1, lease_ms = 0, next_ms = ?,
                              last_attempt_ms = ?, last_status = ?, last_error = ?
                            WHERE id = ? AND state = 'pending' AND lease_ms = ?""",
                         ("pending" if next_ms is not None else "dead", next_ms if next_ms is not None else now, now,
                          status, error[:300], message_id, lease)).rowcount == 1


def retry_dead(store, message_id: int, *, now: int, audit=None) -> bool:
    """A dead message is pending again with no attempts, due at once (an admin's retry). False: not dead."""
    with store.writer.transaction() as c:
        ok = c.execute("""UPDATE messages SET state = 'pending', attempts = 0, next_ms = ?, lease_ms = 0
                          WHERE id = ? AND state = 'dead'""", (now, message_id)).rowcount == 1
        if ok:
            log_audit(store, c, audit)
        return ok


def counts(store) -> dict[str, int]:
    out = {s: 0 for s in sorted(STATES)}
    for r in store.conn.execute("SELECT state, COUNT(*) AS n FROM messages GROUP BY state"):
        out[r["state"]] = r["n"]
    return out


def purge(store, before_ms: int, *, batch: int = 1000) -> dict[str, int]:
    """Messages (phone numbers and texts) and tickets' phone numbers written before `before_ms` are deleted, a
    batch per short transaction. Returns how many of each went."""
    gone = {"messages": 0, "contacts": 0}
    for table, key in (("messages", "messages"), ("ticket_contacts", "contacts")):
        while True:
            with store.writer.transaction() as c:
                n = c.execute(f"""DELETE FROM {table} WHERE rowid IN (
                                    SELECT rowid FROM {table} WHERE created_ms < ? LIMIT ?)""",
                              (before_ms, batch)).rowcount
            gone[key] += n
            if n < batch:
                break
    return gone


# ------------------------------------------------------------------ what the notices pass reads
def near_candidates(store, day: str) -> list[dict]:
    """Today's waiting tickets with a phone number and no "near" message yet, with the contact."""
    rows = store.conn.execute("""SELECT t.*, k.phone AS contact_phone, k.lang AS contact_lang
                                 FROM tickets t JOIN ticket_contacts k ON k.ticket_id = t.id
                                 WHERE t.day = ? AND t.status = 'waiting'
                                   AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.dedupe = 'near:' || t.id)
                                 ORDER BY t.id""", (day,)).fetchall()
    return [{"ticket": ticket_to_dict(ticket_from_row(r)), "phone": r["contact_phone"], "lang": r["contact_lang"]}
            for r in rows]


def calls_after(store, seq: int, upto: int, *, limit: int = 500) -> list[dict]:
    """`ticket.called` events after `seq` and up to `upto` (recalls too) whose ticket has a phone number: seq, time, ticket,
    its code, status and counter now, the contact."""
    rows = store.conn.execute("""SELECT e.id AS seq, e.ts_ms, e.ticket_id, e.counter_id, t.code, t.status,
                                        k.phone, k.lang
                                 FROM events e JOIN ticket_contacts k ON k.ticket_id = e.ticket_id
                                 JOIN tickets t ON t.id = e.ticket_id
                                 WHERE e.id > ? AND e.id <= ? AND e.type = 'ticket.called' ORDER BY e.id LIMIT ?""",
                              (seq, upto, limit)).fetchall()
    return [dict(r) for r in rows]


def first_seq_since(store, ts_ms: int) -> int:
    """The seq just before the first event at or after `ts_ms` (where a fresh look at recent calls begins)."""
    row = store.conn.execute("SELECT MIN(id) FROM events WHERE ts_ms >= ?", (ts_ms,)).fetchone()
    return (row[0] - 1) if row and row[0] is not None else store.last_seq()


def waiting_contacts(store, service_id: str, day: str) -> list[dict]:
    """Today's waiting tickets of a service with a phone number: id, code, phone, lang."""
    return [dict(r) for r in store.conn.execute(
        """SELECT t.id, t.code, k.phone, k.lang FROM tickets t JOIN ticket_contacts k ON k.ticket_id = t.id
           WHERE t.day = ? AND t.service_id = ? AND t.status = 'waiting' ORDER BY t.id""", (day, service_id))]


def message(store, message_id: int) -> dict | None:
    row = store.conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
    return dict(row) if row is not None else None
