"""A client's address (a personal datum): which one a request comes from behind a reverse proxy, and what of it
the server keeps (core/addresses.py, web/toolkit.client_address, store/client_addresses.py; docs/security.md).

- Only a request from one of `server.trusted_proxies` has its X-Forwarded-For read, from the right, trusted hops
  skipped; a spoofed header from anyone else, or a malformed one, counts for nothing.
- Every limit counted per client address (sign-in throttle, ratings, bookings, remote numbers, dossier look-ups)
  counts two clients behind one trusted proxy apart.
- The event log and the throttle keep a keyed hash ("ip:3fa9..."), never the address; the raw address is kept
  beside it only for `server.address_retention_days`, and the day keeper purges it.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from conftest import Clock, FIXTURES
from dossier_util import dossier_config
from inproc import InProcessServer
from server_util import server_config
from test_rating_strangers import finish_one

from queue_server.config import ConfigError, parse_config
from queue_server.core.addresses import address_tag, client_of, is_tag
from queue_server.day_keeper import forget_addresses
from queue_server.dossiers import fake_data
from queue_server.store import client_addresses

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("queue_server", "displays", "ticket_printer", "feedback_buttons")
THE_ONE_READER = "queue_server/web/toolkit.py"


# ------------------------------------------------------------------ one reader of the peer's address
def test_only_the_toolkit_reads_the_remote_address():
    """Every limit and log goes through client_address(): a new route reading the peer itself would count the
    proxy behind a reverse proxy, so the raw peer address is read in one place only."""
    readers = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel != THE_ONE_READER and re.search(r"remote_addr|REMOTE_ADDR", path.read_text(encoding="utf-8")):
                readers.append(rel)
    assert readers == []
    assert "request.remote_addr" in (ROOT / THE_ONE_READER).read_text(encoding="utf-8")


# ------------------------------------------------------------------ which address is the client's
PROXIES = ("10.0.0.0/24", "192.0.2.10", "fd00::/64")


@pytest.mark.parametrize("peer, forwarded, trusted, client", [
    ("203.0.113.7", [], PROXIES, "203.0.113.7"),  # no proxy in between
    ("203.0.113.7", ["198.51.100.1"], PROXIES, "203.0.113.7"),  # spoofed by an untrusted peer: ignored
    ("203.0.113.7", ["198.51.100.1"], (), "203.0.113.7"),  # nobody trusted (the default)
    ("10.0.0.5", [], PROXIES, "10.0.0.5"),  # the proxy itself, with no header
    ("10.0.0.5", ["198.51.100.1"], PROXIES, "198.51.100.1"),  # one trusted proxy
    ("10.0.0.5", ["6.6.6.6, 198.51.100.1, 192.0.2.10"], PROXIES, "198.51.100.1"),  # a chain of two trusted proxies
    ("10.0.0.5", ["6.6.6.6", "198.51.100.1"], PROXIES, "198.51.100.1"),  # the header given twice: one list
    ("10.0.0.5", ["10.0.0.9, 192.0.2.10"], PROXIES, "10.0.0.9"),  # every hop trusted: the farthest
    ("::ffff:10.0.0.5", ["198.51.100.1"], PROXIES, "198.51.100.1"),  # IPv4 mapped into IPv6
    ("fd00::1", ["2001:db8::42"], PROXIES, "2001:db8::42"),  # IPv6 throughout
    ("fd00::1", ["[2001:db8::42]"], PROXIES, "2001:db8::42"),
    ("fd00::1", ["2001:DB8:0:0::42"], PROXIES, "2001:db8::42"),  # one written form
    ("fd01::1", ["2001:db8::42"], PROXIES, "fd01::1"),  # outside the trusted network
    ("10.0.0.5", ["198.51.100.1, not-an-address"], PROXIES, "10.0.0.5"),  # garbage: the peer
    ("10.0.0.5", ["198.51.100.1,,"], PROXIES, "10.0.0.5"),
    ("10.0.0.5", ["198.51.100.1:4711"], PROXIES, "10.0.0.5"),
    ("10.0.0.5", ["<script>"], PROXIES, "10.0.0.5"),
    ("10.0.0.5", [""], PROXIES, "10.0.0.5"),
    ("10.0.0.5", ["999.1.1.1"], PROXIES, "10.0.0.5"),
])
def test_the_client_address_by_table(peer, forwarded, trusted, client):
    assert client_of(peer, forwarded, trusted) == client


def _config(**server) -> dict:
    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))
    data["server"].update(server)
    return data


@pytest.mark.parametrize("server, problem", [
    ({"trusted_proxies": ["10.0.0.1", "nginx.local"]}, "server.trusted_proxies[1]"),
    ({"trusted_proxies": ["10.0.0.1/8"]}, "server.trusted_proxies[0]"),  # host bits set: a typo, refused
    ({"trusted_proxies": ["10.0.0.0/33"]}, "server.trusted_proxies[0]"),
    ({"trusted_proxies": ["::1", "fd00::/200"]}, "server.trusted_proxies[1]"),
    ({"trusted_proxies": "10.0.0.1"}, "server.trusted_proxies"),
    ({"address_retention_days": -1}, "server.address_retention_days"),
])
def test_a_bad_trusted_proxy_or_retention_is_a_config_error_at_its_key(server, problem):
    with pytest.raises(ConfigError) as e:
        parse_config(yaml.safe_dump(_config(**server), allow_unicode=True))
    assert problem in str(e.value)


def test_addresses_and_networks_of_both_kinds_are_good_proxies():
    cfg = parse_config(yaml.safe_dump(_config(trusted_proxies=["10.0.0.5", "172.16.0.0/12", "::1", "fd00::/8"],
                                              address_retention_days=0)))
    assert cfg.server.trusted_proxies == ["10.0.0.5", "172.16.0.0/12", "::1", "fd00::/8"]
    assert parse_config(yaml.safe_dump(_config())).server.address_retention_days == 30
    assert parse_config(yaml.safe_dump(_config())).server.trusted_proxies == []


# ------------------------------------------------------------------ every limit, per client behind a proxy
PROXY = "10.0.0.2"  # the trusted reverse proxy of the centre below
TOKENS = {"hall-a": "test-display-hall-a-token", "hall-b": "test-display-hall-b-token"}


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    """One centre with every per-address limit at 3 a minute (the sign-in throttle at its 5 failures), behind
    a trusted proxy: each test below uses addresses of its own, so the limits of one never meet another's."""
    tmp = tmp_path_factory.mktemp("addresses")
    clock = Clock()
    path = dossier_config(tmp, {"source": "fake", "lookups_per_minute": 3})
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["server"]["trusted_proxies"] = ["10.0.0.0/29"]
    data["booking"]["attempts_per_minute"] = 3
    data["rating"].update(tablet_token_required=False, anonymous_per_minute=3, window_seconds=3600)
    for dept in data["departments"]:
        for svc in dept["services"]:
            svc["remote_walk_in"] = svc["id"] == "cccd"
    for disp in data["devices"]["displays"]:
        if disp["id"] in TOKENS:
            disp["token"] = TOKENS[disp["id"]]
    data["remote"] = {"displays": ["hall-a"], "per_address": 3, "window_minutes": 10}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = InProcessServer(path, tmp / "qms.sqlite3", clock)
    yield srv
    srv.close()


def behind_proxy(client: str, peer: str = PROXY) -> dict:
    return {"environ_base": {"REMOTE_ADDR": peer}, "headers": {"X-Forwarded-For": f"{client}, {peer}"}}


def _remote_page(srv) -> dict:
    r = srv.get("/api/v1/displays/hall-a/remote-qr", headers={"Authorization": f"Bearer {TOKENS['hall-a']}"})
    q = parse_qs(urlsplit(r.json()["url"]).query)
    page = srv.app.test_client().get(f"/lay-so/hall-a?m={q['m'][0]}&p={q['p'][0]}").get_data(as_text=True)
    return json.loads(re.search(r'<script id="qms-page" type="application/json">(.*?)</script>', page, re.S).group(1))


def _sender(srv, kind):
    """(one request of this limit kind from an address, (its answer, how many are allowed), the refusal)."""
    if kind == "login":  # wrong passwords for accounts of no one (so no account is locked), then a right one
        def send(n, **via):
            who = ({"username": "canbo3", "password": "test-staff"} if n == 6
                   else {"username": f"khách-{n}", "password": "sai"})
            return srv.app.test_client().post("/api/v1/login", json=who, **via)
        return send, (401, 5), "login_locked"
    if kind == "rating":
        ticket = finish_one(srv)["id"]

        def send(n, **via):
            rating_id = f"addr-{re.sub(r'[^0-9]', '', via['headers']['X-Forwarded-For'])}-{n}"
            return srv.app.test_client().post("/api/v1/ratings", json={"id": rating_id, "counter": "3",
                                                                      "ticket": ticket, "level": 2}, **via)
        return send, (201, 3), "too_many_ratings"
    if kind == "booking":
        def send(n, **via):
            return srv.app.test_client().get("/api/v1/bookings/ABCDEFGH?cccd=001090000001", **via)
        return send, (404, 3), "too_many_bookings"
    if kind == "remote":
        page = _remote_page(srv)

        def send(n, **via):  # a browser with no cookie each time: only the address limit holds
            return srv.app.test_client().post("/api/v1/remote/tickets", json={
                "display": "hall-a", "minute": page["minute"], "presence": page["presence"], "service": "cccd"}, **via)
        return send, (201, 3), "too_many_remote_tickets"
    code = fake_data.DOSSIERS[0][0]

    def send(n, **via):
        return srv.app.test_client().get(f"/api/v1/dossiers/{code}", **via)
    return send, (200, 3), "too_many_lookups"


@pytest.mark.parametrize("kind, subnet", [("login", 11), ("rating", 12), ("booking", 13), ("remote", 14),
                                          ("dossier", 15)])
def test_two_clients_behind_one_trusted_proxy_are_limited_apart(centre, kind, subnet):
    send, (answer, allowed), refusal = _sender(centre, kind)
    first, second, spoofer = f"198.51.{subnet}.1", f"198.51.{subnet}.2", f"203.0.{subnet}.9"
    assert [send(n, **behind_proxy(first)).status_code for n in range(allowed)] == [answer] * allowed
    refused = send(allowed, **behind_proxy(first))
    assert (refused.status_code, refused.get_json()["error"]) == (429, refusal)
    other = send(allowed + 1, **behind_proxy(second))  # the hall's other client is not locked out
    assert other.status_code == (200 if kind == "login" else answer)
    # An untrusted peer's own header is not believed: a new spoofed address each time still counts as the peer.
    tries = [send(100 + n, **behind_proxy(f"192.0.{subnet}.{n}", peer=spoofer)) for n in range(allowed + 1)]
    assert [r.status_code for r in tries] == [answer] * allowed + [429]


# ------------------------------------------------------------------ what is kept of an address
def test_a_failed_sign_in_keeps_only_the_hash_in_the_log_and_the_address_until_the_retention_ends(tmp_path, clock):
    srv = InProcessServer(server_config(tmp_path, now=clock()), tmp_path / "qms.sqlite3", clock)
    try:
        raw = "198.51.100.77"
        r = srv.app.test_client().post("/api/v1/login", json={"username": "canbo1", "password": "sai mật khẩu"},
                                       environ_base={"REMOTE_ADDR": raw})
        assert r.status_code == 401
        tag = srv.ctx.accounts.address_tag(raw)
        assert is_tag(tag) and tag == address_tag(srv.ctx.config.server.secret_key, raw)
        failed = [e for e in srv.ctx.store.events_since(0, 1000) if e["type"] == "login.failed"]
        assert [e["data"]["address"] for e in failed] == [tag]
        store = srv.ctx.store

        def dump() -> str:
            return "\n".join(store.conn.iterdump())

        events_text = json.dumps(store.events_since(0, 1000))
        assert raw not in events_text and tag in events_text
        assert client_addresses.addresses_of(store, [tag]) == {tag: raw}  # kept for an admin, for 30 days
        assert raw in dump()
        for n in range(4):  # the address's 5th failure locks it: the admin's audit log shows who, while kept
            srv.app.test_client().post("/api/v1/login", json={"username": f"khách-{n}", "password": "sai"},
                                       environ_base={"REMOTE_ADDR": raw})

        def lock_shown(lang) -> dict:
            admin = srv.login("admin", "test-admin")
            (shown,) = [e for e in srv.get(f"/api/v1/admin/audit?lang={lang}", admin).json()["events"]
                        if e["type"] == "login.locked"]
            return shown
        assert lock_shown("vi")["label"] == "Khóa đăng nhập do sai mật khẩu"
        assert lock_shown("vi")["detail"] == f"địa chỉ {raw} ({tag}): 30 giây (lần khóa thứ 1)"
        clock.advance(29 * 86_400)
        srv.keep_day()
        assert client_addresses.addresses_of(store, [tag]) == {tag: raw}
        clock.advance(2 * 86_400)
        srv.keep_day()
        assert client_addresses.addresses_of(store, [tag]) == {}
        assert raw not in dump() and tag in dump()
        assert lock_shown("en")["detail"] == f"address {tag}: 30 s (lock 1)"  # forgotten: the hash alone
        plan = " ".join(r[3] for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM events WHERE type = 'login.locked' ORDER BY id DESC LIMIT 5"))
        assert "events_sign_in_locks" in plan  # the locks are read by their index (migration 0017)
    finally:
        srv.close()


def test_with_no_retention_no_raw_address_is_written_and_the_throttle_still_locks_the_address(tmp_path, clock):
    path = server_config(tmp_path, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["server"]["address_retention_days"] = 0
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    srv = InProcessServer(path, tmp_path / "qms.sqlite3", clock)
    try:
        raw = "2001:db8::77"
        for user in ("canbo1", "canbo3", "admin", "super", "canbo1"):
            r = srv.app.test_client().post("/api/v1/login", json={"username": user, "password": "wrong"},
                                           environ_base={"REMOTE_ADDR": raw})
            assert r.status_code == 401
        r = srv.app.test_client().post("/api/v1/login", json={"username": "canbo3", "password": "test-staff"},
                                       environ_base={"REMOTE_ADDR": raw})
        assert (r.status_code, r.get_json()["error"]) == (429, "login_locked")  # the address is locked by its hash
        ok = srv.app.test_client().post("/api/v1/login", json={"username": "canbo3", "password": "test-staff"},
                                        environ_base={"REMOTE_ADDR": "2001:db8::78"})
        assert ok.status_code == 200
        dump = "\n".join(srv.ctx.store.conn.iterdump())
        assert raw not in dump and srv.ctx.accounts.address_tag(raw) in dump
        assert "INSERT INTO \"client_addresses\"" not in dump
    finally:
        srv.close()


def test_an_anonymous_rating_has_a_hashed_actor(centre):
    ticket = finish_one(centre)["id"]
    raw = "198.51.16.1"
    r = centre.app.test_client().post("/api/v1/ratings", json={"id": "hashed-actor-1", "counter": "3", "ticket": ticket,
                                                              "level": 3}, **behind_proxy(raw))
    assert r.status_code == 201, r.get_json()
    tag = centre.ctx.accounts.address_tag(raw)
    rated = [r[0] for r in centre.ctx.store.conn.execute(
        "SELECT actor FROM events WHERE type = 'rating.recorded' AND json_extract(data, '$.rating') = 'hashed-actor-1'")]
    assert rated == [f"anonymous@{tag}"]
    assert not [r for r in centre.ctx.store.conn.execute("SELECT actor, data FROM events") if raw in f"{r[0]} {r[1]}"]
    assert client_addresses.addresses_of(centre.ctx.store, [tag]) == {tag: raw}


DAY_MS = 86_400_000


@pytest.mark.parametrize("retention_days, seen_days_ago, kept", [
    (30, [0, 29, 30, 31, 400], [0, 29]),  # last seen 30 days ago: its 30 days are over
    (1, [0, 1, 2], [0]),
    (0, [0, 1, 30], []),  # 0: no raw address is kept at all
])
def test_the_retention_purge_by_table(store, clock, retention_days, seen_days_ago, kept):
    start = store.now_ms()
    oldest = max(seen_days_ago)
    for age in sorted(seen_days_ago, reverse=True):  # each seen at start + (oldest - age) days
        client_addresses.remember(store, f"ip:{age:016x}", f"192.0.2.{age % 250}", start + (oldest - age) * DAY_MS)
    now = start + oldest * DAY_MS
    clock.advance(oldest * 86_400)
    assert store.now_ms() == now
    forget_addresses(store, retention_days)
    left = client_addresses.addresses_of(store, [f"ip:{age:016x}" for age in seen_days_ago])
    assert sorted(int(t[3:], 16) for t in left) == kept


def test_0017_adds_the_table_to_a_database_in_use(tmp_path, config, clock):
    import sqlite3

    from sqlite_utils import Database

    from queue_server.store import Store
    from queue_server.store.schema import migrations

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    migrations.apply(Database(conn), stop_before="0017_client_addresses")
    conn.close()
    store = Store(path, config, clock=clock)
    try:
        assert store.migrated[:1] == ["0017_client_addresses"]
        client_addresses.remember(store, "ip:0123456789abcdef", "192.0.2.1", store.now_ms())
        assert client_addresses.addresses_of(store, ["ip:0123456789abcdef", "ip:ffffffffffffffff"]) == {
            "ip:0123456789abcdef": "192.0.2.1"}
    finally:
        store.close()
