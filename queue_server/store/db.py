"""The one module that opens SQLite: connection settings, applying the schema's migrations (store/schema.py),
the write transaction.

WAL with synchronous=FULL (a committed ticket survives a power cut), a busy timeout for other processes,
and transactions that take the write lock first (BEGIN IMMEDIATE), so two writers never deadlock on an
upgrade and the single writer never waits half-way through. Nothing inside a transaction does other I/O.
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
import threading
from pathlib import Path

from sqlite_utils import Database

from queue_server.store.schema import migrations

BUSY_TIMEOUT_MS = 5000
ACTIVE_STATUSES = ("waiting", "called", "serving", "parked")

def connect(path: str | Path) -> sqlite3.Connection:
    """A connection with the project's settings. Autocommit at the driver level: we BEGIN ourselves."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                           timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _set_wal(conn)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _set_wal(conn: sqlite3.Connection) -> None:
    """Switch a file to WAL. On a new file several processes may do this at once, and SQLite answers "database
    is locked" at once instead of waiting out busy_timeout: try again, with a short growing pause, within it."""
    mode = _within_busy_timeout(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone()[0], first_pause=0.005)
    if mode.lower() not in ("wal", "memory"):
        raise sqlite3.OperationalError(f"could not switch {mode!r} to WAL")


def _within_busy_timeout(step, *, first_pause: float):
    """Run `step`, again after a short growing pause while SQLite answers "database is locked" at once, until
    busy_timeout has passed since the first try (a wait SQLite did itself counts: it then fails for good)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = first_pause
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    # Under the write lock: two processes starting at once on a new (or older) file must not both migrate.
    # sqlite-utils nests each migration's transaction as a savepoint inside this one.
    conn.execute("BEGIN IMMEDIATE")
    try:
        db = Database(conn, execute_plugins=False)
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return pending


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    return [m.name for m in migrations.applied(Database(conn, execute_plugins=False))]


class Writer:
    """The single writer of one process: a lock and `BEGIN IMMEDIATE ... COMMIT`."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.lock = threading.RLock()

    @contextlib.contextmanager
    def transaction(self):
        with self.lock:
            # Every thread of a process reads on this one connection. While a read that began before another
            # process wrote is still going, SQLite refuses a write on its stale snapshot at once, without
            # waiting out busy_timeout: the read ends within moments, so try again.
            _within_busy_timeout(lambda: self.conn.execute("BEGIN IMMEDIATE"), first_pause=0.001)
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
