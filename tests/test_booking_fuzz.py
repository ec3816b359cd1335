"""No 5xx from the booking routes whatever a body holds (hypothesis): any JSON value in any field of a booking, a
confirmation, a cancel or a kiosk's check-in gets an answer below 500, and a refused one changes nothing."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, Clock
from inproc import InProcessServer

KIOSK = {"Authorization": "Bearer test-kiosk-token-1"}
GOOD = {"service": "cccd", "date": "2026-11-26", "start": "08:00", "cccd": "001090000001", "phone": "0912000001"}
texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)  # lone surrogates included
values = st.one_of(texts, st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True), st.booleans(),
                   st.none(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                   st.sampled_from(["2026-11-26", "08:00", "001090000001", "+84912000001", "ABCDEFGH", "|||", "cccd"]))


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = InProcessServer(FIXTURES / "centre.yaml", tmp_path_factory.mktemp("booking-fuzz") / "qms.sqlite3", Clock())
    yield s
    s.close()


def send(srv, url: str, body: dict, headers=None):
    srv.app.extensions.pop("qms_bookings", None)  # a fresh per-address limit: every example reaches the rules
    raw = json.dumps(body).encode()  # a lone surrogate travels as \\ud800, as a browser could send it
    return srv.request("POST", url, data=raw, headers={**(headers or {}), "Content-Type": "application/json"})


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["book", "confirm", "cancel", "check-in"]), field=st.sampled_from(
    ["service", "date", "start", "cccd", "phone", "lang", "otp", "code", "cccd_qr"]), value=values)
def test_no_5xx_and_a_refusal_changes_nothing(srv, route, field, value):
    url, body, headers = {"book": ("/api/v1/bookings", dict(GOOD), None),
                          "confirm": ("/api/v1/bookings/abcdefgh12/confirm", {"otp": "123456"}, None),
                          "cancel": ("/api/v1/bookings/ABCDEFGH/cancel", {"cccd": "001090000001"}, None),
                          "check-in": ("/api/v1/bookings/check-in", {"code": "ABCDEFGH"}, KIOSK)}[route]
    body[field] = value
    before = srv.ctx.store.conn.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM bookings").fetchone()
    r = send(srv, url, body, headers)
    assert r.status_code < 500, (route, field, value, r.text[:300])
    assert r.json()["error" if r.status_code >= 400 else "booking_id"]
    if r.status_code >= 400:
        assert tuple(srv.ctx.store.conn.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM bookings").fetchone()) == tuple(before)
