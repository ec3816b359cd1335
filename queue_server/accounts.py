"""Staff accounts, sign-in tokens and device tokens.

Passwords are hashed (werkzeug's scrypt/pbkdf2). A sign-in gives a random bearer token; only its SHA-256
is stored. Devices (kiosks, displays, agents) carry their own token, from config.yaml or made with the CLI.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field

from werkzeug.security import check_password_hash, generate_password_hash

from queue_server.config import CentreConfig
from queue_server.core.addresses import address_tag
from queue_server.core.errors import DomainError
from queue_server.core.sign_in import ThrottleRule, retry_after_seconds
from queue_server.store import accounts as rows
from queue_server.store import client_addresses
from queue_server.store.accounts import AccountError  # noqa: F401 - raised by the account changes
from queue_server.store.event_log import Audit

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


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256 (also a device token's id)."""
    return hashlib.sha256(token.encode()).hexdigest()


_digest = token_digest


@functools.cache
def _not_a_user_hash() -> str:
    """The hash an unknown username is checked against: made once, so such a try costs one check, as others do."""
    return generate_password_hash("not-a-user")


@dataclass
class Accounts:
    """Sign-in, tokens and account changes; the rows live in queue_server/store/accounts.py."""

    store: object  # queue_server.store.Store
    config: CentreConfig | None = None
    _config_devices: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Called after a change that may end credentials (logout, disable, new password, device token revoked): the
    # sockets of this process re-check theirs at once (web/sockets.py); other processes within a minute.
    listeners: list = field(default_factory=list)

    def __post_init__(self):
        self.load_config_devices(self.config or self.store.config)

    def now_ms(self) -> int:
        return self.store.now_ms()

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
        """Create the accounts config.yaml lists that do not exist yet; an account the file still owns follows a
        changed password in the file (its sessions end). Returns the usernames created."""
        passwords = {s.username: s.password for s in self.config.staff}
        made, _ = rows.seed_staff(
            self.store, [{"username": s.username, "full_name": s.full_name, "role": s.role, "counters": list(s.counters),
                          "seed_digest": self.seed_digest(s.username, s.password)} for s in self.config.staff],
            lambda username: generate_password_hash(passwords[username]),
            lambda username, hashed: check_password_hash(hashed, passwords[username]), self.now_ms())
        return made

    def seed_digest(self, username: str, password: str) -> str:
        """The HMAC of a config password under the server's secret key: tells a changed password in the file
        without a slow hash check at every start (config.yaml holds both, the database neither)."""
        key = self.config.server.secret_key.encode()
        return hmac.new(key, f"{username}\0{password}".encode(), hashlib.sha256).hexdigest()

    def reset_from_config(self, username: str, audit: Audit | None = None) -> None:
        """The account takes its config.yaml password again (and is owned by the file from now on)."""
        account = next((s for s in self.config.staff if s.username == username), None)
        if account is None:
            raise AccountError(f"{username!r} is not in the config file's staff section")
        rows.reset_staff_to_config(self.store, username, generate_password_hash(account.password),
                                   self.seed_digest(username, account.password), audit=audit)

    def accounts_with_password(self, passwords: set[str], skip: set[str] = frozenset()) -> list[str]:
        """Active accounts (but those in `skip` the file owns) whose stored hash matches one of `passwords`: a
        slow check per account and password, made at a public start, a reload and `qms check-deploy` only."""
        return [username for username, hashed, owned in rows.active_password_hashes(self.store)
                if not (owned and username in skip) and any(check_password_hash(hashed, pw) for pw in sorted(passwords))]

    def _check_counters(self, counters: list[str] | None) -> None:
        known = {c.id for c in self.config.counters}
        for c in counters or []:
            if c not in known:
                raise AccountError(f"unknown counter {c!r}")

    def add_user(self, username: str, password: str, role: str = "staff", counters: list[str] | None = None,
                 full_name: str = "", audit: Audit | None = None) -> int:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 6:
            raise AccountError("password must have at least 6 characters")
        self._check_counters(counters)
        return rows.add_staff(self.store, username=username, full_name=full_name, role=role,
                              password_hash=generate_password_hash(password), counters=list(counters or []),
                              audit=audit)

    def set_password(self, username: str, password: str, audit: Audit | None = None) -> None:
        if len(password) < 6:
            raise AccountError("password must have at least 6 characters")
        rows.set_password(self.store, username, generate_password_hash(password), audit=audit)

    def staff_principal(self, row) -> Principal:
        return Principal(kind="staff", role=row["role"], staff_id=row["id"], username=row["username"],
                         full_name=row["full_name"], counters=tuple(json.loads(row["counters"])))

    def throttle_rule(self) -> ThrottleRule:
        t = self.config.login_throttle
        return ThrottleRule(failures=t.failures, window_ms=t.window_seconds * 1000,
                            first_lock_ms=t.first_lock_seconds * 1000, max_lock_ms=t.max_lock_seconds * 1000)

    def login(self, username: str, password: str, address: str | None = None) -> tuple[str, Principal] | None:
        """A token for a correct password; None for a wrong one (or an unknown or disabled account). While the
        account or the client `address` is locked by failed logins, every attempt raises `login_locked`
        (429, `retry_after` seconds) before the password is looked at (core/sign_in.py)."""
        keys = {"account": f"account:{username}"}
        tag = self.address_tag(address) if address else None  # the throttle and the log keep only the hash
        if tag:
            keys["address"] = f"address:{tag}"
        wait_ms = rows.login_locked_ms(self.store, list(keys.values()), self.now_ms())
        if wait_ms:
            raise DomainError("login_locked", retry_after=retry_after_seconds(wait_ms))
        row = rows.staff_by_username(self.store, username)
        # Check a hash even for an unknown user, so timing does not tell which usernames exist.
        stored = row["password_hash"] if row else _not_a_user_hash()
        if not check_password_hash(stored, password) or row is None:
            rows.record_failed_login(self.store, keys, self.throttle_rule(), username=username, address=tag,
                                     raw=address if self.keeps_addresses() else None)
            return None
        rows.forget_login_strikes(self.store, keys["account"])
        token = secrets.token_urlsafe(32)
        hours = self.config.server.token_hours
        rows.add_auth_token(self.store, _digest(token), row["id"], self.now_ms() + int(hours * 3600_000))
        return token, self.staff_principal(row)

    def address_tag(self, address: str) -> str:
        """A client's address as the event log keeps it: its keyed hash under the secret key (core/addresses.py)."""
        return address_tag(self.config.server.secret_key, address)

    def keeps_addresses(self) -> bool:
        return self.config.server.address_retention_days > 0

    def client_tag(self, address: str) -> str:
        """The hash of a client's address, its raw address kept beside it while the retention allows."""
        tag = self.address_tag(address)
        if self.keeps_addresses():
            client_addresses.remember(self.store, tag, address, self.now_ms())
        return tag

    def logout(self, token: str) -> None:
        rows.revoke_auth_token(self.store, _digest(token))

    def principal_for(self, token: str | None) -> Principal | None:
        """The staff member or device a bearer token belongs to; None for an unknown or expired token."""
        if not token:
            return None
        digest = _digest(token)
        for known, (kind, dev_id) in self._config_devices.items():
            if hmac.compare_digest(known, digest):
                return Principal(kind="device", device_kind=kind, device_id=dev_id)
        row = rows.staff_of_token(self.store, digest, self.now_ms())
        if row is not None:
            return self.staff_principal(row)
        row = rows.live_device_token(self.store, digest)
        if row is not None:
            return Principal(kind="device", device_kind=row["device_kind"], device_id=row["device_id"])
        return None

    def add_device_token(self, kind: str, device_id: str, note: str = "", audit: Audit | None = None) -> str:
        """A new device token (shown once); the audit event gets its id's first 12 characters."""
        if kind not in ("kiosk", "display", "agent"):
            raise AccountError("device kind must be kiosk, display or agent")
        token = secrets.token_urlsafe(24)
        rows.add_device_token(self.store, _digest(token), kind, device_id, note, audit=audit)
        return token

    def credentials_changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    def staff_username(self, staff_id: int | None) -> str:
        row = rows.staff_by_id(self.store, staff_id) if staff_id is not None else None
        return row["username"] if row else ""

    def staff_name(self, staff_id: int | None) -> str:
        if staff_id is None:
            return ""
        row = rows.staff_by_id(self.store, staff_id)
        return (row["full_name"] or row["username"]) if row else ""

    # ---------------------------------------------------------------- administration (queue_server/web/admin.py)
    def users(self) -> list[dict]:
        return [{"id": r["id"], "username": r["username"], "full_name": r["full_name"], "role": r["role"],
                 "counters": json.loads(r["counters"]), "active": bool(r["active"]), "from_config": bool(r["from_config"]),
                 "created_ms": r["created_ms"], "updated_ms": r["updated_ms"]}
                for r in rows.all_staff(self.store)]

    def update_user(self, username: str, *, full_name: str | None = None, role: str | None = None,
                    counters: list[str] | None = None, active: bool | None = None, audit: Audit | None = None) -> None:
        """Change an account (the database version wins over config.yaml from now on). Disabling ends its sessions."""
        if role is not None and role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        self._check_counters(counters)
        changes = {"full_name": full_name, "role": role, "counters": counters, "active": active}
        rows.update_staff(self.store, username, {k: v for k, v in changes.items() if v is not None},
                          end_sessions=active is False, audit=audit)

    def device_tokens(self) -> list[dict]:
        """Tokens made with the CLI or by an admin (never the token itself; `id` is its SHA-256)."""
        return [{"id": r["token_hash"], "kind": r["device_kind"], "device_id": r["device_id"], "note": r["note"],
                 "created_ms": r["created_ms"], "revoked": bool(r["revoked"])}
                for r in rows.device_tokens(self.store)]

    def revoke_device_token(self, token_id: str, audit: Audit | None = None) -> dict:
        row = rows.revoke_device_token(self.store, token_id, audit=audit)
        return {"kind": row["device_kind"], "device_id": row["device_id"]}

