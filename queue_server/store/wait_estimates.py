"""The estimate each ticket was given at issue, beside its real wait (table wait_estimates).

`record` runs after the ticket's own transaction (an `after_issue` hook: web/estimate_log.py), in one short
transaction of its own; a failure there never touches the ticket. `outcomes` reads each estimate with the real
wait: from issue to the ticket's first call in the event log."""
from __future__ import annotations


def record(store, ticket: dict, wait: dict) -> None:
    """Keep what the ticket was told (`wait`: the estimate's dict, as the kiosk's answer carries it)."""
    with store.writer.transaction() as c:
        c.execute("""INSERT INTO wait_estimates (ticket_id, day, service_id, issued_ms, state, minutes, low, high)
                     SELECT id, day, service_id, issued_ms, ?, ?, ?, ? FROM tickets WHERE id = ?
                     ON CONFLICT (ticket_id) DO NOTHING""",
                  (str(wait.get("state") or ""), wait.get("minutes"), wait.get("low"), wait.get("high"), ticket["id"]))


def outcomes(store, day_from: str, day_to: str) -> list[dict]:
    """Every estimate with a median of the days between two local days (inclusive), with its ticket's real wait
    in minutes (None: never called)."""
    rows = store.conn.execute(
        """SELECT w.ticket_id, w.day, w.service_id, w.state, w.minutes, w.low, w.high,
                  (SELECT MIN(e.ts_ms) FROM events e WHERE e.ticket_id = w.ticket_id AND e.type = 'ticket.called')
                      - w.issued_ms AS waited_ms
           FROM wait_estimates w WHERE w.day BETWEEN ? AND ? AND w.minutes IS NOT NULL
           ORDER BY w.day, w.service_id, w.ticket_id""", (day_from, day_to)).fetchall()
    return [{"ticket_id": r["ticket_id"], "day": r["day"], "service_id": r["service_id"], "state": r["state"],
             "minutes": r["minutes"], "low": r["low"], "high": r["high"],
             "waited": None if r["waited_ms"] is None else r["waited_ms"] / 60_000} for r in rows]
