"""Dossiers imported from a file (dossiers.source: file). An import replaces every row in one transaction and
logs `dossiers.imported`; a look-up reads one row by its code."""
from __future__ import annotations

from queue_server.core import dossiers as rules
from queue_server.core.errors import DomainError
from queue_server.store.event_log import log
from queue_server.store.rows import ticket_from_row

COLUMNS = ("code", "status", "procedure", "received", "appointment", "collect_at", "applicant")


def replace_all(store, rows: list[tuple], *, source: str, actor: str) -> dict:
    """Replace the dossiers with `rows` (values in COLUMNS order, the applicant already masked)."""
    with store.writer.transaction() as c:
        before = c.execute("SELECT COUNT(*) FROM dossiers").fetchone()[0]
        now = store.now_ms()
        c.execute("DELETE FROM dossiers")
        c.executemany(f"INSERT INTO dossiers (imported_ms, {', '.join(COLUMNS)}) "
                      f"VALUES (?, {', '.join('?' * len(COLUMNS))})", [(now, *row) for row in rows])
        data = {"count": len(rows), "replaced": before, "source": source}
        seq = log(store, c, "dossiers.imported", now=now, actor=actor, data=data)
    return {**data, "seq": seq}


def find(store, code: str) -> dict | None:
    row = store.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM dossiers WHERE code = ?", (code,)).fetchone()
    return None if row is None else dict(row)


def count(store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM dossiers").fetchone()[0]


# ------------------------------------------------------------------ dossier codes on tickets
def attach(store, ticket_id: int, code: str, *, counter: dict, staff_id: int | None, actor: str | None) -> dict:
    """Attach a dossier code to the ticket being served at `counter` (the core says whether it may); logs
    `ticket.dossier_attached`. Returns {"codes": the ticket's codes, "added": whether this one is new}."""
    with store.writer.transaction() as c:
        row = c.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise DomainError("ticket_unknown", ticket=ticket_id)
        ticket = ticket_from_row(row)
        attached = [r[0] for r in c.execute("SELECT code FROM ticket_dossiers WHERE ticket_id = ? ORDER BY attached_ms, code",
                                            (ticket_id,))]
        added = rules.check_attach(ticket_code=ticket.code, status=ticket.status.value, ticket_counter=ticket.counter_id,
                                   counter_id=counter["id"], counter_number=counter["number"], attached=attached, code=code)
        if added:
            now = store.now_ms()
            c.execute("INSERT INTO ticket_dossiers (ticket_id, code, counter_id, staff_id, attached_ms) VALUES (?, ?, ?, ?, ?)",
                      (ticket_id, code, counter["id"], staff_id, now))
            log(store, c, "ticket.dossier_attached", now=now, ticket=ticket, counter_id=counter["id"], staff_id=staff_id,
                actor=actor, data={"code": code})
            attached.append(code)
    return {"codes": attached, "added": added}


def attach_at_issue(store, c, ticket, code: str, *, now: int, actor: str | None, result) -> None:
    """Inside the issuing transaction: the dossier code the kiosk was shown, on the ticket it issues for it (no
    counter, no officer); logs `ticket.dossier_attached` with `at: kiosk`."""
    c.execute("INSERT INTO ticket_dossiers (ticket_id, code, counter_id, staff_id, attached_ms) VALUES (?, ?, NULL, NULL, ?)",
              (ticket.id, code, now))
    store._log(c, "ticket.dossier_attached", now=now, day=ticket.day, ticket=ticket, counter_id=None, staff_id=None,
               actor=actor, data={"code": code, "at": "kiosk"}, result=result)


def codes_of(store, ticket_id: int) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT code FROM ticket_dossiers WHERE ticket_id = ? ORDER BY attached_ms, code",
                                             (ticket_id,))]


def tickets_per_dossier(store, day_from: str, day_to: str) -> list[dict]:
    """Per dossier code, the tickets of days day_from..day_to (YYYY-MM-DD) it was attached to, most first."""
    rows = store.conn.execute("""
        SELECT d.code, COUNT(DISTINCT d.ticket_id) AS tickets, MIN(t.day) AS first_day, MAX(t.day) AS last_day
        FROM ticket_dossiers d JOIN tickets t ON t.id = d.ticket_id
        WHERE t.day BETWEEN ? AND ? GROUP BY d.code ORDER BY tickets DESC, d.code""", (day_from, day_to))
    return [dict(r) for r in rows]


def ratings_per_dossier(store, day_from: str, day_to: str) -> list[tuple[str, int, str]]:
    """(dossier code, level, flags) of every counted rating of a ticket of days day_from..day_to that carries the
    code: the satisfaction export per dossier (queue_server/satisfaction_766.py)."""
    return [tuple(r) for r in store.conn.execute("""
        SELECT d.code, r.level, r.flags FROM ticket_dossiers d JOIN tickets t ON t.id = d.ticket_id
        JOIN ratings r ON r.ticket_id = d.ticket_id AND r.status = 'attributed'
        WHERE t.day BETWEEN ? AND ?""", (day_from, day_to))]
