"""Failed logins lock the account and the client address for a while, with growing delays (core/sign_in.py).

After `login_throttle.failures` (5) failures within `window_seconds` (300 s), every attempt, a correct
password too, is 429 `login_locked` with `retry_after` until the lock ends on its own (by the store's clock:
these tests move the Clock). The strikes live in the database, so every server process on it sees them; every
failure and every lock is in the event log, never the password.
"""
from __future__ import annotations

import json

import pytest
import yaml
from inproc import InProcessServer

from queue_server.config import ConfigError, parse_config
from queue_server.core.sign_in import Strikes, ThrottleRule, after_failure, lock_ms
from queue_server.store import accounts as rows
from werkzeug.security import generate_password_hash

LOGIN = "/api/v1/login"
WRONG = "not-the-password"
PASSWORDS = {"admin": "test-admin", "super": "test-super", "canbo1": "test-staff", "canbo3": "test-staff"}


@pytest.fixture
def site(site):
    """The test server with its accounts' passwords hashed cheaply (pbkdf2, 1000 rounds): what is tested is the
    throttle, and a real scrypt check per attempt would make these tests slow. The checks stay real."""
    for username, password in PASSWORDS.items():
        rows.set_password(site.ctx.store, username, generate_password_hash(password, method="pbkdf2:sha256:1000"))
    return site


def attempt(site, username="canbo1", password=WRONG, address="10.0.0.1", lang="vi"):
    return site.http.post(LOGIN, json={"username": username, "password": password},
                          environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": lang})


def fail(site, times, **kw):
    for _ in range(times):
        r = attempt(site, **kw)
        assert r.status_code == 401, r.get_json()
        assert r.get_json()["error"] == "invalid_credentials"


def locked(r, seconds):
    assert r.status_code == 429, r.get_json()
    body = r.get_json()
    assert body["error"] == "login_locked" and body["retry_after"] == seconds
    assert r.headers["Retry-After"] == str(seconds)
    return body


def events(site, etype):
    return [e for e in site.ctx.store.events_since(0, 10_000) if e["type"] == etype]


def test_five_failures_lock_even_the_right_password_the_lock_ends_on_its_own_and_doubles_up_to_the_cap(site, clock):
    fail(site, 5)
    body = locked(attempt(site, password="test-staff"), 30)
    assert body["message"] == "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 30 giây."
    clock.advance(12)
    en = locked(attempt(site, password="test-staff", lang="en"), 18)
    assert en["message"] == "Too many failed sign-ins. Try again in 18 seconds."
    assert attempt(site, username="canbo3", password="test-staff", address="10.0.0.2").status_code == 200
    clock.advance(18)
    r = attempt(site, password="test-staff")
    assert r.status_code == 200 and r.get_json()["staff"]["username"] == "canbo1"
    # Each failure after a lock locks again, twice as long, up to the cap.
    who = {"username": "super", "address": "10.0.0.3"}
    fail(site, 5, **who)
    for lock in (30, 60, 120, 240, 480, 900, 900):
        locked(attempt(site, **who), lock)
        clock.advance(lock - 1)
        locked(attempt(site, password="test-super", **who), 1)
        clock.advance(1)
        fail(site, 1, **who)  # the lock has ended: one more failure locks again, longer
    locked(attempt(site, **who), 900)


def test_failures_older_than_the_window_do_not_count_and_a_quiet_window_forgets_a_streak(site, clock):
    fail(site, 4, address="10.0.0.1")
    clock.advance(301)
    fail(site, 4, address="10.0.0.2")  # 4 in the last 5 minutes: not locked
    assert attempt(site, password="test-staff", address="10.0.0.3").status_code == 200
    fail(site, 5, address="10.0.0.4")
    locked(attempt(site, address="10.0.0.5"), 30)
    clock.advance(30 + 300)  # the lock ended and 5 quiet minutes passed: the streak is forgotten
    fail(site, 4, address="10.0.0.6")  # (a remembered streak would lock at once, for 60 s)
    clock.advance(1)
    fail(site, 1, address="10.0.0.7")
    locked(attempt(site, address="10.0.0.8"), 30)  # a first lock again


def test_an_address_trying_many_accounts_and_an_account_tried_from_many_addresses_are_locked(site, clock):
    for name in ("admin", "super", "canbo3", "canbo1", "khách"):
        fail(site, 1, username=name, address="192.0.2.7")
    locked(attempt(site, username="canbo1", password="test-staff", address="192.0.2.7"), 30)
    assert attempt(site, username="canbo1", password="test-staff", address="192.0.2.8").status_code == 200
    clock.advance(301)  # all of that is forgotten
    for i in range(5):
        fail(site, 1, username="admin", address=f"198.51.100.{i}")
    locked(attempt(site, username="admin", password="test-admin", address="198.51.100.99"), 30)
    assert attempt(site, username="super", password="test-super", address="198.51.100.99").status_code == 200


def test_every_failure_and_every_lock_is_logged_without_the_password(site):
    secret = "mật-khẩu-bí-mật-42"
    fail(site, 4, password=secret, address="203.0.113.5")
    fail(site, 1, password=secret, username="khách", address="203.0.113.5")  # the address's 5th: locked
    fail(site, 1, password=secret, address="203.0.113.6")  # the account's 5th: locked
    locked(attempt(site, password=secret, address="203.0.113.5"), 30)
    # The log names each address by its keyed hash (core/addresses.py), never the address itself.
    five, six = (site.ctx.accounts.address_tag(a) for a in ("203.0.113.5", "203.0.113.6"))
    assert five != six and five.startswith("ip:")
    assert [e["data"] for e in events(site, "login.failed")] == [
        *[{"username": "canbo1", "address": five}] * 4, {"username": "khách", "address": five},
        {"username": "canbo1", "address": six}]
    assert [(e["data"]["by"], e["data"]["username"], e["data"]["address"], e["data"]["lock_seconds"])
            for e in events(site, "login.locked")] == [("address", None, five, 30),
                                                       ("account", "canbo1", None, 30)]
    logged = json.dumps(site.ctx.store.events_since(0, 10_000), ensure_ascii=False)
    assert secret not in logged
    assert len(events(site, "login.failed")) == 6  # the refused attempt changed nothing


def test_bad_bodies_and_correct_logins_are_not_failures_and_a_correct_one_forgets_the_account_failures(site):
    """Other tests sign in many times: a 400 body or a correct password never counts."""
    for bad in ({}, {"username": "canbo1"}, {"username": "", "password": "x"}, {"username": 5, "password": WRONG},
                {"username": "canbo1", "password": WRONG, "extra": 1}, {"username": "x" * 81, "password": WRONG}):
        for _ in range(3):
            r = site.http.post(LOGIN, json=bad, environ_base={"REMOTE_ADDR": "10.0.0.1"})
            assert r.status_code == 400, (bad, r.get_json())
    for _ in range(8):
        assert attempt(site, password="test-staff").status_code == 200
    assert events(site, "login.failed") == [] and events(site, "login.locked") == []
    # A correct password forgets the account's failures, not the address's.
    fail(site, 4, address="10.0.0.1")
    assert attempt(site, password="test-staff", address="10.0.0.9").status_code == 200
    fail(site, 4, address="10.0.0.2")
    assert attempt(site, password="test-staff", address="10.0.0.3").status_code == 200
    # The address that failed 4 times stays counted: one more failure there locks it, for every account.
    fail(site, 1, address="10.0.0.1", username="canbo3")
    locked(attempt(site, username="admin", password="test-admin", address="10.0.0.1"), 30)


def test_the_strikes_are_shared_by_every_server_process_on_the_database(site, clock):
    other = InProcessServer(site.config_path, site.db, clock)
    try:
        fail(site, 3)
        fail(other, 2)
        locked(attempt(site, password="test-staff"), 30)
        locked(attempt(other, password="test-staff"), 30)
    finally:
        other.close()


def test_the_numbers_are_settings_and_a_reload_changes_them(site, clock):
    data = yaml.safe_load(site.config_path.read_text(encoding="utf-8"))
    data["login_throttle"] = {"failures": 2, "window_seconds": 60, "first_lock_seconds": 10,
                                        "max_lock_seconds": 15}
    site.config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    admin = attempt(site, username="admin", password="test-admin", address="10.9.9.9").get_json()["token"]
    r = site.http.post("/api/v1/admin/reload", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200, r.get_json()
    fail(site, 2)
    locked(attempt(site, password="test-staff"), 10)
    clock.advance(10)
    fail(site, 1)
    locked(attempt(site), 15)  # 20 s, capped at 15
    data["login_throttle"] = {"first_lock_seconds": 60, "max_lock_seconds": 30}
    with pytest.raises(ConfigError, match="max_lock_seconds"):
        parse_config(yaml.safe_dump(data, allow_unicode=True))


def test_the_rule_counts_in_a_sliding_window_and_doubles_each_lock():
    rule = ThrottleRule(failures=3, window_ms=1000, first_lock_ms=100, max_lock_ms=250)
    s = None
    for t in (0, 600, 1100):  # the failure at 0 has left the window at 1100
        s = after_failure(s, t, rule)
    assert s.locks == 0 and s.recent == (600, 1100)
    s = after_failure(s, 1200, rule)
    assert s == Strikes(recent=(), locks=1, locked_until_ms=1300, forget_ms=2300)
    assert [lock_ms(n, rule) for n in (0, 1, 2, 3, 4)] == [0, 100, 200, 250, 250]
    assert after_failure(s, 2300, rule) == Strikes(recent=(2300,), locks=0, locked_until_ms=0, forget_ms=3300)


def test_a_token_ends_on_rest_at_sign_out_and_at_its_expiry(site, clock):
    """(Sockets: tests/test_socket_credentials.py; a new password and a disabled account: tests/test_admin.py.)
    This one covers what was not yet tested, so it passed before the throttle too."""
    def me(token):
        return site.http.get("/api/v1/state", headers={"Authorization": f"Bearer {token}"})

    token, other = (attempt(site, password="test-staff").get_json()["token"] for _ in range(2))
    assert me(token).status_code == 200
    assert site.http.post("/api/v1/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert me(token).status_code == 401 and me(token).get_json()["error"] == "unauthenticated"
    assert me(other).status_code == 200  # the other session of that account goes on
    clock.advance(hours=site.ctx.config.server.token_hours - 0.01)
    assert me(other).status_code == 200
    clock.advance(hours=0.02)
    assert me(other).status_code == 401
