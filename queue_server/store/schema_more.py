"""The database's schema, continued: the migrations after 0013, registered on schema.py's `migrations` object.

schema.py imports this module at its end, so `migrations` holds every migration in order. A new table or
column is a new migration at the end of this module, never an edit of one already released.
"""
from __future__ import annotations

from sqlite_utils import Database

from queue_server.store.schema import migrations


@migrations(name="0014_bookings_base")
def _m0014(db: Database) -> None:
    # Bookings (issue 13): a ticket issued for a booking carries it and the booked slot's start (epoch ms);
    # both NULL for a walk-in.
    db.execute("ALTER TABLE tickets ADD COLUMN booking_id INTEGER")
    db.execute("ALTER TABLE tickets ADD COLUMN slot_start_ms INTEGER")
    # Walk-in tickets called in a row at this counter since its last booked ticket (the calling interleave).
    db.execute("ALTER TABLE counters ADD COLUMN walk_in_streak INTEGER NOT NULL DEFAULT 0")
    # The notification outbox (store/notifications.py): one row per message to one phone. A sender takes due
    # pending rows (lease_ms: being sent until then), marks them sent, or retries at next_ms, or gives up ('dead').
    # dedupe: a key such as "near:<ticket id>" so one notice is never queued twice (NULL: no such key).
    db.execute("""
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            created_ms INTEGER NOT NULL,
            day TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('otp','booking','near','called','broadcast')),
            channel TEXT NOT NULL DEFAULT 'sms',
            to_phone TEXT NOT NULL,
            lang TEXT NOT NULL DEFAULT 'vi',
            body TEXT NOT NULL,
            ticket_id INTEGER REFERENCES tickets(id),
            booking_id INTEGER,
            state TEXT NOT NULL CHECK (state IN ('pending','sent','dead')) DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_ms INTEGER NOT NULL,
            lease_ms INTEGER NOT NULL DEFAULT 0,
            last_status INTEGER,
            last_error TEXT NOT NULL DEFAULT '',
            sent_ms INTEGER,
            dedupe TEXT UNIQUE
        )""")
    db.execute("CREATE INDEX messages_pending ON messages (state, next_ms) WHERE state = 'pending'")
    # A phone number a công dân gave for notices about one ticket ("your turn is near", the call). Never shown
    # on a public view of the ticket.
    db.execute("""
        CREATE TABLE ticket_contacts (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            phone TEXT NOT NULL,
            lang TEXT NOT NULL DEFAULT 'vi',
            created_ms INTEGER NOT NULL
        )""")


@migrations(name="0015_bookings")
def _m0015(db: Database) -> None:
    # Online bookings (store/bookings.py, docs/booking.md). `ref`: the opaque id the booking page confirms with;
    # `code`: what the citizen shows at the kiosk. id_hash / phone_hash: HMAC-SHA256 under the server's secret key
    # (never the numbers); `phone` in clear only for notices, erased after the booking's day; hashes erased after
    # booking.identity_retention_days. otp_hash: the one-time code's HMAC.
    db.execute("""
        CREATE TABLE bookings (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL UNIQUE,
            code TEXT NOT NULL UNIQUE,
            service_id TEXT NOT NULL,
            day TEXT NOT NULL,
            slot_start TEXT NOT NULL,
            slot_start_ms INTEGER NOT NULL,
            id_hash TEXT,
            phone_hash TEXT,
            phone TEXT,
            lang TEXT NOT NULL DEFAULT 'vi',
            state TEXT NOT NULL CHECK (state IN ('pending_otp','confirmed','checked_in','cancelled','no_show','expired')),
            otp_hash TEXT,
            otp_expires_ms INTEGER NOT NULL,
            otp_attempts INTEGER NOT NULL DEFAULT 0,
            otp_sends INTEGER NOT NULL DEFAULT 1,
            otp_sent_ms INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            confirmed_ms INTEGER,
            ended_ms INTEGER,
            ticket_id INTEGER REFERENCES tickets(id)
        )""")
    db.execute("CREATE INDEX bookings_slot ON bookings (service_id, day, slot_start)")
    db.execute("CREATE INDEX bookings_id_day ON bookings (id_hash, day)")
    db.execute("CREATE INDEX bookings_phone_day ON bookings (phone_hash, day)")
    db.execute("CREATE INDEX bookings_open ON bookings (state, slot_start_ms) WHERE state IN ('pending_otp', 'confirmed')")
    # A ticket issued for a booking checks it in within the ticket's own transaction: refused unless the booking
    # is confirmed (so one booking never gets two tickets), and the booking then marked checked_in with its ticket.
    # A booking_id with no row here (tests of the calling order) is left alone.
    db.execute("""
        CREATE TRIGGER bookings_check_in_guard BEFORE INSERT ON tickets
        WHEN NEW.booking_id IS NOT NULL
         AND EXISTS (SELECT 1 FROM bookings WHERE id = NEW.booking_id AND state <> 'confirmed')
        BEGIN SELECT RAISE(ABORT, 'booking_not_confirmed'); END""")
    db.execute("""
        CREATE TRIGGER bookings_check_in AFTER INSERT ON tickets
        WHEN NEW.booking_id IS NOT NULL
        BEGIN UPDATE bookings SET state = 'checked_in', ticket_id = NEW.id, ended_ms = NEW.issued_ms
              WHERE id = NEW.booking_id; END""")


@migrations(name="0016_notices")
def _m0016(db: Database) -> None:
    # How a sent message left (store/notifications.py): 'outbox' (kept in the database for admins, the demo's
    # backend) or 'http' (taken by the gateway); '' while not sent.
    db.execute("ALTER TABLE messages ADD COLUMN via TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE messages ADD COLUMN last_attempt_ms INTEGER")
    db.execute("CREATE INDEX messages_created ON messages (created_ms)")
    db.execute("CREATE INDEX ticket_contacts_created ON ticket_contacts (created_ms)")
    # The admin's audit log also lists a supervisor's broadcast (event_log.audit_log reads by this index).
    db.execute("DROP INDEX events_audit")
    db.execute("""CREATE INDEX events_audit ON events (id)
                  WHERE type GLOB 'admin.*' OR type IN ('service.updated', 'counter.services', 'service.broadcast')""")
    # A supervisor's message to everyone waiting for a service (a delay, a counter closing): shown on the
    # service's displays and its tickets' status pages on its day; empty text removes it.
    db.execute("""
        CREATE TABLE service_notices (
            service_id TEXT PRIMARY KEY,
            day TEXT NOT NULL,
            text TEXT NOT NULL,
            text_en TEXT NOT NULL DEFAULT '',
            staff_id INTEGER,
            updated_ms INTEGER NOT NULL
        )""")


@migrations(name="0017_client_addresses")
def _m0017(db: Database) -> None:
    # A client's raw address beside the keyed hash ("ip:3fa9...", core/addresses.py) that the event log and the
    # sign-in throttle keep instead: for an admin to see who is attacking, and only for
    # server.address_retention_days after it was last seen (the day keeper purges it; 0: never written).
    db.execute("""
        CREATE TABLE client_addresses (
            tag TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL
        )""")
    db.execute("CREATE INDEX client_addresses_last ON client_addresses (last_ms)")
    # The admin's audit log also lists each sign-in lock (event_log.audit_log reads them by this index, beside
    # events_audit).
    db.execute("CREATE INDEX events_sign_in_locks ON events (id) WHERE type = 'login.locked'")


@migrations(name="0018_dossier_codes_at_the_kiosk")
def _m0018(db: Database) -> None:
    # A kiosk attaches the dossier code a công dân scanned or typed to the return-of-results ticket it issues, in
    # the ticket's own transaction: no counter, no officer. ticket_dossiers.counter_id becomes nullable (SQLite
    # changes a column's NOT NULL only by making the table again).
    db.execute("""
        CREATE TABLE ticket_dossiers_new (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            code TEXT NOT NULL,
            counter_id TEXT,
            staff_id INTEGER,
            attached_ms INTEGER NOT NULL,
            PRIMARY KEY (ticket_id, code)
        )""")
    db.execute("""INSERT INTO ticket_dossiers_new (ticket_id, code, counter_id, staff_id, attached_ms)
                  SELECT ticket_id, code, counter_id, staff_id, attached_ms FROM ticket_dossiers""")
    db.execute("DROP TABLE ticket_dossiers")
    db.execute("ALTER TABLE ticket_dossiers_new RENAME TO ticket_dossiers")
    db.execute("CREATE INDEX ticket_dossiers_code ON ticket_dossiers (code)")
