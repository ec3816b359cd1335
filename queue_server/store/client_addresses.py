"""Client addresses kept beside their hash (table client_addresses, migration 0017).

The event log and the sign-in throttle hold a client's address only as its keyed hash ("ip:3fa9...",
core/addresses.py). The raw address is written here, tag -> address with when it was first and last seen, only
while `server.address_retention_days` is above 0, and the day keeper purges each row that many days after it
was last seen (docs/security.md, "Client addresses").
"""
from __future__ import annotations

UPSERT = """INSERT INTO client_addresses (tag, address, first_ms, last_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT (tag) DO UPDATE SET address = excluded.address, last_ms = excluded.last_ms"""


def remember(store, tag: str, address: str, now_ms: int, c=None) -> None:
    """Keep `address` for `tag`, inside the caller's transaction `c` or in one of its own."""
    if c is not None:
        c.execute(UPSERT, (tag, address, now_ms, now_ms))
        return
    with store.writer.transaction() as own:
        own.execute(UPSERT, (tag, address, now_ms, now_ms))


def addresses_of(store, tags: list[str]) -> dict[str, str]:
    """The raw addresses still kept for these tags (tag -> address); a purged or never kept tag is absent."""
    tags = sorted(set(tags))
    if not tags:
        return {}
    marks = ", ".join("?" for _ in tags)
    rows = store.conn.execute(f"SELECT tag, address FROM client_addresses WHERE tag IN ({marks})", tags).fetchall()
    return {r["tag"]: r["address"] for r in rows}


def purge(store, seen_before_ms: int) -> int:
    """Forget every address last seen before `seen_before_ms`; returns how many. Writes only when one is due."""
    due = store.conn.execute("SELECT 1 FROM client_addresses WHERE last_ms < ? LIMIT 1", (seen_before_ms,)).fetchone()
    if due is None:
        return 0
    with store.writer.transaction() as c:
        return c.execute("DELETE FROM client_addresses WHERE last_ms < ?", (seen_before_ms,)).rowcount
