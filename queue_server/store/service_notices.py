"""A supervisor's message to everyone waiting for a service (table service_notices; a delay, a counter closing).

`broadcast` is one transaction: the service's notice for today (shown on its displays and on its waiting
tickets' status pages), one `broadcast` message in the outbox per waiting ticket with a phone number, and the
`service.broadcast` event of the log (who, which service, the text, how many messages; never a phone number).
An empty text removes the notice and sends nothing.
"""
from __future__ import annotations

from queue_server.store import notifications
from queue_server.store.event_log import Audit, log_audit


def broadcast(store, service_id: str, text: str, text_en: str, *, bodies, audit: Audit) -> dict:
    """Set (or with an empty text, remove) the service's notice; queue `bodies(code, lang)` to each waiting
    ticket with a phone number. Returns {seq, messages}."""
    now, day = store.now_ms(), store.today()
    with store.writer.transaction() as c:
        if text:
            c.execute("""INSERT INTO service_notices (service_id, day, text, text_en, staff_id, updated_ms)
                         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (service_id) DO UPDATE SET day = excluded.day,
                         text = excluded.text, text_en = excluded.text_en, staff_id = excluded.staff_id,
                         updated_ms = excluded.updated_ms""", (service_id, day, text, text_en, audit.staff_id, now))
        else:
            c.execute("DELETE FROM service_notices WHERE service_id = ?", (service_id,))
        waiting = notifications.waiting_contacts(store, service_id, day) if text else []
        seq = log_audit(store, c, audit, messages=len(waiting))  # how many, never to whom
        for r in waiting:
            notifications.enqueue(store, c, kind="broadcast", to_phone=r["phone"], lang=r["lang"],
                                  body=bodies(r["code"], r["lang"]), ticket_id=r["id"],
                                  dedupe=f"broadcast:{seq}:{r['id']}", now=now)
    return {"seq": seq, "messages": len(waiting)}


def notices_today(store, service_ids=None) -> dict[str, dict]:
    """service id -> {text, text_en, updated_ms} of today's notices (only `service_ids` when given)."""
    rows = store.conn.execute("SELECT service_id, text, text_en, updated_ms FROM service_notices WHERE day = ?",
                              (store.today(),)).fetchall()
    return {r["service_id"]: {"text": r["text"], "text_en": r["text_en"], "updated_ms": r["updated_ms"]}
            for r in rows if service_ids is None or r["service_id"] in service_ids}
