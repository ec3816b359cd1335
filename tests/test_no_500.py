"""No 500s: each reproduction that answered 500 (or read a 16 MB body) on the landed code, as its own small test.
The walk over every route and socket action with hostile values is tests/test_hostile_values.py."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from queue_server import reports as R

HUGE = "1000000000000000000000000000000"


@pytest.fixture
def sup(client):
    token = client.post("/api/v1/login", json={"username": "super", "password": "test-super"}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    data = resp.get_json()
    assert data["error"] == code, data
    return data


# ------------------------------------------------------------------ ids beyond 2^63
def test_a_ticket_id_beyond_2_63_in_the_url_is_404(client, sup):
    for path in (f"/api/v1/tickets/{HUGE}", f"/api/v1/tickets/{HUGE}/rating", f"/api/v1/tickets/{HUGE}/print-jobs"):
        _error(client.get(path, headers=sup), 404, "not_found")
    _error(client.post(f"/api/v1/tickets/{HUGE}/cancel", headers=sup), 404, "not_found")


@pytest.mark.parametrize("query", [f"since={HUGE}", "since=9223372036854775808", "since=1e30", "since=-1",
                                   f"since=0&limit={HUGE}x"])
def test_events_since_beyond_what_the_log_holds_is_400(client, sup, query):
    data = _error(client.get(f"/api/v1/events?{query}", headers=sup), 400, "bad_request")
    assert "since" in data["detail"] or "limit" in data["detail"]


def test_events_limit_out_of_bounds_is_still_clamped(client, sup):
    client.post("/api/v1/tickets", json={"service": "civil"}, headers=sup)
    r = client.get(f"/api/v1/events?since=0&limit={HUGE}", headers=sup)
    assert r.status_code == 200 and len(r.get_json()["events"]) >= 1
    assert len(client.get("/api/v1/events?since=0&limit=-7", headers=sup).get_json()["events"]) == 1


def test_a_socket_last_seq_beyond_the_log_is_refused(sio, site):
    for last_seq in (10**30, 2**63, -1):
        s = sio({"room": "display:hall-a", "last_seq": last_seq})
        assert not s.connected
        assert s.refusal["data"]["error"] == "bad_request", s.refusal
    ok = sio({"room": "display:hall-a", "last_seq": 0})
    assert ok.connected


def test_a_socket_with_a_lone_surrogate_in_its_room_or_token_is_refused(sio):
    for auth in ({"room": "ticket:\ud800"}, {"room": "supervisors", "token": "\ud800"}):
        s = sio(auth)
        assert not s.connected
        assert s.refusal["data"]["error"] == "bad_request", s.refusal


# ------------------------------------------------------------------ deep JSON
def test_a_json_body_nested_thousands_deep_is_400(client, sup):
    deep = "[" * 30_000 + "]" * 30_000  # 60 KB: under the body cap; deeper than the parser goes
    data = _error(client.post("/api/v1/tickets", data=deep, content_type="application/json", headers=sup),
                  400, "bad_request")
    assert "nested" in data["detail"]
    obj = '{"a":' * 10_000 + "1" + "}" * 10_000
    _error(client.post("/api/v1/login", data=obj, content_type="application/json"), 400, "bad_request")


def test_a_100000_deep_json_body_is_refused_before_it_is_parsed(client, sup):
    deep = "[" * 100_000 + "]" * 100_000
    _error(client.post("/api/v1/tickets", data=deep, content_type="application/json", headers=sup),
           413, "body_too_large")


# ------------------------------------------------------------------ reports near the calendar's end
@pytest.mark.parametrize("query", ["period=month&date=9999-12-15", "from=9999-01-01&to=9999-12-31",
                                   "period=week&date=9999-12-31", "period=day&date=0001-01-01",
                                   "from=2999-12-01&to=3000-01-01"])
@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/reports/export"])
def test_reports_outside_the_years_a_centre_has_are_400(client, sup, query, path):
    data = _error(client.get(f"{path}?{query}&lang=en", headers=sup), 400, "bad_request")
    assert "a report covers days from 2000-01-01 to 2999-12-31" in data["message"]


def test_the_refusal_of_year_9999_is_in_vietnamese_too(client, sup):
    data = _error(client.get("/api/v1/reports?period=month&date=9999-12-15", headers=sup), 400, "bad_request")
    assert "báo cáo chỉ gồm các ngày từ 01/01/2000 đến 31/12/2999" in data["message"]


def test_the_last_month_a_report_may_cover_is_made(client, sup):
    r = client.get("/api/v1/reports?period=month&date=2999-12-15", headers=sup)
    assert r.status_code == 200 and (r.get_json()["from"], r.get_json()["to"]) == ("2999-12-01", "2999-12-31")


def test_report_functions_refuse_the_calendars_end(store):
    with pytest.raises(R.ReportError, match="2999-12-31"):
        R.period("month", "9999-12-15")
    with pytest.raises(R.ReportError, match="2999-12-31"):
        R.build_report(store, "9999-01-01", "9999-12-31")
    assert R.period("month", "2026-02-10") == ("2026-02-01", "2026-02-28")


# ------------------------------------------------------------------ the body cap
def test_a_body_over_64_kb_is_413_and_issues_nothing(client, site):
    before = site.ctx.store.last_seq()
    big = b'{"service": "civil", "priority_group": "' + b"a" * 70_000 + b'"}'
    data = _error(client.post("/api/v1/tickets", data=big, content_type="application/json"), 413, "body_too_large")
    assert data["limit_bytes"] == 64 * 1024
    assert site.ctx.store.last_seq() == before
    en = client.post("/api/v1/tickets?lang=en", data=big, content_type="application/json").get_json()
    assert en["message"] == "The request body is too large: at most 64 KB."


def test_a_chunked_body_over_64_kb_is_413_too(client):
    """No Content-Length (a chunked request): the body is cut off at the cap as it is read."""
    body = b'{"username": "super", "password": "' + b"x" * 80_000 + b'"}'
    r = client.post("/api/v1/login", input_stream=io.BytesIO(body), content_type="application/json",
                    headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    _error(r, 413, "body_too_large")


def test_a_body_just_under_the_cap_is_read(client):
    body = b'{"username": "super", "password": "' + b"x" * 60_000 + b'"}'
    data = _error(client.post("/api/v1/login", data=body, content_type="application/json"), 400, "bad_request")
    assert "password" in data["detail"]  # read and checked by the model (at most 200 characters)


def test_cli_report_for_a_month_out_of_range_says_why(tmp_path, capsys):
    """`qms report --month 9999-12` names the years reports cover, not a date-format complaint."""
    from queue_server.cli.commands import main

    code = main(["report", "--config", str(Path(__file__).parent / "fixtures" / "centre.yaml"),
                 "--db", str(tmp_path / "cli.sqlite3"), "--month", "9999-12"])
    err = capsys.readouterr().err
    assert code == 2 and "YYYY-MM-DD" not in err and "2999" in err, err
