"""The sender: each receiver's due rows of the outbox, POSTed in seq order, outside any request or transaction.

One background task per receiver, so a receiver that hangs holds up only itself. A pass takes (leases) the
receiver's first rows if the first is due, sends them one by one, and records each answer in its own short
transaction: a 2xx is delivered; anything else (another status, a redirect, a refused connection, a timeout) is
tried again after a capped back-off, and after `max_attempts` it is a dead letter and the next row goes. The
rows after a failure wait (the receiver is backing off), so events reach a receiver in order. A receiver gets an
event at least once: an answer lost on the way means the same event, with the same body and event id, again.
"""
from __future__ import annotations

import logging
import urllib.request

from queue_server.outbound import opener, retry_delay, send
from queue_server.store import webhooks as outbox
from queue_server.webhooks.signing import event_body, headers

log = logging.getLogger(__name__)

BATCH = 20  # rows taken in one pass
POLL_SECONDS = 1.0  # an idle receiver's task looks at the outbox this often (a read, no write)
KEEP_DELIVERED_DAYS = 30  # delivered rows are dropped after this; the event log keeps the events themselves
FORGET_EVERY_WATCHES = 720  # the watcher drops them about once an hour (a watch is poll_seconds * 5)


class Deliverer:
    def __init__(self, store, *, batch: int = BATCH, poll_seconds: float = POLL_SECONDS):
        self.store = store
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.opener = opener()  # no redirects: a redirect is not a delivery
        self.running: set[str] = set()

    def hooks(self) -> dict:
        """The enabled receivers of the running config (a reload changes them)."""
        return {h.id: h for h in self.store.config.integrations.webhooks if h.enabled}

    # ------------------------------------------------------------ one pass
    def send_due(self, endpoint_id: str) -> int:
        """One pass for one receiver: returns how many rows were attempted (0: nothing due)."""
        hook = self.hooks().get(endpoint_id)
        if hook is None:
            return 0
        lease = int((hook.timeout + 5) * 1000) * self.batch
        rows = outbox.claim(self.store, endpoint_id, now=self.store.now_ms(), lease_ms=lease, limit=self.batch)
        centre = self.store.config.centre.name
        for i, row in enumerate(rows):
            body = event_body(row["event"], centre)
            status, error = self._post(hook, row["seq"], body)
            now = self.store.now_ms()
            if status is not None and 200 <= status < 300:
                outbox.delivered(self.store, endpoint_id, row["seq"], now=now, status=status)
                continue
            attempts = row["attempts"] + 1
            next_ms = None
            if attempts < hook.max_attempts:
                next_ms = now + int(retry_delay(attempts, hook.retry_seconds, hook.retry_max_seconds) * 1000)
            outbox.failed(self.store, endpoint_id, row["seq"], now=now, status=status, error=error, next_ms=next_ms)
            if next_ms is None:
                log.warning("webhook %s: event %s is a dead letter after %d attempts (%s)", endpoint_id, row["seq"],
                            attempts, error)
            outbox.release(self.store, endpoint_id, [r["seq"] for r in rows[i + 1:]])
            return i + 1
        return len(rows)

    def send_all_due(self) -> int:
        """Every receiver's due rows, until none is due (the tests' entry; the server runs `start`)."""
        total = 0
        for endpoint_id in self.hooks():
            while (n := self.send_due(endpoint_id)):
                total += n  # ends: a failure backs off (next_ms after now), a dead letter leaves the line
        return total

    def _post(self, hook, seq: int, body: bytes) -> tuple[int | None, str]:
        req = urllib.request.Request(hook.url, data=body, method="POST",
                                     headers=headers(hook.secret, seq, self.store.now_ms() // 1000, body))
        status, _answer, error = send(self.opener, req, hook.timeout)  # the answer is read, then ignored
        return status, error

    # ------------------------------------------------------------ in the background
    def start(self, socketio) -> None:
        """Watch the config: one task per enabled receiver, started when it appears, ended when it goes."""
        socketio.start_background_task(self._watch, socketio)

    def forget_delivered(self) -> int:
        """Drop delivered rows older than KEEP_DELIVERED_DAYS (the outbox stays small; the log keeps all)."""
        return outbox.forget_delivered(self.store, self.store.now_ms() - KEEP_DELIVERED_DAYS * 86_400_000)

    def _watch(self, socketio) -> None:
        watches = 0
        while True:
            try:
                for endpoint_id in self.hooks():
                    if endpoint_id not in self.running:
                        self.running.add(endpoint_id)
                        socketio.start_background_task(self._run, socketio, endpoint_id)
                if watches % FORGET_EVERY_WATCHES == 0:
                    self.forget_delivered()
            except Exception:  # noqa: BLE001 - the watcher must keep running
                log.exception("webhook watcher failed")
            watches += 1
            socketio.sleep(self.poll_seconds * 5)

    def _run(self, socketio, endpoint_id: str) -> None:
        try:
            while endpoint_id in self.hooks():
                try:
                    sent = self.send_due(endpoint_id)
                except Exception:  # noqa: BLE001 - a bad row or a locked database must not end the task
                    log.exception("webhook %s: delivery pass failed", endpoint_id)
                    sent = 0
                socketio.sleep(0 if sent else self.poll_seconds)
        finally:
            self.running.discard(endpoint_id)
