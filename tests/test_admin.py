"""Administration: role checks, staff accounts, device tokens, display notices and the audit trail on the server
in this process; config reload (a bad file is refused and the running config kept) and `qms reload` against a
real server process, since the command is a second process."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import Clock
from inproc import make_server
from server_util import KIOSK, ServerProcess, server_config

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = make_server(tmp_path_factory.mktemp("admin"), Clock(), extra_counters=2)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def admin(server):
    return server.login("admin", "test-admin")


@pytest.fixture
def real_server(tmp_path):
    srv = ServerProcess(server_config(tmp_path, extra_counters=2), tmp_path / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


def audit_types(server) -> list[tuple[str, str, str]]:
    """(type, actor, data) of every admin.* event, read straight from the database file."""
    conn = sqlite3.connect(f"file:{server.db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT type, actor, data FROM events WHERE type LIKE 'admin.%' ORDER BY id").fetchall()
    finally:
        conn.close()


def req(server, method: str, path: str, headers=None, json=None):
    return server.request(method, path, json=json, headers=headers)


ADMIN_ROUTES = [
    ("GET", "/api/v1/admin/staff", None),
    ("POST", "/api/v1/admin/staff", {"username": "x1", "password": "secret-1"}),
    ("PATCH", "/api/v1/admin/staff/canbo1", {"active": False}),
    ("POST", "/api/v1/admin/staff/canbo1/password", {"password": "secret-1"}),
    ("GET", "/api/v1/admin/device-tokens", None),
    ("POST", "/api/v1/admin/device-tokens", {"kind": "kiosk", "device_id": "kiosk-1"}),
    ("POST", "/api/v1/admin/device-tokens/" + "0" * 64 + "/revoke", {}),
    ("GET", "/api/v1/admin/notices", None),
    ("PUT", "/api/v1/admin/notices/hall", {"text": "x"}),
    ("POST", "/api/v1/admin/reload", {}),
    ("GET", "/api/v1/admin/audit", None),
]


def test_role_checks(server, admin):
    staff = server.login("canbo1", "test-staff")
    sup = server.login("super", "test-super")
    before = len(audit_types(server))
    for method, path, body in ADMIN_ROUTES:
        assert req(server, method, path, None, body).status_code == 401, path
        for who in (staff, sup, KIOSK):
            r = req(server, method, path, who, body)
            assert r.status_code == 403 and r.json()["error"] == "forbidden", (path, r.text)
    assert len(audit_types(server)) == before  # a refused call changes nothing
    for method, path, body in ADMIN_ROUTES:
        if method == "GET":
            assert req(server, method, path, admin).status_code == 200, path
    # supervision and reports: supervisors and admins, not staff
    for path in ("/api/v1/supervisor/state", "/api/v1/reports", "/api/v1/reports/export?format=csv"):
        assert req(server, "GET", path, staff).status_code == 403
        assert req(server, "GET", path, sup).status_code == 200
        assert req(server, "GET", path, admin).status_code == 200
        assert req(server, "GET", path).status_code == 401


def test_staff_accounts(server, admin):
    r = req(server, "POST", "/api/v1/admin/staff", admin,
            {"username": "canbo9", "password": "mat-khau-9", "full_name": "Lê Thị Chín", "counters": ["1"]})
    assert r.status_code == 201, r.text
    assert r.json()["full_name"] == "Lê Thị Chín" and r.json()["counters"] == ["1"] and r.json()["active"] is True
    assert req(server, "POST", "/api/v1/admin/staff", admin, {"username": "canbo9", "password": "mat-khau-9"}).json()["error"] == "staff_exists"
    for bad, error in (({"username": "Có Dấu", "password": "mat-khau-9"}, "account_invalid"),
                       ({"username": "canbo8", "password": "mat-khau-8", "counters": ["99"]}, "account_invalid"),
                       ({"username": "canbo8", "password": "123"}, "bad_request"),
                       ({"username": "canbo8", "password": "mat-khau-8", "role": "boss"}, "bad_request")):
        r = req(server, "POST", "/api/v1/admin/staff", admin, bad)
        assert r.status_code == 400 and r.json()["error"] == error, r.text
    old = server.login("canbo9", "mat-khau-9")
    assert req(server, "GET", "/api/v1/me", old).json()["username"] == "canbo9"
    # reset password: the old sessions end, only the new password works
    r = req(server, "POST", "/api/v1/admin/staff/canbo9/password", admin, {"password": "mat-khau-moi"})
    assert r.status_code == 200
    assert req(server, "GET", "/api/v1/me", old).status_code == 401
    assert req(server, "POST", "/api/v1/login", None, {"username": "canbo9", "password": "mat-khau-9"}).status_code == 401
    new = server.login("canbo9", "mat-khau-moi")
    # assign counters: counter 2 now theirs
    r = req(server, "PATCH", "/api/v1/admin/staff/canbo9", admin, {"counters": ["1", "2"]})
    assert r.status_code == 200 and r.json()["counters"] == ["1", "2"]
    assert req(server, "POST", "/api/v1/counters/2/open", server.login("canbo9", "mat-khau-moi")).status_code == 200
    assert req(server, "POST", "/api/v1/counters/2/close", server.login("canbo9", "mat-khau-moi")).status_code == 200
    # disable: signed out at once, cannot sign in; enable again
    r = req(server, "PATCH", "/api/v1/admin/staff/canbo9", admin, {"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert req(server, "GET", "/api/v1/me", new).status_code == 401
    assert req(server, "POST", "/api/v1/login", None, {"username": "canbo9", "password": "mat-khau-moi"}).status_code == 401
    assert req(server, "PATCH", "/api/v1/admin/staff/canbo9", admin, {"active": True}).json()["active"] is True
    server.login("canbo9", "mat-khau-moi")
    assert req(server, "PATCH", "/api/v1/admin/staff/nobody", admin, {"active": True}).status_code == 404
    assert req(server, "PATCH", "/api/v1/admin/staff/canbo9", admin, {}).status_code == 400
    # the last active admin can be neither disabled nor demoted
    assert req(server, "PATCH", "/api/v1/admin/staff/admin", admin, {"active": False}).json()["error"] == "last_admin"
    assert req(server, "PATCH", "/api/v1/admin/staff/admin", admin, {"role": "staff"}).json()["error"] == "last_admin"
    logged = [(t, a) for t, a, _ in audit_types(server)]
    for etype in ("admin.staff_created", "admin.password_reset", "admin.staff_updated", "admin.staff_disabled",
                  "admin.staff_enabled"):
        assert (etype, "staff:admin") in logged, etype
    assert not any("mat-khau" in data for _, _, data in audit_types(server))  # passwords never reach the log


def test_device_tokens(server, admin):
    r = req(server, "POST", "/api/v1/admin/device-tokens", admin, {"kind": "kiosk", "device_id": "kiosk-1", "note": "máy dự phòng"})
    assert r.status_code == 201, r.text
    token, token_id = r.json()["token"], r.json()["id"]
    headers = {"Authorization": f"Bearer {token}"}
    assert req(server, "POST", "/api/v1/tickets", headers, {"service": "cccd"}).status_code == 201
    listed = req(server, "GET", "/api/v1/admin/device-tokens", admin).json()
    mine = next(x for x in listed["tokens"] if x["id"] == token_id)
    assert mine == {**mine, "kind": "kiosk", "device_id": "kiosk-1", "note": "máy dự phòng", "revoked": False}
    assert token not in str(listed)  # the token itself is shown once, never listed
    assert {"kind": "kiosk", "device_id": "kiosk-1", "name": ""} in listed["config_tokens"]
    assert req(server, "POST", f"/api/v1/admin/device-tokens/{token_id}/revoke", admin, {}).status_code == 200
    assert req(server, "POST", "/api/v1/tickets", headers, {"service": "cccd"}).status_code == 401
    assert next(x for x in req(server, "GET", "/api/v1/admin/device-tokens", admin).json()["tokens"] if x["id"] == token_id)["revoked"]
    assert req(server, "POST", "/api/v1/admin/device-tokens/" + "f" * 64 + "/revoke", admin, {}).status_code == 404
    assert req(server, "POST", "/api/v1/admin/device-tokens/nothex/revoke", admin, {}).status_code == 404
    r = req(server, "POST", "/api/v1/admin/device-tokens", admin, {"kind": "kiosk", "device_id": "kiosk-99"})
    assert r.status_code == 400 and "kiosk-99" in r.json()["message"]
    logged = [(t, data) for t, _, data in audit_types(server)]
    assert any(t == "admin.device_token_created" and token_id[:12] in d for t, d in logged)
    assert any(t == "admin.device_token_revoked" and token_id[:12] in d for t, d in logged)
    assert not any(token in d for _, d in logged)


def test_display_notices(server, admin):
    display = server.socket({"room": "display:hall-a"})
    try:
        display.wait_for(lambda e, d: e == "snapshot")
        r = req(server, "PUT", "/api/v1/admin/notices/hall-a", admin,
                {"text": "Buổi chiều làm việc từ 13 giờ 15", "text_en": "Afternoon opening at 13:15"})
        assert r.status_code == 200, r.text
        _, msg, _ = display.wait_for(lambda e, d: e == "notice.updated" and d["display"] == "hall-a")
        assert msg["notice"] == "Buổi chiều làm việc từ 13 giờ 15" and msg["notice_en"] == "Afternoon opening at 13:15"
    finally:
        display.close()
    feed = req(server, "GET", "/api/v1/displays/hall-a").json()["state"]["display"]
    assert feed["notice"] == "Buổi chiều làm việc từ 13 giờ 15"
    # every display: shown where a display has no notice of its own
    assert req(server, "PUT", "/api/v1/admin/notices/_all", admin, {"text": "Nghỉ Tết từ 14/02"}).status_code == 200
    assert req(server, "GET", "/api/v1/displays/hall").json()["state"]["display"]["notice"] == "Nghỉ Tết từ 14/02"
    assert req(server, "GET", "/api/v1/displays/hall-a").json()["state"]["display"]["notice"] == "Buổi chiều làm việc từ 13 giờ 15"
    # clearing a display's own notice falls back to every display's
    assert req(server, "PUT", "/api/v1/admin/notices/hall-a", admin, {"text": ""}).status_code == 200
    assert req(server, "GET", "/api/v1/displays/hall-a").json()["state"]["display"]["notice"] == "Nghỉ Tết từ 14/02"
    assert req(server, "PUT", "/api/v1/admin/notices/hall-z", admin, {"text": "x"}).status_code == 404
    listed = {n["display"]: n for n in req(server, "GET", "/api/v1/admin/notices", admin).json()["notices"]}
    assert listed["_all"]["text"] == "Nghỉ Tết từ 14/02" and listed["hall-a"]["shown"] == "Nghỉ Tết từ 14/02"
    assert [t for t, _, _ in audit_types(server)].count("admin.notice_set") >= 3


def _edit_config(server, original: str, fn) -> str:
    path = server.config
    data = yaml.safe_load(original)
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path.read_text(encoding="utf-8")


def test_reload(real_server):
    server = real_server
    admin = server.login("admin", "test-admin")
    original = server.config.read_text(encoding="utf-8")
    hello = server.socket({"room": "display:hall"})
    first_hash = hello.wait_for(lambda e, d: e == "hello")[1]["config_hash"]
    hello.close()
    try:
        # a file with an unknown key: refused, with the key and line; nothing changes
        server.config.write_text(original.replace("  name_en: Test Centre", "  name_en: Test Centre\n  adress: x"), encoding="utf-8")
        r = req(server, "POST", "/api/v1/admin/reload", admin)
        assert r.status_code == 422 and r.json()["error"] == "config_invalid"
        assert "centre.adress: unknown key" in r.json()["message"] and "server.yaml:" in r.json()["message"]
        assert r.json()["problems"][0]["key"] == "centre.adress"
        # a file removing a service that has active tickets today: refused too
        req(server, "POST", "/api/v1/tickets", KIOSK, {"service": "land"})
        _edit_config(server, original, lambda d: (d["departments"].pop(), d["counters"].pop(3)))
        r = req(server, "POST", "/api/v1/admin/reload", admin)
        assert r.status_code == 422 and "service 'land' is removed but has 1 active ticket" in r.json()["message"]
        services = {s["id"]: s for s in req(server, "GET", "/api/v1/services").json()["services"]}
        assert "land" in services and services["cccd"]["name"] == "Cấp đổi căn cước"  # the running config is kept
        # the CLI refuses a bad file before it asks the server
        server.config.write_text(original.replace("daily_cap: 4", "daily_cap: -4"), encoding="utf-8")
        cli = subprocess.run([sys.executable, "-m", "queue_server.cli", "reload", "--config", str(server.config),
                              "--url", server.url, "--password", "test-admin"], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert cli.returncode == 2 and "daily_cap" in cli.stderr
        # a good file: a service renamed, a counter added, the server section changed (applies at restart)
        def change(d):
            d["departments"][0]["services"][0]["name"] = "Cấp căn cước (CCCD)"
            d["counters"].append({"id": "99", "number": 99, "department": "police", "services": ["passport"]})
            d["server"]["coalesce_ms"] = 200
        _edit_config(server, original, change)
        cli = subprocess.run([sys.executable, "-m", "queue_server.cli", "reload", "--config", str(server.config),
                              "--url", server.url, "--user", "admin", "--password", "test-admin"],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert cli.returncode == 0, cli.stderr
        assert "reloaded" in cli.stdout and "server.coalesce_ms changed" in cli.stdout
        services = {s["id"]: s for s in req(server, "GET", "/api/v1/services").json()["services"]}
        assert services["cccd"]["name"] == "Cấp căn cước (CCCD)"
        counters = {c["id"]: c for c in req(server, "GET", "/api/v1/counters", admin).json()["counters"]}
        assert counters["99"]["services"] == ["passport"] and counters["99"]["state"] == "closed"
        hello = server.socket({"room": "display:hall"})
        assert hello.wait_for(lambda e, d: e == "hello")[1]["config_hash"] != first_hash
        hello.close()
        logged = [t for t, _, _ in audit_types(server)]
        assert logged.count("admin.config_refused") == 2 and logged.count("admin.config_reloaded") == 1
        cli = subprocess.run([sys.executable, "-m", "queue_server.cli", "reload", "--config", str(server.config),
                              "--url", server.url, "--user", "super", "--password", "test-super"],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert cli.returncode == 2 and "admins only" in cli.stderr
    finally:
        server.config.write_text(original, encoding="utf-8")
    r = req(server, "POST", "/api/v1/admin/reload", admin)
    assert r.status_code == 200, r.text


def test_audit_log_route(server, admin):
    events = req(server, "GET", "/api/v1/admin/audit?limit=500", admin).json()["events"]
    assert events and all(e["type"].startswith("admin.") or e["type"] in ("service.updated", "counter.services") for e in events)
    assert all(e["actor"] == "staff:admin" for e in events if e["type"].startswith("admin."))
    assert req(server, "GET", "/api/v1/admin/audit?limit=x", admin).status_code == 400


def test_admin_page_is_served(server):
    r = req(server, "GET", "/admin")
    assert r.status_code == 200 and "Tài khoản cán bộ" in r.text and "Nạp lại cấu hình" in r.text
