"""The sender of notices: due rows of the outbox (store/notifications.py), sent outside any transaction.

A pass takes (leases) a few due messages for the length of their requests and a margin; another process, or
another pass, leaves a leased row alone, and `sent`/`failed` change a row only while this pass's lease is on it,
so two server processes on one database never send one message twice. Each message is one request with the
gateway's timeout; its answer is recorded in its own short transaction: taken (sent), or tried again after a
capped, jittered back-off, and after `retry.max_attempts` dead (an admin may retry it). Messages do not wait for
one another: a failing one holds up only itself. A one-time code still unsent when it expires
(`booking.otp.ttl_seconds`) is dead without a further attempt. With the `outbox` backend a message is marked sent with
via 'outbox' and goes nowhere: admins read it (the demo).
"""
from __future__ import annotations

import logging
import random

from queue_server.notices.gateway import GatewaySetupError, accepted, build_request, message_values
from queue_server.outbound import opener, retry_delay, send
from queue_server.store import notifications as outbox

log = logging.getLogger(__name__)

BATCH = 10  # messages taken in one pass
LEASE_MARGIN_MS = 5_000


class MessageSender:
    def __init__(self, store, *, batch: int = BATCH, rand: random.Random | None = None):
        self.store = store
        self.batch = batch
        self.opener = opener()
        self.rand = rand or random.Random()

    @property
    def settings(self):
        return self.store.config.notifications

    def send_due(self) -> int:
        """One pass: returns how many messages were attempted (0: nothing due)."""
        cfg = self.settings
        gw = cfg.gateway if cfg.backend == "http" else None
        per_message = int((gw.timeout if gw else 0) * 1000) + LEASE_MARGIN_MS
        rows = outbox.claim(self.store, now=self.store.now_ms(), lease_ms=per_message * self.batch, limit=self.batch)
        otp_ms = self.store.config.booking.otp.ttl_seconds * 1000
        for row in rows:
            if row["kind"] == "otp" and self.store.now_ms() - row["created_ms"] >= otp_ms:
                # A one-time code that could not go out in its lifetime is useless: the công dân asks again.
                outbox.failed(self.store, row["id"], row["lease_ms"], now=self.store.now_ms(), status=None,
                              error="the one-time code expired before it was sent", next_ms=None)
                continue
            if gw is None:
                outbox.sent(self.store, row["id"], row["lease_ms"], now=self.store.now_ms(), via="outbox", status=None)
                continue
            status, error = self._send(gw, row)
            now = self.store.now_ms()
            if not error:
                outbox.sent(self.store, row["id"], row["lease_ms"], now=now, via="http", status=status)
                continue
            attempts = row["attempts"] + 1
            next_ms = None
            if attempts < cfg.retry.max_attempts:
                delay = retry_delay(attempts, cfg.retry.first_seconds, cfg.retry.max_seconds, cfg.retry.jitter, self.rand)
                next_ms = now + int(delay * 1000)
            outbox.failed(self.store, row["id"], row["lease_ms"], now=now, status=status, error=error, next_ms=next_ms)
            if next_ms is None:
                log.warning("notice %s (%s) is dead after %d attempts: %s", row["id"], row["kind"], attempts, error)
        return len(rows)

    def send_all_due(self) -> int:
        """Every due message, until none is due (the tests' entry; the server runs the background loop)."""
        total = 0
        while (n := self.send_due()):
            total += n  # ends: a failure backs off (next_ms after now), a dead one leaves the line
        return total

    def _send(self, gw, row: dict) -> tuple[int | None, str]:
        """(status, '' when the gateway took it or the error) of one message. Never inside a transaction."""
        ticket = self.store.ticket(row["ticket_id"]) if row["ticket_id"] is not None else None
        counter = ""
        if ticket is not None and ticket["counter_id"] and ticket["counter_id"] in self.store.config.counter_ids():
            counter = str(self.store.config.counter(ticket["counter_id"]).number)
        try:
            req = build_request(gw, message_values(row, ticket["code"] if ticket else "", counter))
        except GatewaySetupError as exc:
            return None, str(exc)
        status, answer, error = send(self.opener, req, gw.timeout)
        ok, why = accepted(gw, status, answer)
        return status, "" if ok else (error or why)
