"""An officer attaches a dossier code to the ticket being served: only that ticket, at that counter; the ticket
shows its codes; reports count tickets per dossier; a bad code is a 400 that changes nothing."""
from __future__ import annotations

from server_util import KIOSK

CODE = "000.00.12.H59-240115-0003"


def serve_one(site, service="cccd", counter="1"):
    """canbo1 opens `counter` and calls the next ticket of a freshly issued one; (headers, ticket id)."""
    if not hasattr(site, "_staff_headers"):
        site._staff_headers = site.login("canbo1", "test-staff")
    staff = site._staff_headers
    ticket = site.post("/api/v1/tickets", json={"service": service}, headers=KIOSK).json()
    site.post(f"/api/v1/counters/{counter}/open", headers=staff)  # open already on a second call
    called = site.post(f"/api/v1/counters/{counter}/next", headers=staff).json()
    assert called["ticket"]["id"] == ticket["id"]
    return staff, ticket["id"]


def events(site, etype):
    return [e for e in site.get("/api/v1/events?limit=1000", headers=sup(site)).json()["events"] if e["type"] == etype]


def sup(site):
    """The supervisor's headers, signed in once per test's site."""
    if not hasattr(site, "_sup_headers"):
        site._sup_headers = site.login("super", "test-super")
    return site._sup_headers


def test_the_officer_attaches_codes_to_the_ticket_being_served_and_reports_count_them(site):
    staff, tid = serve_one(site)
    r = site.post(f"/api/v1/tickets/{tid}/dossiers", json={"counter": "1", "code": CODE.lower()}, headers=staff)
    assert r.status_code == 201 and r.json() == {"ticket": tid, "codes": [CODE], "added": True}
    again = site.post(f"/api/v1/tickets/{tid}/dossiers", json={"counter": "1", "code": CODE}, headers=staff)
    assert again.status_code == 200 and again.json()["added"] is False
    second = "000.00.12.H59-240115-0004"
    assert site.post(f"/api/v1/tickets/{tid}/dossiers", json={"counter": "1", "code": second}, headers=staff).json()["codes"] == [CODE, second]
    assert site.get(f"/api/v1/tickets/{tid}/dossiers", headers=staff).json()["codes"] == [CODE, second]
    assert [e["data"]["code"] for e in events(site, "ticket.dossier_attached")] == [CODE, second]

    # A second ticket for the same dossier: the report counts two tickets for it, one for the other.
    assert site.post(f"/api/v1/tickets/{tid}/finish", headers=staff).status_code == 200
    _, tid2 = serve_one(site)
    site.post(f"/api/v1/tickets/{tid2}/dossiers", json={"counter": "1", "code": CODE}, headers=staff)
    report = site.get("/api/v1/reports/dossiers", headers=sup(site)).json()
    assert [(r["code"], r["tickets"]) for r in report["dossiers"]] == [(CODE, 2), (second, 1)]
    assert report["tickets"] == 3 and report["from"] == report["to"] == site.ctx.store.today()
    assert site.get("/api/v1/reports/dossiers?from=2026-11-26&to=2026-11-30", headers=sup(site)).json()["dossiers"] == []
    assert site.get("/api/v1/reports/dossiers", headers=staff).status_code == 403
    assert site.get("/api/v1/reports/dossiers?from=25/11/2026", headers=sup(site)).status_code == 400


def test_only_the_ticket_at_this_counter_takes_a_code_and_bad_input_changes_nothing(site):
    staff, tid = serve_one(site)
    waiting = site.post("/api/v1/tickets", json={"service": "cccd"}, headers=KIOSK).json()["id"]
    before = events(site, "ticket.dossier_attached")
    cases = [
        (waiting, {"counter": "1", "code": CODE}, staff, 409, "not_at_counter"),  # a ticket still waiting
        (tid, {"counter": "2", "code": CODE}, staff, 403, "not_signed_in"),  # not signed in at counter 2
        (tid, {"counter": "2", "code": CODE}, sup(site), 409, "not_at_counter"),  # the ticket is at counter 1
        (tid, {"counter": "1", "code": "a b"}, staff, 400, "bad_request"),
        (tid, {"counter": "1", "code": 12345}, staff, 400, "bad_request"),
        (tid, {"counter": "1"}, staff, 400, "bad_request"),
        (tid, {"counter": "1", "code": CODE}, KIOSK, 403, "forbidden"),
        (tid, {"counter": "1", "code": CODE}, {}, 401, "unauthenticated"),
        (10**9, {"counter": "1", "code": CODE}, staff, 404, "ticket_unknown"),
    ]
    for ticket, payload, who, status, error in cases:
        r = site.post(f"/api/v1/tickets/{ticket}/dossiers", json=payload, headers=who)
        assert (r.status_code, r.json()["error"]) == (status, error), (payload, r.json())
    assert events(site, "ticket.dossier_attached") == before
    assert site.get(f"/api/v1/tickets/{tid}/dossiers", headers=staff).json()["codes"] == []
    for n in range(10):
        site.post(f"/api/v1/tickets/{tid}/dossiers", json={"counter": "1", "code": f"HS-{n:04d}"}, headers=staff)
    eleventh = site.post(f"/api/v1/tickets/{tid}/dossiers", json={"counter": "1", "code": "HS-0010"}, headers=staff)
    assert eleventh.status_code == 400 and len(site.get(f"/api/v1/tickets/{tid}/dossiers", headers=staff).json()["codes"]) == 10
