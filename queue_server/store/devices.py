"""What devices last reported (`device_status`): one row per (kind, device id), and a `device.state` event per
change of state."""
from __future__ import annotations

from dataclasses import dataclass

from queue_server.store.event_log import log


@dataclass(frozen=True)
class DeviceWrite:
    """What one report changed: the row as written, and the event's seq when the state changed."""

    state: str
    detail: str
    last_seen_ms: int
    changed_ms: int
    changed: bool
    seq: int | None


def report(store, kind: str, device_id: str, state: str, detail: str, *, actor: str | None) -> DeviceWrite:
    """Record a report; a heartbeat (same state and detail) only refreshes last seen and logs nothing."""
    with store.writer.transaction() as c:
        now = store.now_ms()
        row = c.execute("SELECT state, detail, changed_ms FROM device_status WHERE kind = ? AND device_id = ?",
                        (kind, device_id)).fetchone()
        changed = row is None or row["state"] != state or row["detail"] != detail
        changed_ms = now if changed else row["changed_ms"]
        c.execute("""INSERT INTO device_status (kind, device_id, state, detail, last_seen_ms, changed_ms)
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, device_id) DO UPDATE SET
                     state = excluded.state, detail = excluded.detail, last_seen_ms = excluded.last_seen_ms,
                     changed_ms = excluded.changed_ms""", (kind, device_id, state, detail, now, changed_ms))
        seq = None
        if changed:
            seq = log(store, c, "device.state", now=now, actor=actor,
                      data={"kind": kind, "device": device_id, "state": state, "detail": detail})
    return DeviceWrite(state, detail, now, changed_ms, changed, seq)


def mark_missing(store, kind: str, device_id: str, detail: str, now: int) -> int:
    """A device silent for too long: its state becomes missing. Returns the event's seq."""
    with store.writer.transaction() as c:
        c.execute("UPDATE device_status SET state = 'missing', detail = ?, changed_ms = ? WHERE kind = ? AND device_id = ?",
                  (detail, now, kind, device_id))
        return log(store, c, "device.state", now=now, actor="sweep",
                   data={"kind": kind, "device": device_id, "state": "missing"})


def all_states(store) -> dict[tuple[str, str], dict]:
    """(kind, device id) -> its row (state, detail, last_seen_ms, changed_ms)."""
    return {(r["kind"], r["device_id"]): dict(r) for r in store.conn.execute("SELECT * FROM device_status")}


def state_of(store, kind: str, device_id: str) -> dict | None:
    row = store.conn.execute("SELECT state, detail, last_seen_ms, changed_ms FROM device_status "
                             "WHERE kind = ? AND device_id = ?", (kind, device_id)).fetchone()
    return dict(row) if row else None
