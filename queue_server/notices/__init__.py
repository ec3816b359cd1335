"""Notices to citizens' phones (docs/notifications.md): which are due (`passes`), the gateway adapter
(`gateway`), the sender (`delivery`), and `Notices`, the one background task per server process that runs them.
"""
from __future__ import annotations

import logging

from queue_server.notices.delivery import MessageSender
from queue_server.notices.passes import NoticePass, broadcast_body
from queue_server.store import notifications as outbox

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
PURGE_EVERY_POLLS = 3600  # the retention purge runs about once an hour (and at start)

__all__ = ["MessageSender", "NoticePass", "Notices", "broadcast_body"]


class Notices:
    """The notices of one server process: a pass when the event log moved, then the due messages sent."""

    def __init__(self, store, read, *, poll_seconds: float = POLL_SECONDS):
        self.store = store
        self.finder = NoticePass(store, read)
        self.sender = MessageSender(store)
        self.poll_seconds = poll_seconds
        self.seen_seq: int | None = None

    def step(self) -> int:
        """Queue what is due if the log moved on, send what is due; how many messages were attempted."""
        last = self.store.last_seq()
        if last != self.seen_seq:
            self.finder.scan()
            self.seen_seq = last
        return self.sender.send_due()

    def purge(self) -> dict[str, int]:
        """Messages and tickets' phone numbers older than `notifications.retention_days` are deleted."""
        days = self.store.config.notifications.retention_days
        return outbox.purge(self.store, self.store.now_ms() - days * 86_400_000)

    def start(self, socketio) -> None:
        socketio.start_background_task(self._run, socketio)

    def _run(self, socketio) -> None:
        polls = 0
        while True:
            sent = 0
            try:
                if polls % PURGE_EVERY_POLLS == 0:
                    self.purge()
                sent = self.step()
            except Exception:  # noqa: BLE001 - a locked database or a bad row must not end the task
                log.exception("notices pass failed")
            polls += 1
            socketio.sleep(0 if sent else self.poll_seconds)
