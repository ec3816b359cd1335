"""Notices on the hall displays, set by an admin (display_id '*' is every display)."""
from __future__ import annotations

from queue_server.store.event_log import Audit, log_audit


def all_notices(store) -> dict[str, dict]:
    """display id (or '*') -> {text, text_en, updated_ms} of every notice set."""
    return {r[0]: {"text": r[1], "text_en": r[2], "updated_ms": r[3]} for r in store.conn.execute(
        "SELECT display_id, text, text_en, updated_ms FROM display_notices")}


def notices_for(store, display_id: str) -> dict[str, tuple[str, str]]:
    """The notice set for one display and the one for every display ('*'), those that exist."""
    return {r[0]: (r[1], r[2]) for r in store.conn.execute(
        "SELECT display_id, text, text_en FROM display_notices WHERE display_id IN (?, '*')", (display_id,))}


def set_notice(store, display_id: str, text: str, text_en: str, *, staff_id: int | None,
               audit: Audit | None = None) -> int | None:
    """Set a display's notice, or remove it when both texts are empty. Returns the audit event's seq."""
    with store.writer.transaction() as c:
        if text or text_en:
            c.execute("""INSERT INTO display_notices (display_id, text, text_en, staff_id, updated_ms) VALUES (?, ?, ?, ?, ?)
                         ON CONFLICT (display_id) DO UPDATE SET text = excluded.text, text_en = excluded.text_en,
                         staff_id = excluded.staff_id, updated_ms = excluded.updated_ms""",
                      (display_id, text, text_en, staff_id, store.now_ms()))
        else:
            c.execute("DELETE FROM display_notices WHERE display_id = ?", (display_id,))
        return log_audit(store, c, audit)
