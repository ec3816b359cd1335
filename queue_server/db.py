"""The one module that opens SQLite: connection settings, schema migrations, the write transaction.

WAL with synchronous=FULL (a committed ticket survives a power cut), a busy timeout for other processes,
and transactions that take the write lock first (BEGIN IMMEDIATE), so two writers never deadlock on an
upgrade and the single writer never waits half-way through. Nothing inside a transaction does other I/O.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 5000
ACTIVE_STATUSES = ("waiting", "called", "serving", "parked")

migrations = Migrations("qms")


@migrations(name="0001_core")
def _m0001(db: Database) -> None:
    db.execute("""
        CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            service_id TEXT NOT NULL,
            seq_key TEXT NOT NULL,
            seq_index INTEGER NOT NULL,
            number INTEGER NOT NULL,
            code TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('waiting','called','serving','parked','done','no_show','cancelled','unserved')),
            priority INTEGER NOT NULL DEFAULT 0,
            priority_group TEXT,
            source TEXT NOT NULL,
            issued_ms INTEGER NOT NULL,
            queued_ms INTEGER NOT NULL,
            counter_id TEXT,
            target_counter_id TEXT,
            called_ms INTEGER,
            started_ms INTEGER,
            finished_ms INTEGER,
            recall_count INTEGER NOT NULL DEFAULT 0,
            transfer_count INTEGER NOT NULL DEFAULT 0,
            staff_id INTEGER,
            token TEXT NOT NULL UNIQUE,
            UNIQUE (day, seq_key, seq_index)
        )""")
    # Two active tickets can never show one number in one range on one day (even after a wrap).
    db.execute("""CREATE UNIQUE INDEX tickets_active_number ON tickets (day, seq_key, number)
                  WHERE status IN ('waiting','called','serving','parked')""")
    # One counter serves at most one ticket at a time.
    db.execute("""CREATE UNIQUE INDEX tickets_one_per_counter ON tickets (counter_id)
                  WHERE status IN ('called','serving')""")
    db.execute("CREATE INDEX tickets_waiting ON tickets (day, status, service_id, queued_ms)")
    db.execute("CREATE INDEX tickets_day_service ON tickets (day, service_id)")
    db.execute("CREATE INDEX tickets_day_code ON tickets (day, code)")

    db.execute("""
        CREATE TABLE counters (
            id TEXT PRIMARY KEY,
            number INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('open','break','closed')),
            current_ticket_id INTEGER REFERENCES tickets(id),
            staff_id INTEGER,
            priority_streak INTEGER NOT NULL DEFAULT 0,
            services TEXT NOT NULL,
            services_override TEXT,
            policy TEXT NOT NULL,
            weights TEXT NOT NULL DEFAULT '{}',
            updated_ms INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("""
        CREATE TABLE service_state (
            service_id TEXT PRIMARY KEY,
            manual TEXT NOT NULL DEFAULT 'auto' CHECK (manual IN ('auto','open','closed')),
            cap_override INTEGER,
            updated_ms INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("""
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts_ms INTEGER NOT NULL,
            day TEXT NOT NULL,
            type TEXT NOT NULL,
            ticket_id INTEGER,
            counter_id TEXT,
            service_id TEXT,
            staff_id INTEGER,
            actor TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        )""")
    db.execute("CREATE INDEX events_day_type ON events (day, type)")
    db.execute("CREATE INDEX events_ticket ON events (ticket_id)")
    # The event log is append-only: history is never rewritten or deleted.
    db.execute("""CREATE TRIGGER events_no_update BEFORE UPDATE ON events
                  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END""")
    db.execute("""CREATE TRIGGER events_no_delete BEFORE DELETE ON events
                  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END""")
    db.execute("""CREATE TRIGGER tickets_no_delete BEFORE DELETE ON tickets
                  BEGIN SELECT RAISE(ABORT, 'tickets are history and are never deleted'); END""")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations(name="0002_accounts")
def _m0002(db: Database) -> None:
    db.execute("""
        CREATE TABLE staff (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            full_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL CHECK (role IN ('admin','supervisor','staff')),
            password_hash TEXT NOT NULL,
            counters TEXT NOT NULL DEFAULT '[]',
            active INTEGER NOT NULL DEFAULT 1,
            from_config INTEGER NOT NULL DEFAULT 0,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL
        )""")
    db.execute("""
        CREATE TABLE auth_tokens (
            token_hash TEXT PRIMARY KEY,
            staff_id INTEGER NOT NULL REFERENCES staff(id),
            created_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("""
        CREATE TABLE device_tokens (
            token_hash TEXT PRIMARY KEY,
            device_kind TEXT NOT NULL,
            device_id TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0,
            note TEXT NOT NULL DEFAULT ''
        )""")


@migrations(name="0007_devices")
def _m0007(db: Database) -> None:
    db.execute("""
        CREATE TABLE device_status (
            kind TEXT NOT NULL,
            device_id TEXT NOT NULL,
            state TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            last_seen_ms INTEGER NOT NULL,
            changed_ms INTEGER NOT NULL,
            PRIMARY KEY (kind, device_id)
        )""")


@migrations(name="0008_queue_indexes")
def _m0008(db: Database) -> None:
    # The daily cap counts today's ticket.issued events of a service; "next" looks up tickets sent to a counter.
    db.execute("CREATE INDEX events_day_type_service ON events (day, type, service_id)")
    db.execute("CREATE INDEX tickets_waiting_target ON tickets (target_counter_id) WHERE status = 'waiting'")


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection with the project's settings. Autocommit at the driver level: we BEGIN ourselves."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                           timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    db = Database(conn, execute_plugins=False)
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
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
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
