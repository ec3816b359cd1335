"""The database's schema: every migration, in order (sqlite-utils Migrations; applied by store/db.py `migrate`).

0001_core to 0013_wait_estimates here; 0014_bookings_base onwards in schema_more.py (imported at the end, same
`migrations`). A new table or column is a new migration at the end of schema_more.py, never an edit of a released one.
"""
from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

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


@migrations(name="0003_ratings")
def _m0003(db: Database) -> None:
    # Satisfaction ratings (feedback_buttons/): the id comes from the keypad agent or the rating page, so a
    # retried delivery is the same row. pressed_ms is on the server's clock (received_ms - age_ms).
    db.execute("""
        CREATE TABLE ratings (
            id TEXT PRIMARY KEY,
            day TEXT NOT NULL,
            ticket_id INTEGER REFERENCES tickets(id),
            counter_id TEXT NOT NULL,
            staff_id INTEGER,
            service_id TEXT,
            department_id TEXT,
            level INTEGER NOT NULL,
            button TEXT,
            source TEXT NOT NULL,
            pressed_ms INTEGER NOT NULL,
            received_ms INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('attributed','repeat','unattributed')),
            flags TEXT NOT NULL DEFAULT '[]',
            reason TEXT,
            actor TEXT
        )""")
    # One counted rating per ticket, whatever the code above does.
    db.execute("CREATE UNIQUE INDEX ratings_one_per_ticket ON ratings (ticket_id) WHERE status = 'attributed'")
    db.execute("CREATE INDEX ratings_ticket ON ratings (ticket_id)")
    db.execute("CREATE INDEX ratings_day_counter ON ratings (day, counter_id)")
    db.execute("CREATE INDEX tickets_counter_called ON tickets (counter_id, called_ms)")
    db.execute("""CREATE TRIGGER ratings_no_delete BEFORE DELETE ON ratings
                  BEGIN SELECT RAISE(ABORT, 'ratings are history and are never deleted'); END""")


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


@migrations(name="0005_supervision")
def _m0005(db: Database) -> None:
    # Reports (queue_server/reports.py): one row per leg of a ticket (issue or transfer -> the next transfer or
    # the end), derived from the event log day by day. Finished days are kept; open days are derived again.
    db.execute("""
        CREATE TABLE report_legs (
            ticket_id INTEGER NOT NULL,
            leg INTEGER NOT NULL,
            day TEXT NOT NULL,
            service_id TEXT NOT NULL,
            counter_id TEXT,
            staff_id INTEGER,
            priority INTEGER NOT NULL DEFAULT 0,
            started_by TEXT NOT NULL CHECK (started_by IN ('issued','transferred')),
            queued_ms INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            weekday INTEGER NOT NULL,
            called_ms INTEGER,
            wait_ms INTEGER,
            serve_ms INTEGER,
            end_ms INTEGER,
            outcome TEXT NOT NULL,
            recalls INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, ticket_id, leg)
        ) WITHOUT ROWID""")  # stored in day order: a report over a range reads one stretch of the table
    # Per day, the sums of each grouping (dim service | counter | officer | hour | arrival; key '' = none) with
    # the day's waiting and serving times (packed arrays of ms) for exact medians and percentiles; and the
    # satisfaction presses by group. A year's report reads these, not every leg.
    db.execute("""
        CREATE TABLE report_groups (
            dim TEXT NOT NULL,
            day TEXT NOT NULL,
            key TEXT NOT NULL,
            tickets INTEGER NOT NULL, issued INTEGER NOT NULL, transferred_in INTEGER NOT NULL,
            called INTEGER NOT NULL, served INTEGER NOT NULL, no_show INTEGER NOT NULL, transferred INTEGER NOT NULL,
            cancelled INTEGER NOT NULL, unserved INTEGER NOT NULL, active INTEGER NOT NULL,
            within INTEGER NOT NULL, missed INTEGER NOT NULL,
            waits BLOB, serves BLOB,
            PRIMARY KEY (dim, day, key)
        ) WITHOUT ROWID""")
    db.execute("""
        CREATE TABLE report_ratings (
            dim TEXT NOT NULL,
            day TEXT NOT NULL,
            key TEXT NOT NULL,
            level INTEGER NOT NULL,
            status TEXT NOT NULL,
            flagged INTEGER NOT NULL,
            presses INTEGER NOT NULL,
            tickets INTEGER NOT NULL,
            PRIMARY KEY (dim, day, key, level, status, flagged)
        ) WITHOUT ROWID""")
    db.execute("""
        CREATE TABLE report_days (
            day TEXT PRIMARY KEY,
            final INTEGER NOT NULL,
            legs INTEGER NOT NULL,
            ratings INTEGER NOT NULL DEFAULT 0,
            version TEXT NOT NULL,
            computed_ms INTEGER NOT NULL
        )""")
    # The dashboard's longest current wait and the day's transfers are read by ticket and type.
    db.execute("CREATE INDEX events_ticket_type ON events (ticket_id, type)")
    # The admin's audit log: the few admin and supervision changes among millions of queue events.
    db.execute("""CREATE INDEX events_audit ON events (id)
                  WHERE type GLOB 'admin.*' OR type IN ('service.updated', 'counter.services')""")
    # Notices on the hall displays, set by an admin (display_id '*' is every display).
    db.execute("""
        CREATE TABLE display_notices (
            display_id TEXT PRIMARY KEY,
            text TEXT NOT NULL DEFAULT '',
            text_en TEXT NOT NULL DEFAULT '',
            staff_id INTEGER,
            updated_ms INTEGER NOT NULL
        )""")


@migrations(name="0006_catalogue")
def _m0006(db: Database) -> None:
    # The procedure catalogue searched at the kiosk (ticket_printer/server/catalogue.py). An import replaces every row
    # in one transaction; meta 'catalogue' holds the seq of the import, so servers see a CLI import.
    db.execute("""
        CREATE TABLE procedures (
            code TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            name_en TEXT NOT NULL DEFAULT '',
            field TEXT NOT NULL DEFAULT '',
            department_id TEXT NOT NULL,
            service_id TEXT NOT NULL,
            processing_time TEXT NOT NULL DEFAULT '',
            fee TEXT NOT NULL DEFAULT '',
            agency TEXT NOT NULL DEFAULT '',
            level TEXT NOT NULL DEFAULT '',
            imported_ms INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX procedures_service ON procedures (service_id, position)")


@migrations(name="0004_printing")
def _m0004(db: Database) -> None:
    # Print jobs of ticket slips (ticket_printer/server/jobs.py). A job is made after the ticket's issue has committed;
    # a failed job never touches its ticket. `slip` is the JSON of what is printed (ticket_printer.shared.slip.SlipData).
    db.execute("""
        CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            kiosk TEXT NOT NULL,
            printer TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('queued','printing','printed','failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            reprint INTEGER NOT NULL DEFAULT 0,
            via_agent INTEGER NOT NULL DEFAULT 0,
            lang TEXT NOT NULL DEFAULT 'vi',
            slip TEXT NOT NULL DEFAULT '{}',
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX print_jobs_ticket ON print_jobs (ticket_id)")
    db.execute("CREATE INDEX print_jobs_open ON print_jobs (state, via_agent, kiosk)")


@migrations(name="0009_login_throttle")
def _m0009(db: Database) -> None:
    # The strikes of failed logins (queue_server/core/sign_in.py), one row per account ('account:<username>')
    # or client address ('address:<ip>'), shared by every server process on this file. `recent` is the JSON
    # list of the latest failures' times before a lock; a row past forget_ms is forgotten (and deleted).
    db.execute("""
        CREATE TABLE login_strikes (
            key TEXT PRIMARY KEY,
            recent TEXT NOT NULL DEFAULT '[]',
            locks INTEGER NOT NULL DEFAULT 0,
            locked_until_ms INTEGER NOT NULL DEFAULT 0,
            forget_ms INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX login_strikes_forget ON login_strikes (forget_ms)")


@migrations(name="0010_staff_seed_digest")
def _m0010(db: Database) -> None:
    # An account config.yaml owns (from_config = 1) keeps the HMAC of its config password under the secret key:
    # when the file's password changes, the stored hash follows it (queue_server/accounts.py, seed_from_config).
    db.execute("ALTER TABLE staff ADD COLUMN seed_digest TEXT")


@migrations(name="0010_procedure_english_and_elsewhere")
def _m0010_procedures(db: Database) -> None:
    # The catalogue's English field, processing time and fee, and, for a procedure the centre does not handle,
    # where to go instead (`elsewhere`; the kiosk issues no ticket for it, and its service_id may be '').
    for column in ("field_en", "processing_time_en", "fee_en", "elsewhere", "elsewhere_en"):
        db.execute(f"ALTER TABLE procedures ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")


@migrations(name="0011_dossiers")
def _m0011(db: Database) -> None:
    # Dossiers imported from a file (`qms import-dossiers`, dossiers.source: file; queue_server/dossiers/). An
    # import replaces every row in one transaction; `applicant` is stored masked ("Nguyễn V. A."), never whole.
    db.execute("""
        CREATE TABLE dossiers (
            code TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            procedure TEXT NOT NULL DEFAULT '',
            received TEXT NOT NULL DEFAULT '',
            appointment TEXT NOT NULL DEFAULT '',
            collect_at TEXT NOT NULL DEFAULT '',
            applicant TEXT NOT NULL DEFAULT '',
            imported_ms INTEGER NOT NULL
        )""")
    # Dossier codes an officer attached to the ticket being served (one row per ticket and code): the ticket
    # shows them, and reports count tickets per dossier.
    db.execute("""
        CREATE TABLE ticket_dossiers (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            code TEXT NOT NULL,
            counter_id TEXT NOT NULL,
            staff_id INTEGER,
            attached_ms INTEGER NOT NULL,
            PRIMARY KEY (ticket_id, code)
        )""")
    db.execute("CREATE INDEX ticket_dossiers_code ON ticket_dossiers (code)")


@migrations(name="0012_webhook_outbox")
def _m0012(db: Database) -> None:
    # Signed webhooks (queue_server/webhooks/): one row per event and receiver (integrations.webhooks[].id), written in
    # the event's own transaction. The POST's body is built from the event log row, so every attempt carries the
    # same bytes. A receiver is served in seq order: its first pending row waits out its back-off (next_ms); a row
    # that failed max_attempts times is 'dead' (a dead letter) and the next one goes. lease_ms: a server process
    # sending it now (until then no other process takes it).
    db.execute("""
        CREATE TABLE webhook_outbox (
            endpoint_id TEXT NOT NULL,
            seq INTEGER NOT NULL REFERENCES events(id),
            state TEXT NOT NULL CHECK (state IN ('pending','delivered','dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_ms INTEGER NOT NULL,
            lease_ms INTEGER NOT NULL DEFAULT 0,
            last_status INTEGER,
            last_error TEXT NOT NULL DEFAULT '',
            last_attempt_ms INTEGER,
            delivered_ms INTEGER,
            created_ms INTEGER NOT NULL,
            PRIMARY KEY (endpoint_id, seq)
        ) WITHOUT ROWID""")
    db.execute("CREATE INDEX webhook_outbox_pending ON webhook_outbox (endpoint_id, seq) WHERE state = 'pending'")
    db.execute("CREATE INDEX webhook_outbox_dead ON webhook_outbox (endpoint_id, seq) WHERE state = 'dead'")


@migrations(name="0013_wait_estimates")
def _m0013(db: Database) -> None:
    # The wait estimate each ticket was given at issue (the kiosk's answer, the slip), kept beside its real wait
    # (its first call in the event log) so a centre sees how far to trust the numbers (store/wait_estimates.py).
    # state: core/estimate.py's (estimate, next, no_counter, closed_today); minutes, low, high: the median and the
    # 80 % range shown, when there was one.
    db.execute("""
        CREATE TABLE wait_estimates (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            day TEXT NOT NULL,
            service_id TEXT NOT NULL,
            issued_ms INTEGER NOT NULL,
            state TEXT NOT NULL,
            minutes INTEGER,
            low INTEGER,
            high INTEGER
        )""")
    db.execute("CREATE INDEX wait_estimates_day ON wait_estimates (day, service_id)")


from queue_server.store import schema_more  # noqa: E402,F401  (0014 onwards)
