"""Staff accounts, sign-in tokens and device tokens.

Passwords are hashed (werkzeug's scrypt/pbkdf2). A sign-in gives a random bearer token; only its SHA-256
is stored. Devices (kiosks, displays, agents) carry their own token, from config.yaml or made with the CLI.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from dataclasses import dataclass, field

from werkzeug.security import check_password_hash, generate_password_hash

from queue_server.config import CentreConfig
from queue_server.store.db import Writer

ROLES = ("admin", "supervisor", "staff")


@dataclass(frozen=True)
class Principal:
    """Who is asking: a staff member, a device, or nobody."""

    kind: str  # staff | device | anonymous
    role: str | None = None  # admin | supervisor | staff (staff only)
    staff_id: int | None = None
    username: str | None = None
    full_name: str = ""
    counters: tuple[str, ...] = ()
    device_kind: str | None = None  # kiosk | display | agent
    device_id: str | None = None

    @property
    def name(self) -> str:
        if self.kind == "staff":
            return f"staff:{self.username}"
        if self.kind == "device":
            return f"{self.device_kind}:{self.device_id}"
        return "anonymous"

    @property
    def is_supervisor(self) -> bool:
        return self.kind == "staff" and self.role in ("admin", "supervisor")

    def public(self) -> dict:
        if self.kind == "staff":
            return {"kind": "staff", "id": self.staff_id, "username": self.username, "full_name": self.full_name,
                    "role": self.role, "counters": list(self.counters)}
        if self.kind == "device":
            return {"kind": "device", "device_kind": self.device_kind, "device_id": self.device_id}
        return {"kind": "anonymous"}


ANONYMOUS = Principal(kind="anonymous")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountError(Exception):
    pass


@dataclass
class Accounts:
    conn: sqlite3.Connection
    writer: Writer
    config: CentreConfig
    now_ms: callable
    _config_devices: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Called after a change that may end credentials (logout, disable, new password, device token revoked): the
    # sockets of this process re-check theirs at once (web/sockets.py); other processes within a minute.
    listeners: list = field(default_factory=list)

    def __post_init__(self):
        self.load_config_devices(self.config)

    def load_config_devices(self, config: CentreConfig) -> None:
        self.config = config
        devices: dict[str, tuple[str, str]] = {}
        for k in config.devices.kiosks:
            devices[_digest(k.token)] = ("kiosk", k.id)
        for d in config.devices.displays:
            if d.token:
                devices[_digest(d.token)] = ("display", d.id)
        for a in config.devices.agents:
            devices[_digest(a.token)] = ("agent", a.id)
        self._config_devices = devices

    # ---------------------------------------------------------------- staff
    def seed_from_config(self) -> list[str]:
        """Create the accounts config.yaml lists that do not exist yet (passwords are not overwritten)."""
        made = []
        now = self.now_ms()
        with self.writer.transaction() as c:
            for s in self.config.staff:
                row = c.execute("SELECT id FROM staff WHERE username = ?", (s.username,)).fetchone()
                if row is None:
                    c.execute("""INSERT INTO staff (username, full_name, role, password_hash, counters, from_config,
                                 created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, 1, ?, ?)""",
                              (s.username, s.full_name, s.role, generate_password_hash(s.password),
                               json.dumps(s.counters), now, now))
                    made.append(s.username)
                else:
                    c.execute("UPDATE staff SET counters = ?, role = ?, full_name = ? WHERE id = ? AND from_config = 1",
                              (json.dumps(s.counters), s.role, s.full_name, row["id"]))
        return made

    def add_user(self, username: str, password: str, role: str = "staff", counters: list[str] | None = None,
                 full_name: str = "", audit=None) -> int:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 6:
            raise AccountError("password must have at least 6 characters")
        known = {c.id for c in self.config.counters}
        for c in counters or []:
            if c not in known:
                raise AccountError(f"unknown counter {c!r}")
        now = self.now_ms()
        with self.writer.transaction() as c:
            if c.execute("SELECT 1 FROM staff WHERE username = ?", (username,)).fetchone():
                raise AccountError(f"user {username!r} exists already")
            cur = c.execute("""INSERT INTO staff (username, full_name, role, password_hash, counters, created_ms, updated_ms)
                               VALUES (?, ?, ?, ?, ?, ?, ?)""",
                            (username, full_name, role, generate_password_hash(password), json.dumps(counters or []), now, now))
            if audit is not None:  # the admin's audit event, in the same transaction
                audit(c, cur.lastrowid)
            return cur.lastrowid

    def set_password(self, username: str, password: str, audit=None) -> None:
        if len(password) < 6:
            raise AccountError("password must have at least 6 characters")
        with self.writer.transaction() as c:
            cur = c.execute("UPDATE staff SET password_hash = ?, updated_ms = ?, from_config = 0 WHERE username = ?",
                            (generate_password_hash(password), self.now_ms(), username))
            if cur.rowcount == 0:
                raise AccountError(f"no user {username!r}")
            # A new password ends every session of that user.
            c.execute("UPDATE auth_tokens SET revoked = 1 WHERE staff_id = (SELECT id FROM staff WHERE username = ?)",
                      (username,))
            if audit is not None:
                audit(c, username)

    def staff_principal(self, row: sqlite3.Row) -> Principal:
        return Principal(kind="staff", role=row["role"], staff_id=row["id"], username=row["username"],
                         full_name=row["full_name"], counters=tuple(json.loads(row["counters"])))

    def login(self, username: str, password: str) -> tuple[str, Principal] | None:
        row = self.conn.execute("SELECT * FROM staff WHERE username = ? AND active = 1", (username,)).fetchone()
        # Check a hash even for an unknown user, so timing does not tell which usernames exist.
        stored = row["password_hash"] if row else generate_password_hash("not-a-user")
        if not check_password_hash(stored, password) or row is None:
            return None
        token = secrets.token_urlsafe(32)
        now = self.now_ms()
        hours = self.config.server.token_hours
        with self.writer.transaction() as c:
            c.execute("INSERT INTO auth_tokens (token_hash, staff_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)",
                      (_digest(token), row["id"], now, now + int(hours * 3600_000)))
        return token, self.staff_principal(row)

    def logout(self, token: str) -> None:
        with self.writer.transaction() as c:
            c.execute("UPDATE auth_tokens SET revoked = 1 WHERE token_hash = ?", (_digest(token),))

    def principal_for(self, token: str | None) -> Principal | None:
        """The staff member or device a bearer token belongs to; None for an unknown or expired token."""
        if not token:
            return None
        digest = _digest(token)
        for known, (kind, dev_id) in self._config_devices.items():
            if hmac.compare_digest(known, digest):
                return Principal(kind="device", device_kind=kind, device_id=dev_id)
        row = self.conn.execute("""SELECT s.* FROM auth_tokens t JOIN staff s ON s.id = t.staff_id
                                   WHERE t.token_hash = ? AND t.revoked = 0 AND t.expires_ms > ? AND s.active = 1""",
                                (digest, self.now_ms())).fetchone()
        if row is not None:
            return self.staff_principal(row)
        row = self.conn.execute("SELECT * FROM device_tokens WHERE token_hash = ? AND revoked = 0", (digest,)).fetchone()
        if row is not None:
            return Principal(kind="device", device_kind=row["device_kind"], device_id=row["device_id"])
        return None

    def add_device_token(self, kind: str, device_id: str, note: str = "", audit=None) -> str:
        if kind not in ("kiosk", "display", "agent"):
            raise AccountError("device kind must be kiosk, display or agent")
        token = secrets.token_urlsafe(24)
        with self.writer.transaction() as c:
            c.execute("INSERT INTO device_tokens (token_hash, device_kind, device_id, created_ms, note) VALUES (?, ?, ?, ?, ?)",
                      (_digest(token), kind, device_id, self.now_ms(), note))
            if audit is not None:
                audit(c, _digest(token))
        return token

    def credentials_changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    def staff_name(self, staff_id: int | None) -> str:
        if staff_id is None:
            return ""
        row = self.conn.execute("SELECT full_name, username FROM staff WHERE id = ?", (staff_id,)).fetchone()
        return (row["full_name"] or row["username"]) if row else ""

    # ---------------------------------------------------------------- administration (queue_server/admin.py)
    def users(self) -> list[dict]:
        return [{"id": r["id"], "username": r["username"], "full_name": r["full_name"], "role": r["role"],
                 "counters": json.loads(r["counters"]), "active": bool(r["active"]), "from_config": bool(r["from_config"]),
                 "created_ms": r["created_ms"], "updated_ms": r["updated_ms"]}
                for r in self.conn.execute("SELECT * FROM staff ORDER BY username")]

    def update_user(self, username: str, *, full_name: str | None = None, role: str | None = None,
                    counters: list[str] | None = None, active: bool | None = None, audit=None) -> None:
        """Change an account (the database version wins over config.yaml from now on). Disabling ends its sessions."""
        if role is not None and role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        known = {c.id for c in self.config.counters}
        for c in counters or []:
            if c not in known:
                raise AccountError(f"unknown counter {c!r}")
        sets = {"full_name": full_name, "role": role, "counters": None if counters is None else json.dumps(counters),
                "active": None if active is None else int(active)}
        sets = {k: v for k, v in sets.items() if v is not None}
        with self.writer.transaction() as c:
            row = c.execute("SELECT id FROM staff WHERE username = ?", (username,)).fetchone()
            if row is None:
                raise AccountError(f"no user {username!r}")
            c.execute(f"UPDATE staff SET {', '.join(f'{k} = ?' for k in sets)}{', ' if sets else ''}updated_ms = ?, "
                      "from_config = 0 WHERE id = ?", (*sets.values(), self.now_ms(), row["id"]))
            if active is False:
                c.execute("UPDATE auth_tokens SET revoked = 1 WHERE staff_id = ?", (row["id"],))
            if audit is not None:
                audit(c, row["id"])

    def device_tokens(self) -> list[dict]:
        """Tokens made with the CLI or by an admin (never the token itself; `id` is its SHA-256)."""
        return [{"id": r["token_hash"], "kind": r["device_kind"], "device_id": r["device_id"], "note": r["note"],
                 "created_ms": r["created_ms"], "revoked": bool(r["revoked"])}
                for r in self.conn.execute("SELECT * FROM device_tokens ORDER BY created_ms, token_hash")]

    def revoke_device_token(self, token_id: str, audit=None) -> dict:
        with self.writer.transaction() as c:
            row = c.execute("SELECT * FROM device_tokens WHERE token_hash = ?", (token_id,)).fetchone()
            if row is None:
                raise AccountError(f"no device token {token_id[:12]}")
            c.execute("UPDATE device_tokens SET revoked = 1 WHERE token_hash = ?", (token_id,))
            if audit is not None:
                audit(c, token_id)
        return {"kind": row["device_kind"], "device_id": row["device_id"]}


def demo_secrets_in_use(config: CentreConfig) -> list[str]:
    """Which secrets still carry the demo values: the server refuses a non-loopback address while any do."""
    found = []
    if config.centre.demo:
        found.append("centre.demo is true")
    if "demo" in config.server.secret_key.lower():
        found.append("server.secret_key")
    for s in config.staff:
        if s.password.startswith("demo"):
            found.append(f"staff password of {s.username}")
    for name, items in (("kiosks", config.devices.kiosks), ("displays", config.devices.displays),
                        ("agents", config.devices.agents)):
        for d in items:
            if d.token and "demo" in d.token.lower():
                found.append(f"devices.{name} token of {d.id}")
    return found
