"""Bad input gets a clear 4xx naming what was wrong, changes nothing, and is never a 500."""
from __future__ import annotations

import pytest

from conftest import Clock
from inproc import make_server
from server_util import KIOSK


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = make_server(tmp_path_factory.mktemp("errors"), Clock())
    server.sup = server.login("super", "test-super")
    server.post("/api/v1/counters/1/open", headers=server.sup)
    yield server
    server.close()


WRITE_ROUTES = [
    ("POST", "/api/v1/login"), ("POST", "/api/v1/tickets"), ("POST", "/api/v1/counters/1/next"),
    ("POST", "/api/v1/counters/1/call"), ("POST", "/api/v1/counters/1/open"), ("POST", "/api/v1/tickets/1/transfer"),
    ("POST", "/api/v1/tickets/1/finish"), ("POST", "/api/v1/services/cccd"), ("PUT", "/api/v1/counters/1/services"),
    ("POST", "/api/v1/devices/printer/printer-1/status"),
]
BAD_BODIES = [
    ("not json", b"{oops", "application/json"),
    ("a list", b"[1, 2]", "application/json"),
    ("a string", b'"hello"', "application/json"),
    ("form data", b"service=cccd", "application/x-www-form-urlencoded"),
    ("unknown field", b'{"bogus_field": 1}', "application/json"),
    ("wrong types", b'{"service": 5, "code": 7, "username": [], "password": {}, "state": 3, "services": "x", '
                    b'"current": "x", "to_counter": 1, "go_last": "yes", "daily_cap": "many"}', "application/json"),
]


def event_count(srv) -> int:
    return srv.get("/api/v1/events?since=0&limit=1000", srv.sup).json()["last_seq"]


@pytest.mark.parametrize("method, path", WRITE_ROUTES)
@pytest.mark.parametrize("name, body, ctype", BAD_BODIES)
def test_bad_bodies_are_400s_that_change_nothing(srv, method, path, name, body, ctype):
    before = event_count(srv)
    r = srv.request(method, path, data=body, headers={**srv.sup, "Content-Type": ctype})
    if path.endswith("/open") and name in ("unknown field", "wrong types"):
        assert r.status_code == 400
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    err = r.json()
    assert err["error"] and err["message"]
    if err["error"] == "bad_request" and name in ("unknown field",):
        assert "bogus_field" in err["message"]
    assert event_count(srv) == before


@pytest.mark.parametrize("lang, expect", [("en", "There is no service nope."), ("vi", "Không có dịch vụ nope."),
                                          ("en-US,en;q=0.9", "There is no service nope."), ("fr", "Không có dịch vụ nope.")])
def test_messages_follow_accept_language(srv, lang, expect):
    r = srv.post("/api/v1/tickets", {"service": "nope"}, {**KIOSK, "Accept-Language": lang})
    assert r.status_code == 404 and r.json() == {"error": "service_unknown", "message": expect, "service": "nope"}


@pytest.mark.parametrize("method, path, status, error", [
    ("GET", "/api/v1/nothing-here", 404, "not_found"),
    ("DELETE", "/api/v1/tickets", 405, "method_not_allowed"),
    ("GET", "/api/v1/tickets/999999", 404, "ticket_unknown"),
    ("GET", "/api/v1/tickets/abc", 404, "not_found"),
    ("GET", "/api/v1/status/nope", 404, "ticket_unknown"),
    ("GET", "/api/v1/displays/nope", 404, "display_unknown"),
    ("POST", "/api/v1/counters/99/next", 404, "counter_unknown"),
    ("GET", "/api/v1/events?since=x", 400, "bad_request"),
])
def test_unknown_things(srv, method, path, status, error):
    r = srv.request(method, path, headers=srv.sup)
    assert r.status_code == status and r.json()["error"] == error


def test_expired_or_wrong_token_is_401(srv):
    r = srv.get("/api/v1/state", {"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    r = srv.post("/api/v1/login", {"username": "super", "password": "wrong"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_credentials"


def test_domain_refusals_change_nothing(srv):
    before = event_count(srv)
    r = srv.post("/api/v1/counters/1/next", {"current": None}, srv.sup)
    assert r.status_code == 404 and r.json()["error"] == "nothing_waiting"
    r = srv.post("/api/v1/counters/2/next", None, srv.sup)
    assert r.status_code == 409 and r.json()["error"] == "counter_not_open"
    t = srv.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json()
    after_issue = event_count(srv)
    assert after_issue == before + 1
    r = srv.post(f"/api/v1/tickets/{t['id']}/start", {"counter": "1"}, srv.sup)
    assert r.status_code == 409 and r.json()["error"] == "not_called_here"
    r = srv.post(f"/api/v1/tickets/{t['id']}/finish", {"counter": "1"}, srv.sup)
    assert r.status_code == 409 and r.json()["error"] == "not_at_counter"
    assert event_count(srv) == after_issue
