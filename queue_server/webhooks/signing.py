"""What a receiver gets: the JSON body of one event and the headers that sign it."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

EVENT_ID = "X-QMS-Event-Id"
TIMESTAMP = "X-QMS-Timestamp"
SIGNATURE = "X-QMS-Signature"


def event_body(event: dict, centre: str) -> bytes:
    """The body of an event (a row of the log with its ticket's code and number). The same row gives the same
    bytes, so a retried or replayed delivery is byte for byte the first one."""
    ticket = None
    if event.get("ticket_id") is not None:
        ticket = {"id": event["ticket_id"], "code": event.get("ticket_code"), "number": event.get("ticket_number"),
                  "day": event.get("ticket_day")}
    body = {
        "id": event["id"],
        "type": event["type"],
        "time": datetime.fromtimestamp(event["ts_ms"] / 1000, timezone.utc).isoformat(timespec="milliseconds"),
        "day": event["day"],
        "centre": centre,
        "ticket": ticket,
        "service": event.get("service_id"),
        "counter": event.get("counter_id"),
        "staff_id": event.get("staff_id"),
        "data": event.get("data") or {},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256, under the receiver's secret, of the timestamp, a dot and the raw body."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: str, seq: int, timestamp: int, body: bytes) -> dict[str, str]:
    ts = str(timestamp)
    return {"Content-Type": "application/json; charset=utf-8", EVENT_ID: str(seq), TIMESTAMP: ts,
            SIGNATURE: signature(secret, ts, body), "User-Agent": "qms-webhooks"}


def verify(secret: str, timestamp: str, body: bytes, header: str, *, now_s: float, tolerance_s: float = 300) -> bool:
    """What a receiver does (docs/integrations.md): the signature matches, compared in constant time, and the
    timestamp is within `tolerance_s` of its own clock (an old request replayed by someone else is refused)."""
    try:
        if abs(now_s - int(timestamp)) > tolerance_s:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)
