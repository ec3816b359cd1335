"""The webhook outbox (table webhook_outbox): what each configured receiver still has to get.

`enqueue` runs inside the transaction that appends an event to the log (`Store._log`), so an event and its
deliveries commit together or not at all. Everything else runs in its own short transaction; no function here
touches the network (the sending is queue_server/webhooks/delivery.py, outside any transaction).
"""
from __future__ import annotations

import json

REPLAY_CHUNK = 5000  # events read per transaction by `replay`, so a long replay never holds the write lock long


def enqueue(store, c, seq: int, etype: str, now: int) -> None:
    """Inside the event's transaction `c`: one pending row per enabled receiver that asked for `etype`."""
    for hook in store.config.integrations.webhooks:
        if hook.wants(etype):
            c.execute("""INSERT INTO webhook_outbox (endpoint_id, seq, state, next_ms, created_ms)
                         VALUES (?, ?, 'pending', ?, ?) ON CONFLICT (endpoint_id, seq) DO NOTHING""",
                      (hook.id, seq, now, now))


def claim(store, endpoint_id: str, *, now: int, lease_ms: int, limit: int) -> list[dict]:
    """The receiver's next rows to send, in seq order, if its first pending row is due and nobody sends it:
    taken for `lease_ms` (other processes leave them alone until then). Each row carries its event."""
    head = store.conn.execute("""SELECT seq, next_ms, lease_ms FROM webhook_outbox
                                 WHERE endpoint_id = ? AND state = 'pending' ORDER BY seq LIMIT 1""",
                              (endpoint_id,)).fetchone()
    if head is None or head["next_ms"] > now or head["lease_ms"] > now:
        return []  # a read only: an idle or backing-off receiver costs no write
    with store.writer.transaction() as c:
        rows = c.execute("""SELECT seq, attempts, next_ms, lease_ms FROM webhook_outbox
                            WHERE endpoint_id = ? AND state = 'pending' ORDER BY seq LIMIT ?""",
                         (endpoint_id, limit)).fetchall()
        taken = []
        for r in rows:
            if r["next_ms"] > now or r["lease_ms"] > now:
                break
            taken.append((r["seq"], r["attempts"]))
        c.executemany("UPDATE webhook_outbox SET lease_ms = ? WHERE endpoint_id = ? AND seq = ?",
                      [(now + lease_ms, endpoint_id, seq) for seq, _ in taken])
    events = _events([seq for seq, _ in taken], store)
    return [{"endpoint_id": endpoint_id, "seq": seq, "attempts": attempts, "event": events[seq]}
            for seq, attempts in taken if seq in events]


def _events(seqs: list[int], store) -> dict[int, dict]:
    if not seqs:
        return {}
    marks = ",".join("?" * len(seqs))
    rows = store.conn.execute(
        f"""SELECT e.id, e.ts_ms, e.day, e.type, e.ticket_id, e.counter_id, e.service_id, e.staff_id, e.data,
                   t.code AS ticket_code, t.number AS ticket_number, t.day AS ticket_day
            FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id WHERE e.id IN ({marks})""", seqs).fetchall()
    return {r["id"]: {**dict(r), "data": json.loads(r["data"])} for r in rows}


def delivered(store, endpoint_id: str, seq: int, *, now: int, status: int) -> None:
    with store.writer.transaction() as c:
        c.execute("""UPDATE webhook_outbox SET state = 'delivered', attempts = attempts + 1, lease_ms = 0, last_status = ?,
                       last_error = '', last_attempt_ms = ?, delivered_ms = ? WHERE endpoint_id = ? AND seq = ?""",
                  (status, now, now, endpoint_id, seq))


def failed(store, endpoint_id: str, seq: int, *, now: int, status: int | None, error: str,
           next_ms: int | None) -> None:
    """An attempt that failed: try again at `next_ms`, or (None) it is a dead letter."""
    with store.writer.transaction() as c:
        c.execute("""UPDATE webhook_outbox SET state = ?, attempts = attempts + 1, lease_ms = 0, next_ms = ?,
                       last_status = ?, last_error = ?, last_attempt_ms = ? WHERE endpoint_id = ? AND seq = ?""",
                  ("pending" if next_ms is not None else "dead", next_ms if next_ms is not None else now, status,
                   error[:300], now, endpoint_id, seq))


def release(store, endpoint_id: str, seqs: list[int]) -> None:
    """Rows taken but not sent (an earlier one failed): free for the next pass."""
    if seqs:
        with store.writer.transaction() as c:
            c.executemany("UPDATE webhook_outbox SET lease_ms = 0 WHERE endpoint_id = ? AND seq = ? AND state = 'pending'",
                          [(endpoint_id, s) for s in seqs])


def forget_delivered(store, before_ms: int, *, batch: int = 1000) -> int:
    """Delivered rows older than `before_ms` are dropped (the event log keeps the events; a replay makes rows
    again), a batch per short transaction. Pending and dead rows stay. Returns how many went."""
    if store.conn.execute("SELECT 1 FROM webhook_outbox WHERE state = 'delivered' AND delivered_ms < ? LIMIT 1",
                          (before_ms,)).fetchone() is None:
        return 0  # a read only: nothing to drop takes no write lock
    gone = 0
    while True:
        with store.writer.transaction() as c:
            n = c.execute("""DELETE FROM webhook_outbox WHERE (endpoint_id, seq) IN (
                                SELECT endpoint_id, seq FROM webhook_outbox
                                WHERE state = 'delivered' AND delivered_ms < ? LIMIT ?)""", (before_ms, batch)).rowcount
        gone += n
        if n < batch:
            return gone


def replay(store, since: int, endpoint_ids: list[str] | None = None) -> dict[str, int]:
    """Every event after seq `since` that a receiver asked for goes to it again (a delivered or dead row becomes
    pending with no attempts). Returns how many rows each receiver got."""
    now = store.now_ms()
    hooks = [h for h in store.config.integrations.webhooks if endpoint_ids is None or h.id in endpoint_ids]
    counts = {h.id: 0 for h in hooks}
    last = since
    while hooks:
        with store.writer.transaction() as c:
            rows = c.execute("SELECT id, type FROM events WHERE id > ? ORDER BY id LIMIT ?",
                             (last, REPLAY_CHUNK)).fetchall()
            for r in rows:
                for h in hooks:
                    if h.wants(r["type"]):
                        c.execute("""INSERT INTO webhook_outbox (endpoint_id, seq, state, next_ms, created_ms)
                                     VALUES (?, ?, 'pending', ?, ?)
                                     ON CONFLICT (endpoint_id, seq) DO UPDATE SET state = 'pending', attempts = 0,
                                       next_ms = excluded.next_ms, lease_ms = 0, last_error = ''""",
                                  (h.id, r["id"], 0, now))  # due at once, whatever the sender's clock
                        counts[h.id] += 1
        if len(rows) < REPLAY_CHUNK:
            break
        last = rows[-1]["id"]
    return counts


def delivery_state(store, endpoint_id: str, *, dead_limit: int = 20) -> dict:
    """What the admin page shows of one receiver: counts by state, the first pending row (its attempts, next
    try, last error), the last delivery, the latest dead letters."""
    conn = store.conn
    counts = {s: 0 for s in ("pending", "delivered", "dead")}
    for r in conn.execute("SELECT state, COUNT(*) AS n FROM webhook_outbox WHERE endpoint_id = ? GROUP BY state",
                          (endpoint_id,)):
        counts[r["state"]] = r["n"]
    head = conn.execute("""SELECT seq, attempts, next_ms, last_status, last_error, last_attempt_ms FROM webhook_outbox
                           WHERE endpoint_id = ? AND state = 'pending' ORDER BY seq LIMIT 1""", (endpoint_id,)).fetchone()
    last_ok = conn.execute("""SELECT seq, delivered_ms, last_status FROM webhook_outbox
                              WHERE endpoint_id = ? AND state = 'delivered' ORDER BY seq DESC LIMIT 1""",
                           (endpoint_id,)).fetchone()
    dead = conn.execute("""SELECT o.seq, e.type, o.attempts, o.last_status, o.last_error, o.last_attempt_ms
                           FROM webhook_outbox o JOIN events e ON e.id = o.seq
                           WHERE o.endpoint_id = ? AND o.state = 'dead' ORDER BY o.seq DESC LIMIT ?""",
                        (endpoint_id, dead_limit)).fetchall()
    return {"counts": counts, "first_pending": dict(head) if head else None,
            "last_delivered": dict(last_ok) if last_ok else None, "dead_letters": [dict(r) for r in dead]}
