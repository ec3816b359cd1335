"""Dossiers imported from a file (dossiers.source: file). An import replaces every row in one transaction and
logs `dossiers.imported`; a look-up reads one row by its code."""
from __future__ import annotations

from queue_server.store.event_log import log

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
