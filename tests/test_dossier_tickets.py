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


def test_the_kiosk_issues_the_return_ticket_with_the_dossiers_code_and_the_officer_sees_it(site):
    """The kiosk's return-of-results ticket after a look-up carries the receipt's code (it did not: the officer
    had to scan the receipt again), in the ticket's own transaction, by REST and by the kiosk's socket."""
    r = site.post("/api/v1/tickets", json={"service": "cccd", "dossier": CODE.lower()}, headers=KIOSK)
    assert r.status_code == 201, r.json()
    tid = r.json()["id"]
    attached = events(site, "ticket.dossier_attached")
    assert [(e["ticket_id"], e["counter_id"], e["data"]) for e in attached] == [(tid, None, {"code": CODE, "at": "kiosk"})]
    staff = site.login("canbo1", "test-staff")
    site.post("/api/v1/counters/1/open", headers=staff)
    assert site.post("/api/v1/counters/1/next", headers=staff).json()["ticket"]["id"] == tid
    assert site.get(f"/api/v1/tickets/{tid}/dossiers", headers=staff).json()["codes"] == [CODE]
    # the officer may still attach a second code; the same code again is no change
    again = site.post(f"/api/v1/tickets/{tid}/dossiers", json={"counter": "1", "code": CODE}, headers=staff)
    assert again.status_code == 200 and again.json()["added"] is False
    assert [(d["code"], d["tickets"]) for d in site.get("/api/v1/reports/dossiers", headers=sup(site)).json()["dossiers"]] == [(CODE, 1)]

    kiosk = site.socket({"room": "kiosk:kiosk-1", "token": KIOSK["Authorization"].split()[1]})
    ack = kiosk.call("action", {"op": "issue", "service": "cccd", "dossier": "HS-0001"})
    assert ack["ok"] is True and site.get(f"/api/v1/tickets/{ack['id']}/dossiers", headers=staff).json()["codes"] == ["HS-0001"]


def test_a_dossier_code_of_another_shape_issues_nothing(site):
    count = len(events(site, "ticket.issued"))
    for bad in ("a b", "x", 12345, "A" * 61, "-HS-0001", ""):
        r = site.post("/api/v1/tickets", json={"service": "cccd", "dossier": bad}, headers=KIOSK)
        assert (r.status_code, r.json()["error"]) == (400, "bad_request"), (bad, r.json())
    assert len(events(site, "ticket.issued")) == count and events(site, "ticket.dossier_attached") == []


def test_0018_keeps_the_codes_officers_attached_on_a_database_in_use(tmp_path, clock):
    import sqlite3

    from sqlite_utils import Database

    from queue_server.config import load_config
    from queue_server.store import Store, dossiers
    from queue_server.store.schema import migrations
    from server_util import server_config

    config = load_config(server_config(tmp_path))
    path = tmp_path / "old.sqlite3"
    old = Store(path, config, clock=clock)
    tid = old.issue("cccd").ticket["id"]
    old.close()
    conn = sqlite3.connect(path)  # back to before 0018, with an officer's code on the ticket
    conn.execute("DROP TABLE ticket_dossiers")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0018_dossier_codes_at_the_kiosk'")
    conn.execute("""CREATE TABLE ticket_dossiers (ticket_id INTEGER NOT NULL REFERENCES tickets(id), code TEXT NOT NULL,
                    counter_id TEXT NOT NULL, staff_id INTEGER, attached_ms INTEGER NOT NULL, PRIMARY KEY (ticket_id, code))""")
    conn.execute("CREATE INDEX ticket_dossiers_code ON ticket_dossiers (code)")
    conn.execute("INSERT INTO ticket_dossiers VALUES (?, ?, '1', 7, 1)", (tid, CODE))
    conn.commit()
    conn.close()
    store = Store(path, config, clock=clock)
    try:
        assert store.migrated == ["0018_dossier_codes_at_the_kiosk"]
        assert dossiers.codes_of(store, tid) == [CODE]
        assert [tuple(r) for r in store.conn.execute("SELECT counter_id, staff_id FROM ticket_dossiers")] == [("1", 7)]
        second = store.issue("cccd", dossier="HS-0002").ticket["id"]
        assert dossiers.codes_of(store, second) == ["HS-0002"]
        assert [r["name"] for r in store.conn.execute("PRAGMA index_list(ticket_dossiers)")].count("ticket_dossiers_code") == 1
    finally:
        store.close()
