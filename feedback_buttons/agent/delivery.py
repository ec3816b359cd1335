"""Getting ratings to the server without losing or doubling one.

Every accepted press is first appended to an outbox file on disk (JSON lines, fsync'd) and only then
acknowledged to the keypad; a delivery thread sends the oldest pending rating until the server has it, with a
capped randomised back-off (device_kit.Backoff) while the server is unreachable. A rating carries its own id (a retry of a rating the
server already stored is answered "duplicate", never counted twice) and, instead of a wall-clock time, how long
ago it was pressed (`age_ms`): the server dates it on its own clock, so a wrong clock on the agent PC does not
matter. Within one boot of the agent PC the age is measured on the monotonic clock, even across agent restarts.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Callable

from device_kit import Backoff

log = logging.getLogger(__name__)

DELIVERED, DUPLICATE, REJECTED, RETRY = "delivered", "duplicate", "rejected", "retry"


def _boot_id() -> str:
    """Same value for every process of one boot of this PC (the monotonic clock's epoch)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return f"process-{uuid.uuid4().hex}"


BOOT_ID = _boot_id()


def new_rating(keypad: str, *, button: str | None, level: int | None, seq: int | None,
               wall_ms: Callable[[], int] | None = None) -> dict:
    return {"id": uuid.uuid4().hex, "keypad": keypad, "button": button, "level": level, "seq": seq,
            "pressed_wall_ms": (wall_ms or (lambda: int(time.time() * 1000)))(), "pressed_mono": time.monotonic(),
            "boot": BOOT_ID}


def age_ms(rec: dict, *, now_mono: float | None = None, now_wall_ms: int | None = None) -> int:
    """How long ago the rating was pressed: monotonic within one boot, else the (possibly wrong, but steady)
    wall clock of this PC, which cancels out in the difference."""
    if rec.get("boot") == BOOT_ID:
        now = time.monotonic() if now_mono is None else now_mono
        return max(0, int((now - rec["pressed_mono"]) * 1000))
    now_wall = int(time.time() * 1000) if now_wall_ms is None else now_wall_ms
    return max(0, now_wall - int(rec["pressed_wall_ms"]))


class Outbox:
    """Pending ratings in a JSON-lines file: {"add": rating} and {"done": id, "outcome": ...} records."""

    COMPACT_AFTER = 1000

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "ratings-outbox.jsonl"
        self.lock = threading.Lock()
        self.added = threading.Event()
        self.pending: OrderedDict[str, dict] = OrderedDict()
        self.lines = 0
        self._load()
        self._compact()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    rec = json.loads(raw)
                except ValueError:
                    log.warning("outbox %s: line %d is unreadable (cut short by a crash?), skipped", self.path, n)
                    continue
                if "add" in rec and isinstance(rec["add"], dict) and "id" in rec["add"]:
                    self.pending[rec["add"]["id"]] = rec["add"]
                elif "done" in rec:
                    self.pending.pop(rec["done"], None)

    def _compact(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for rec in self.pending.values():
                f.write(json.dumps({"add": rec}, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        try:
            fd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass
        self.lines = len(self.pending)

    def _append(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.lines += 1

    def add(self, rating: dict) -> None:
        """Durable when this returns."""
        with self.lock:
            self._append({"add": rating})
            self.pending[rating["id"]] = rating
        self.added.set()

    def done(self, rating_id: str, outcome: str) -> None:
        with self.lock:
            self._append({"done": rating_id, "outcome": outcome})
            self.pending.pop(rating_id, None)
            if not self.pending and self.lines > self.COMPACT_AFTER:
                self._compact()

    def first(self) -> dict | None:
        with self.lock:
            return next(iter(self.pending.values()), None)

    def __len__(self) -> int:
        with self.lock:
            return len(self.pending)


class Delivery:
    """Sends the outbox's ratings in order through `transport(rating, age_ms) -> (outcome, detail)`."""

    def __init__(self, outbox: Outbox, transport: Callable[[dict, int], tuple[str, str]], backoff: Backoff,
                 on_state: Callable[[bool, str], None] | None = None):
        self.outbox = outbox
        self.transport = transport
        self.backoff = backoff
        self.on_state = on_state or (lambda ok, detail: None)
        self.stop_event = threading.Event()
        self.stats = {DELIVERED: 0, DUPLICATE: 0, REJECTED: 0, RETRY: 0}
        self.reachable: bool | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="keypad-delivery", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.outbox.added.set()

    def join(self, timeout: float = 5) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    def _reach(self, ok: bool, detail: str) -> None:
        if ok != self.reachable:
            self.reachable = ok
            self.on_state(ok, detail)

    def run(self) -> None:
        while not self.stop_event.is_set():
            rec = self.outbox.first()
            if rec is None:
                self.outbox.added.wait(0.5)
                self.outbox.added.clear()
                continue
            try:
                outcome, detail = self.transport(rec, age_ms(rec))
            except Exception as exc:  # noqa: BLE001 - a transport bug must not lose the rating
                log.exception("rating %s: delivery failed", rec["id"])
                outcome, detail = RETRY, repr(exc)
            self.stats[outcome] = self.stats.get(outcome, 0) + 1
            if outcome in (DELIVERED, DUPLICATE):
                self.outbox.done(rec["id"], outcome)
                self.backoff.reset()
                self._reach(True, "")
            elif outcome == REJECTED:
                log.error("rating %s from %s refused by the server, not retried: %s", rec["id"], rec["keypad"], detail)
                self.outbox.done(rec["id"], f"{REJECTED}: {detail[:200]}")
                self._reach(True, "")
            else:
                delay = self.backoff.next_delay()
                log.warning("rating %s not delivered (%s); %d pending, next try in %.1f s", rec["id"], detail,
                            len(self.outbox), delay)
                self._reach(False, detail)
                self.stop_event.wait(delay)


# ------------------------------------------------------------------ transports
class HttpTransport:
    """POST /api/v1/ratings with the agent's token."""

    def __init__(self, server: str, token: str, timeout: tuple[float, float] = (3, 10)):
        import requests

        self.url = server.rstrip("/") + "/api/v1/ratings"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.errors = requests.RequestException

    def __call__(self, rec: dict, age: int) -> tuple[str, str]:
        body = {"id": rec["id"], "keypad": rec["keypad"], "age_ms": age}
        if rec.get("level") is not None:
            body["level"] = rec["level"]
        else:
            body["button"] = rec["button"]
        if rec.get("seq") is not None:
            body["seq"] = rec["seq"]
        try:
            r = self.session.post(self.url, json=body, timeout=self.timeout)
        except self.errors as exc:
            return RETRY, f"server unreachable: {exc.__class__.__name__}"
        if r.status_code in (200, 201):
            try:
                duplicate = bool(r.json().get("duplicate"))
            except ValueError:
                duplicate = False
            return (DUPLICATE if duplicate else DELIVERED), ""
        if r.status_code in (401, 403, 408, 429) or r.status_code >= 500:
            return RETRY, f"HTTP {r.status_code}: {r.text[:200]}"
        return REJECTED, f"HTTP {r.status_code}: {r.text[:200]}"


class StatusReporter:
    """Device states to the server: sent when they change, and all of them again every `refresh` seconds
    (so the server's last seen stays fresh). `send(kind, id, state, detail) -> bool` does the talking."""

    def __init__(self, send: Callable[[str, str, str, str], bool], refresh: float = 30.0):
        self.send = send
        self.refresh = refresh
        self.states: dict[tuple[str, str], tuple[str, str]] = {}
        self.dirty: set[tuple[str, str]] = set()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def report(self, kind: str, device_id: str, state: str, detail: str = "") -> None:
        with self.lock:
            if self.states.get((kind, device_id)) != (state, detail):
                self.states[(kind, device_id)] = (state, detail)
                self.dirty.add((kind, device_id))
        self.wake.set()

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="keypad-status", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()

    def join(self, timeout: float = 5) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    def flush(self) -> None:
        with self.lock:
            items = [(key, self.states[key]) for key in sorted(self.dirty)]
            self.dirty.clear()
        for key, (state, detail) in items:
            ok = False
            try:
                ok = self.send(key[0], key[1], state, detail)
            except Exception:  # noqa: BLE001 - reporting is best effort, retried
                log.exception("reporting %s %s failed", *key)
            if not ok:
                with self.lock:
                    self.dirty.add(key)

    def run(self) -> None:
        last_all = time.monotonic()
        while not self.stop_event.is_set():
            self.wake.wait(1.0)
            self.wake.clear()
            if time.monotonic() - last_all >= self.refresh:
                with self.lock:
                    self.dirty.update(self.states)
                last_all = time.monotonic()
            self.flush()


def http_status_sender(server: str, token: str) -> Callable[[str, str, str, str], bool]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = server.rstrip("/")

    def send(kind: str, device_id: str, state: str, detail: str) -> bool:
        try:
            r = session.post(f"{base}/api/v1/devices/{kind}/{device_id}/status",
                             json={"state": state, "detail": detail[:300]}, timeout=(3, 10))
        except requests.RequestException:
            return False
        if r.status_code >= 400:
            log.warning("the server refused the state of %s %s: %s %s", kind, device_id, r.status_code, r.text[:200])
        return r.status_code < 500

    return send
