"""The write routes outside the queue actions (administration, reprints, ratings) also refuse a bad value of each
body field with a 400 that changes nothing; a whole number too large for the database in any URL is a 404, never
a 500. Together with test_action_validation.py every write route of the app is in a table."""
from __future__ import annotations

import pytest

from test_action_validation import MISSING, VALID, bad_values, fingerprint, module_app
from feedback_buttons.server.routes import RatingBody, ReasonBody
from queue_server.web import actions as A
from queue_server.web.dossiers import AttachBody
from queue_server.web.bookings import CancelBooking, CheckIn, ConfirmBooking, CreateBooking
from queue_server.web.admin import NoticeBody, PasswordBody, StaffChange, StaffCreate, TokenCreate
from queue_server.web.toolkit import Body
from ticket_printer.server.kiosk import KioskPinBody
from ticket_printer.server.print_routes import ReprintBody

# endpoint: (model, method, URL, body accepted as valid, who calls)
ROUTES = {
    "printing.reprint": (ReprintBody, "POST", "/api/v1/tickets/1/reprint", {"kiosk": "kiosk-1", "lang": "vi"}, "sup"),
    "admin.staff_create": (StaffCreate, "POST", "/api/v1/admin/staff",
                           {"username": "canbo9", "password": "mat-khau-9", "full_name": "Lý Thị Chín",
                            "role": "staff", "counters": ["1"]}, "admin"),
    "admin.staff_change": (StaffChange, "PATCH", "/api/v1/admin/staff/canbo3",
                           {"full_name": "Trần Thị Bình", "role": "staff", "counters": ["3"], "active": True}, "admin"),
    "admin.staff_password": (PasswordBody, "POST", "/api/v1/admin/staff/canbo3/password",
                             {"password": "mat-khau-moi"}, "admin"),
    "admin.token_create": (TokenCreate, "POST", "/api/v1/admin/device-tokens",
                           {"kind": "kiosk", "device_id": "kiosk-1", "note": "máy mới"}, "admin"),
    "admin.notice_set": (NoticeBody, "PUT", "/api/v1/admin/notices/hall-a",
                         {"text": "Tạm dừng nhận hồ sơ đất đai", "text_en": "Land files paused"}, "admin"),
    "admin.reload_config": (Body, "POST", "/api/v1/admin/reload", {}, "admin"),
    "ratings.post_rating": (RatingBody, "POST", "/api/v1/ratings",
                            {"id": "abcdefgh01", "counter": "3", "level": 3, "ticket": 1, "age_ms": 0, "seq": 1}, "none"),
    "ratings.post_reason": (ReasonBody, "POST", "/api/v1/ratings/abcdefgh01/reason", {"reason": "chờ lâu"}, "none"),
    "kiosk.check_setup_pin": (KioskPinBody, "POST", "/api/v1/kiosks/kiosk-1/setup-pin", {"pin": "2468"}, "none"),
    "dossiers.ticket_dossiers": (AttachBody, "POST", "/api/v1/tickets/1/dossiers", {"counter": "3", "code": "000.00.12.H59-240115-0003"}, "sup"),
    # online bookings (web/bookings.py)
    "bookings.create_booking": (CreateBooking, "POST", "/api/v1/bookings",
                                {"service": "cccd", "date": "2026-11-26", "start": "08:00", "cccd": "001090123456",
                                 "phone": "0912345678", "lang": "vi"}, "none"),
    "bookings.confirm_booking": (ConfirmBooking, "POST", "/api/v1/bookings/abcdefgh12/confirm", {"otp": "123456"}, "none"),
    "bookings.cancel_booking": (CancelBooking, "POST", "/api/v1/bookings/ABCDEFGH/cancel", {"cccd": "001090123456"}, "none"),
    "bookings.booking_lookup": (CancelBooking, "POST", "/api/v1/bookings/ABCDEFGH/lookup", {"cccd": "001090123456"}, "none"),
    "bookings.check_in": (CheckIn, "POST", "/api/v1/bookings/check-in", {"code": "ABCDEFGH"}, "sup"),
}
NO_BODY = {"api.logout", "admin.token_revoke", "bookings.resend_code"}  # they read nothing from a body


def cases():
    out = []
    for endpoint, (model, *_rest) in ROUTES.items():
        schema = model.model_json_schema()
        for field, prop in schema.get("properties", {}).items():
            out += [(endpoint, field, why, value) for why, value in bad_values(prop, strict=False)]
            if field in schema.get("required", []):
                out.append((endpoint, field, "missing", MISSING))
        out.append((endpoint, "bogus_field", "unknown field", 1))
    return out


CASES = cases()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    yield from module_app(tmp_path_factory, "routes")


@pytest.fixture(scope="module")
def heads(app):
    c = app.test_client()
    out = {"none": {}}
    for who, user, password in (("sup", "super", "test-super"), ("admin", "admin", "test-admin")):
        token = c.post("/api/v1/login", json={"username": user, "password": password}).get_json()["token"]
        out[who] = {"Authorization": f"Bearer {token}"}
    assert c.post("/api/v1/tickets", json={"service": "civil"}, headers=out["sup"]).status_code == 201
    return out


def test_every_write_route_is_in_a_table(app):
    actions = {(m, t.replace("{", "<").replace("}", ">")) for m, t, _, _ in VALID.values()}
    for rule in app.url_map.iter_rules():
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            if rule.endpoint in ROUTES or rule.endpoint in NO_BODY:
                continue
            path = rule.rule.replace("<int:", "<")
            for url, name in (("ticket_id", "ticket"), ("counter_id", "counter"), ("service_id", "service"),
                              ("device_id", "device")):
                path = path.replace(f"<{url}>", f"<{name}>")
            assert (method, path) in actions, f"{method} {rule.rule} ({rule.endpoint}) is in no validation table"


@pytest.mark.parametrize("endpoint, field, why, value", CASES, ids=[f"{e}-{f}-{w}" for e, f, w, _ in CASES])
def test_a_bad_field_is_a_400_that_changes_nothing(app, heads, endpoint, field, why, value):
    _model, method, url, body, who = ROUTES[endpoint]
    body = dict(body)
    if value is MISSING:
        body.pop(field, None)
    else:
        body[field] = value
    before = fingerprint(app)
    r = app.test_client().open(url, method=method, json=body, headers=heads[who])
    assert r.status_code == 400, (r.status_code, r.get_json())
    assert r.get_json()["error"] == "bad_request" and field in r.get_json()["message"], r.get_json()
    assert fingerprint(app) == before


@pytest.mark.parametrize("endpoint", list(ROUTES))
def test_the_valid_examples_pass_validation(app, heads, endpoint):
    _model, method, url, body, who = ROUTES[endpoint]
    r = app.test_client().open(url, method=method, json=body, headers=heads[who])
    assert r.status_code < 500 and (r.get_json() or {}).get("error") != "bad_request", r.get_json()


def int_routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule))
    return out


def test_a_whole_number_too_large_for_the_database_is_a_404_in_every_url(app, heads):
    """GET /api/v1/tickets/<2**70> and POST .../reprint reached SQLite and answered 500."""
    routes = int_routes(app)
    assert len(routes) >= 10
    for method, rule in routes:
        for big in (2**63, 2**70):
            url = rule.replace("<int:ticket_id>", str(big))
            assert "<" not in url, rule
            before = fingerprint(app)
            r = app.test_client().open(url, method=method, json={}, headers=heads["sup"])
            assert r.status_code == 404, (method, url, r.status_code)
            assert fingerprint(app) == before
    assert app.test_client().get(f"/api/v1/tickets/{2**53}").status_code == 404  # the largest id: unknown, not 500


def test_an_action_with_a_huge_number_is_refused_as_bad_request(app, heads):
    before = fingerprint(app)
    r = app.test_client().post("/api/v1/counters/1/next", json={"current": 2**70}, headers=heads["sup"])
    assert r.status_code == 400 and "current" in r.get_json()["message"]
    assert fingerprint(app) == before
    assert set(A.ACTIONS) == set(VALID)
