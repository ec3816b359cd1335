"""The procedure catalogue searched at the kiosk (ticket_printer/server/catalogue_store.py keeps its search index).

An import replaces every row in one transaction, logs `catalogue.imported` and stores its seq in meta
'catalogue', so a server sees an import made by the CLI in another process.
"""
from __future__ import annotations

import json

from queue_server.store import meta
from queue_server.store.event_log import log

COLUMNS = ("code", "name", "name_en", "field", "department_id", "service_id", "processing_time", "fee", "agency", "level",
           "field_en", "processing_time_en", "fee_en", "elsewhere", "elsewhere_en")


def replace_all(store, rows: list[tuple], *, data: dict, actor: str, only_if_empty: bool = False) -> dict | None:
    """Replace the catalogue with `rows` (values in COLUMNS order; the trailing optional ones, English values and
    `elsewhere`, may be left off and are then empty). `data` goes into the event with the count
    replaced added. With `only_if_empty`, nothing happens (None) when a catalogue is there already."""
    with store.writer.transaction() as c:
        before = c.execute("SELECT COUNT(*) FROM procedures").fetchone()[0]
        if only_if_empty and before:
            return None
        now = store.now_ms()
        c.execute("DELETE FROM procedures")
        c.executemany(f"INSERT INTO procedures (position, imported_ms, {', '.join(COLUMNS)}) "
                      f"VALUES (?, ?, {', '.join('?' * len(COLUMNS))})",
                      [(i, now, *row, *[""] * (len(COLUMNS) - len(row))) for i, row in enumerate(rows)])
        data = {"count": len(rows), "replaced": before, **data}
        seq = log(store, c, "catalogue.imported", now=now, actor=actor, data=data)
        meta.put(c, "catalogue", json.dumps({"seq": seq, "count": len(rows), "ts_ms": now}))
    return {**data, "seq": seq}


def count(store) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM procedures").fetchone()[0]


def version(store) -> str:
    """Changes with every import (the import's seq, count and time)."""
    return meta.get(store, "catalogue") or ""


def all_rows(store) -> list[dict]:
    """Every procedure in catalogue order, as dicts keyed by COLUMNS."""
    return [dict(r) for r in store.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM procedures ORDER BY position")]
