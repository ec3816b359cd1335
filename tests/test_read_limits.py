"""Who may read what (hardening, item 8): a kiosk's or a display's token reads the public routes only, not the
counters' staff view; the audit log of accounts, tokens, notices and config (admin.* events) and of failed sign-ins (login.*) is the
admins' own."""
from __future__ import annotations

import pytest

from server_util import AGENT, KIOSK


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(site):
    return site.login("admin", "test-admin")


@pytest.fixture
def display(site, admin):
    r = site.post("/api/v1/admin/device-tokens", json={"kind": "display", "device_id": "hall", "note": "test"},
                  headers=admin)
    assert r.status_code == 201, r.text
    return bearer(r.json()["token"])


@pytest.mark.parametrize("path", ["/api/v1/state", "/api/v1/counters", "/api/v1/counters/1"])
def test_kiosk_and_display_tokens_cannot_read_the_counters(site, display, path):
    for who in (KIOSK, display):
        r = site.get(path, headers=who)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (path, r.text)
    assert site.get(path).status_code == 401
    assert site.get(path, headers=site.login("canbo1", "test-staff")).status_code == 200
    assert site.get(path, headers=AGENT).status_code == 200  # LED and keypad agents follow their counters


def test_admin_events_are_for_admins_only(site, admin):
    r = site.post("/api/v1/admin/staff", json={"username": "canbo77", "password": "mat-khau-77", "full_name": "Lê Văn C",
                                               "role": "staff", "counters": ["1"]}, headers=admin)
    assert r.status_code == 201, r.text
    site.post("/api/v1/tickets", json={"service": "cccd"}, headers=KIOSK)
    assert site.post("/api/v1/login", json={"username": "canbo1", "password": "wrong"}).status_code == 401
    every = site.get("/api/v1/events?since=0", headers=admin).json()["events"]
    assert any(e["type"].startswith("admin.") for e in every) and any(e["type"] == "login.failed" for e in every)
    hidden = ("admin.", "login.")
    for who in (site.login("super", "test-super"), site.login("canbo1", "test-staff")):
        seen = site.get("/api/v1/events?since=0", headers=who).json()["events"]
        assert seen and not [e for e in seen if e["type"].startswith(hidden)]
        assert [e["seq"] for e in seen] == [e["seq"] for e in every if not e["type"].startswith(hidden)]
    # a page of `limit` events is `limit` events the reader may see, not fewer
    one = site.get("/api/v1/events?since=0&limit=1", headers=site.login("super", "test-super")).json()["events"]
    assert len(one) == 1 and not one[0]["type"].startswith(hidden)
