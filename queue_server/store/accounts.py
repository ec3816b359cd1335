"""Staff accounts, sign-in tokens and device tokens: the rows of queue_server/accounts.py.

Only digests of tokens and hashes of passwords reach this module; each write is one short transaction that
also logs the admin's audit event (store/events.Audit) when one is given.
"""
from __future__ import annotations

import json
from typing import Callable

from queue_server.core.sign_in import Strikes, ThrottleRule, after_failure, locked_for_ms
from queue_server.store.client_addresses import remember as remember_address
from queue_server.store.event_log import Audit, log, log_audit


class AccountError(Exception):
    """A change the accounts cannot take (an unknown user, a duplicate username, a bad value)."""


def _staff(row) -> dict | None:
    return dict(row) if row is not None else None


# ---------------------------------------------------------------- staff
def seed_staff(store, accounts: list[dict], password_hash: Callable[[str], str], same_password: Callable[[str, str], bool],
               now: int) -> tuple[list[str], list[str]]:
    """Accounts listed in config.yaml, each with the `seed_digest` of its config password: create the missing
    ones (`password_hash(username)` gives their hash); for those still owned by the file, refresh counters,
    role and name, and follow a changed config password: when the digest differs and
    `same_password(username, stored_hash)` says the stored hash is not the file's password, a new hash, and the
    sessions end. The slow hashing runs before the write transaction. Returns (created, followed)."""
    stored = {r["username"]: r for r in store.conn.execute(
        "SELECT username, from_config, seed_digest, password_hash FROM staff").fetchall()}
    hashes: dict[str, str | None] = {}  # username -> new hash (None: same password, only the digest is new)
    for s in accounts:
        row = stored.get(s["username"])
        if row is None:
            hashes[s["username"]] = password_hash(s["username"])
        elif row["from_config"] and row["seed_digest"] != s["seed_digest"]:
            same = same_password(s["username"], row["password_hash"])
            hashes[s["username"]] = None if same else password_hash(s["username"])
    made, followed = [], []
    with store.writer.transaction() as c:
        for s in accounts:
            row = c.execute("SELECT id, from_config, seed_digest FROM staff WHERE username = ?",
                            (s["username"],)).fetchone()
            if row is None:
                c.execute("""INSERT INTO staff (username, full_name, role, password_hash, counters, from_config,
                             seed_digest, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)""",
                          (s["username"], s["full_name"], s["role"], hashes.get(s["username"]) or password_hash(s["username"]),
                           json.dumps(s["counters"]), s["seed_digest"], now, now))
                made.append(s["username"])
                continue
            c.execute("UPDATE staff SET counters = ?, role = ?, full_name = ? WHERE id = ? AND from_config = 1",
                      (json.dumps(s["counters"]), s["role"], s["full_name"], row["id"]))
            if not row["from_config"] or row["seed_digest"] == s["seed_digest"] or s["username"] not in hashes:
                continue
            new_hash = hashes[s["username"]]
            if new_hash is None:
                c.execute("UPDATE staff SET seed_digest = ? WHERE id = ?", (s["seed_digest"], row["id"]))
                continue
            c.execute("UPDATE staff SET password_hash = ?, seed_digest = ?, updated_ms = ? WHERE id = ?",
                      (new_hash, s["seed_digest"], now, row["id"]))
            c.execute("UPDATE auth_tokens SET revoked = 1 WHERE staff_id = ?", (row["id"],))  # the old password's
            followed.append(s["username"])
    return made, followed


def reset_staff_to_config(store, username: str, password_hash: str, seed_digest: str, audit: Audit | None = None) -> None:
    """`qms user reset-from-config`: the account takes config.yaml's password again and is owned by the file."""
    with store.writer.transaction() as c:
        cur = c.execute("""UPDATE staff SET password_hash = ?, seed_digest = ?, from_config = 1, active = 1, updated_ms = ?
                           WHERE username = ?""", (password_hash, seed_digest, store.now_ms(), username))
        if cur.rowcount == 0:
            raise AccountError(f"no user {username!r}")
        c.execute("UPDATE auth_tokens SET revoked = 1 WHERE staff_id = (SELECT id FROM staff WHERE username = ?)",
                  (username,))
        log_audit(store, c, audit)


def active_password_hashes(store) -> list[tuple[str, str, bool]]:
    """(username, password hash, owned by config.yaml) of every active account: the demo-password check."""
    return [(r["username"], r["password_hash"], bool(r["from_config"])) for r in store.conn.execute(
        "SELECT username, password_hash, from_config FROM staff WHERE active = 1 ORDER BY username").fetchall()]


def add_staff(store, *, username: str, full_name: str, role: str, password_hash: str, counters: list[str],
              audit: Audit | None = None) -> int:
    now = store.now_ms()
    with store.writer.transaction() as c:
        if c.execute("SELECT 1 FROM staff WHERE username = ?", (username,)).fetchone():
            raise AccountError(f"user {username!r} exists already")
        cur = c.execute("""INSERT INTO staff (username, full_name, role, password_hash, counters, created_ms, updated_ms)
                           VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        (username, full_name, role, password_hash, json.dumps(counters), now, now))
        log_audit(store, c, audit, id=cur.lastrowid)
        return cur.lastrowid


def set_password(store, username: str, password_hash: str, audit: Audit | None = None) -> None:
    """A new password (the database's from now on) ends every session of that user."""
    with store.writer.transaction() as c:
        cur = c.execute("UPDATE staff SET password_hash = ?, updated_ms = ?, from_config = 0 WHERE username = ?",
                        (password_hash, store.now_ms(), username))
        if cur.rowcount == 0:
            raise AccountError(f"no user {username!r}")
        c.execute("UPDATE auth_tokens SET revoked = 1 WHERE staff_id = (SELECT id FROM staff WHERE username = ?)",
                  (username,))
        log_audit(store, c, audit)


def update_staff(store, username: str, changes: dict, *, end_sessions: bool, audit: Audit | None = None) -> int:
    """Change some of full_name, role, counters (a list), active (a bool); the database version wins over
    config.yaml from now on. `end_sessions` revokes the user's sign-in tokens. Returns the staff id."""
    sets = {k: json.dumps(v) if k == "counters" else int(v) if k == "active" else v for k, v in changes.items()}
    unknown = set(sets) - {"full_name", "role", "counters", "active"}
    if unknown:
        raise AccountError(f"cannot change {', '.join(sorted(unknown))}")
    with store.writer.transaction() as c:
        row = c.execute("SELECT id FROM staff WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise AccountError(f"no user {username!r}")
        c.execute(f"UPDATE staff SET {''.join(f'{k} = ?, ' for k in sets)}updated_ms = ?, from_config = 0 WHERE id = ?",
                  (*sets.values(), store.now_ms(), row["id"]))
        if end_sessions:
            c.execute("UPDATE auth_tokens SET revoked = 1 WHERE staff_id = ?", (row["id"],))
        log_audit(store, c, audit)
        return row["id"]


def staff_by_username(store, username: str, *, active_only: bool = True) -> dict | None:
    q = "SELECT * FROM staff WHERE username = ?" + (" AND active = 1" if active_only else "")
    return _staff(store.conn.execute(q, (username,)).fetchone())


def staff_by_id(store, staff_id: int) -> dict | None:
    return _staff(store.conn.execute("SELECT * FROM staff WHERE id = ?", (staff_id,)).fetchone())


def all_staff(store) -> list[dict]:
    return [dict(r) for r in store.conn.execute("SELECT * FROM staff ORDER BY username")]


# ---------------------------------------------------------------- sign-in tokens
def add_auth_token(store, digest: str, staff_id: int, expires_ms: int) -> None:
    with store.writer.transaction() as c:
        c.execute("INSERT INTO auth_tokens (token_hash, staff_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)",
                  (digest, staff_id, store.now_ms(), expires_ms))


def revoke_auth_token(store, digest: str) -> None:
    with store.writer.transaction() as c:
        c.execute("UPDATE auth_tokens SET revoked = 1 WHERE token_hash = ?", (digest,))


def staff_of_token(store, digest: str, now_ms: int) -> dict | None:
    """The active staff member a live (not revoked, not expired) sign-in token belongs to."""
    return _staff(store.conn.execute("""SELECT s.* FROM auth_tokens t JOIN staff s ON s.id = t.staff_id
                                        WHERE t.token_hash = ? AND t.revoked = 0 AND t.expires_ms > ? AND s.active = 1""",
                                     (digest, now_ms)).fetchone())


# ---------------------------------------------------------------- failed logins (core/sign_in.py)
def _strikes(row) -> Strikes | None:
    if row is None:
        return None
    return Strikes(recent=tuple(json.loads(row["recent"])), locks=row["locks"], locked_until_ms=row["locked_until_ms"],
                   forget_ms=row["forget_ms"])


def login_locked_ms(store, keys: list[str], now_ms: int) -> int:
    """How long the longest lock among `keys` ('account:<username>', 'address:ip:<hash>') still holds (0: none)."""
    marks = ", ".join("?" for _ in keys)
    found = store.conn.execute(f"SELECT * FROM login_strikes WHERE key IN ({marks}) AND locked_until_ms > ?",
                               (*keys, now_ms)).fetchall()
    return max((locked_for_ms(_strikes(r), now_ms) for r in found), default=0)


def record_failed_login(store, keys: dict[str, str], rule: ThrottleRule, *, username: str,
                        address: str | None, raw: str | None = None) -> list[dict]:
    """One failed login: a `login.failed` event, each key's strikes after it (`keys`: "account" or "address" ->
    its key) and a `login.locked` event for each key it locks. Returns the locks it started. Never the password.
    `address` is the client's address as its hash ("ip:3fa9...", core/addresses.py); `raw`, when the retention
    allows, the address itself, kept only in client_addresses."""
    now = store.now_ms()
    started = []
    with store.writer.transaction() as c:
        c.execute("DELETE FROM login_strikes WHERE forget_ms <= ?", (now,))
        if raw and address:
            remember_address(store, address, raw, now, c)
        log(store, c, "login.failed", data={"username": username, "address": address}, now=now)
        for by, key in keys.items():
            before = _strikes(c.execute("SELECT * FROM login_strikes WHERE key = ?", (key,)).fetchone())
            after = after_failure(before, now, rule)
            c.execute("""INSERT INTO login_strikes (key, recent, locks, locked_until_ms, forget_ms) VALUES (?, ?, ?, ?, ?)
                         ON CONFLICT (key) DO UPDATE SET recent = excluded.recent, locks = excluded.locks,
                         locked_until_ms = excluded.locked_until_ms, forget_ms = excluded.forget_ms""",
                      (key, json.dumps(after.recent), after.locks, after.locked_until_ms, after.forget_ms))
            if after.locks > (before.locks if before else 0):
                lock = {"by": by, "username": username if by == "account" else None,
                        "address": address if by == "address" else None, "locks": after.locks,
                        "lock_seconds": (after.locked_until_ms - now) // 1000, "until_ms": after.locked_until_ms}
                log(store, c, "login.locked", data=lock, now=now)
                started.append(lock)
    return started


def forget_login_strikes(store, key: str) -> None:
    """A correct password (outside any lock) forgets the account's failures."""
    if store.conn.execute("SELECT 1 FROM login_strikes WHERE key = ?", (key,)).fetchone() is None:
        return
    with store.writer.transaction() as c:
        c.execute("DELETE FROM login_strikes WHERE key = ?", (key,))


# ---------------------------------------------------------------- device tokens
def add_device_token(store, digest: str, kind: str, device_id: str, note: str = "",
                     audit: Audit | None = None) -> None:
    with store.writer.transaction() as c:
        c.execute("INSERT INTO device_tokens (token_hash, device_kind, device_id, created_ms, note) VALUES (?, ?, ?, ?, ?)",
                  (digest, kind, device_id, store.now_ms(), note))
        log_audit(store, c, audit, token_id=digest[:12])


def live_device_token(store, digest: str) -> dict | None:
    return _staff(store.conn.execute("SELECT * FROM device_tokens WHERE token_hash = ? AND revoked = 0",
                                     (digest,)).fetchone())


def device_tokens(store) -> list[dict]:
    return [dict(r) for r in store.conn.execute("SELECT * FROM device_tokens ORDER BY created_ms, token_hash")]


def revoke_device_token(store, digest: str, audit: Audit | None = None) -> dict:
    """Returns the token's row (as it was)."""
    with store.writer.transaction() as c:
        row = c.execute("SELECT * FROM device_tokens WHERE token_hash = ?", (digest,)).fetchone()
        if row is None:
            raise AccountError(f"no device token {digest[:12]}")
        c.execute("UPDATE device_tokens SET revoked = 1 WHERE token_hash = ?", (digest,))
        log_audit(store, c, audit)
    return dict(row)
