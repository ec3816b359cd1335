"""The link between server processes that share one database (server.message_queue: Redis).

The event log is the truth; Redis only makes other processes hear of a change sooner. Each process delivers
to its own sockets: what it committed, at once (push.live); what another process committed, from the event
log, when that process's note arrives here (`committed`: the seqs it wrote), or on its own push tick when no
note comes (Redis down, stopped or restarted: nothing is lost, only later). A request never waits on Redis:
notes go into a bounded outbox that a background task publishes, with a timeout on every Redis call.

Payloads that are not in the event log (notices, config reloads, print status, device states) travel as
`emit` notes; one published while another process is cut off from Redis is not replayed to it (a display
asks for notices again when it reconnects; the supervisor page reads devices every minute).
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections import deque

log = logging.getLogger(__name__)

CHANNEL = "qms-push"
OUTBOX = 10_000  # notes waiting for Redis at most; past that the oldest are dropped (and counted)
TIMEOUT_S = 1.0  # every Redis call of the publisher
RETRY_S = (0.2, 0.5, 1.0, 2.0)  # back-off after a failure, publisher and listener alike


class Bus:
    """One process's end of the Redis link. `on_committed(seqs)` and `on_emit(event, data, room)` are called,
    in a background task, for notes of other processes."""

    def __init__(self, url: str, socketio, *, on_committed, on_emit, clock=time.time):
        self.url = url
        self.socketio = socketio
        self.on_committed = on_committed
        self.on_emit = on_emit
        self.clock = clock
        self.host = uuid.uuid4().hex
        self.outbox: deque[str] = deque()
        self.wake = socketio.server.eio.create_event()  # set by _post: the publisher sleeps until there is a note
        self.dropped = 0
        self.state = "connecting"  # connecting | up | down
        self.since = clock()
        self.last_error = ""
        self.published = 0
        self.received = 0
        self._stop = False

    # ------------------------------------------------------------ sending (never blocks the caller)
    def committed(self, seqs: list[int]) -> None:
        if seqs:
            self._post({"host": self.host, "kind": "committed", "seqs": seqs})

    def emit(self, event: str, data, room) -> None:
        self._post({"host": self.host, "kind": "emit", "event": event, "data": data, "room": room})

    def _post(self, note: dict) -> None:
        if len(self.outbox) >= OUTBOX:
            self.outbox.popleft()
            self.dropped += 1
        self.outbox.append(json.dumps(note, ensure_ascii=False, separators=(",", ":")))
        self.wake.set()

    def health(self) -> dict:
        return {"state": self.state, "since_ms": int(self.since * 1000), "last_error": self.last_error,
                "queued": len(self.outbox), "dropped": self.dropped, "published": self.published,
                "received": self.received}

    # ------------------------------------------------------------ background tasks
    def start(self) -> None:
        self.socketio.start_background_task(self._publisher)
        self.socketio.start_background_task(self._listener)

    def stop(self) -> None:
        self._stop = True

    def _set(self, state: str, error: str = "") -> None:
        if state != self.state:
            log.warning("message queue %s%s", state, f": {error}" if error else "")
            self.state, self.since = state, self.clock()
        if error:
            self.last_error = error

    def _client(self, **kw):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=TIMEOUT_S, **kw)

    def _publisher(self) -> None:
        client, failures = None, 0
        while not self._stop:
            if not self.outbox:
                self.wake.wait(1.0)  # no polling while idle
                self.wake.clear()
                continue
            try:
                client = client or self._client(socket_timeout=TIMEOUT_S)
                while self.outbox:
                    client.publish(CHANNEL, self.outbox[0])
                    self.outbox.popleft()
                    self.published += 1
                failures = 0
                if self.state != "up":
                    self._set("up")
            except Exception as exc:  # noqa: BLE001 - Redis down, stopped or gone: keep the notes, try again
                client = None
                self._set("down", f"{type(exc).__name__}: {exc}"[:200])
                self.socketio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1

    def _listener(self) -> None:
        failures = 0
        while not self._stop:
            pubsub = None
            try:
                # no read timeout: a quiet channel is normal; Redis's own health check notices a dead link
                pubsub = self._client(health_check_interval=5).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                failures = 0
                self._set("up")
                self.on_committed(None)  # what others wrote while this process was cut off: from the log, now
                for message in pubsub.listen():
                    if self._stop:
                        break
                    if message.get("type") == "message":
                        self._handle(message["data"])
            except Exception as exc:  # noqa: BLE001
                self._set("down", f"{type(exc).__name__}: {exc}"[:200])
                self.socketio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001
                        pass

    def _handle(self, raw) -> None:
        try:
            note = json.loads(raw)
        except ValueError:
            return
        if not isinstance(note, dict) or note.get("host") == self.host:
            return
        self.received += 1
        try:
            if note.get("kind") == "committed":
                self.on_committed([int(s) for s in note.get("seqs", [])])
            elif note.get("kind") == "emit":
                self.on_emit(note["event"], note.get("data"), note.get("room"))
        except Exception:  # noqa: BLE001 - one bad note must not stop the listener
            log.exception("message queue note failed")
