"""Who may do what: the matrix of role x action, on REST and on Socket.IO, against the server in this process."""
from __future__ import annotations

import pytest

from conftest import Clock
from inproc import InProcessServer
from server_util import AGENT, KIOSK, server_config

ROLES = ["anonymous", "kiosk", "display", "agent", "staff", "staff_elsewhere", "supervisor", "admin"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("perm")
    clock = Clock()
    cfg = server_config(tmp, now=clock())
    text = cfg.read_text(encoding="utf-8").replace("- id: hall-a", "- id: hall-a\n    token: test-display-token-1")
    # the kiosk issues without printing a slip: who may do what does not depend on it (test_print_jobs prints)
    text = text.replace("token: test-kiosk-token-1\n    printer: printer-1\n", "token: test-kiosk-token-1\n")
    # agent-1 drives the LED board of counter 3: an agent joins only the counter rooms of its devices
    text = text.replace("\ndevices:\n", "\ndevices:\n  led_boards:\n  - {id: led-3, counter: '3', port: 'fake://led-boards', "
                        "agent: agent-1}\n", 1)
    cfg.write_text(text, encoding="utf-8")
    assert "printer: printer-1" not in text and "id: led-3" in text
    server = InProcessServer(cfg, tmp / "perm.sqlite3", clock)
    heads = {
        "anonymous": {}, "kiosk": KIOSK, "agent": AGENT,
        "display": {"Authorization": "Bearer test-display-token-1"},
        "staff": server.login("canbo1", "test-staff"),
        "staff_elsewhere": server.login("canbo3", "test-staff"),
        "supervisor": server.login("super", "test-super"),
        "admin": server.login("admin", "test-admin"),
    }
    # canbo1 signs in at counter 1, canbo3 at counter 3: the staff rows below act there.
    assert server.post("/api/v1/counters/1/open", headers=heads["staff"]).status_code == 200
    assert server.post("/api/v1/counters/3/open", headers=heads["staff_elsewhere"]).status_code == 200
    server.heads = heads
    yield server
    server.close()


def waiting_ticket(srv) -> int:
    r = srv.post("/api/v1/tickets", {"service": "passport"}, KIOSK)
    assert r.status_code == 201
    return r.json()["id"]


# action -> (how to do it, roles allowed)
ACTIONS = {
    "read services": (lambda s, h: s.get("/api/v1/services", h), set(ROLES)),
    "read a ticket": (lambda s, h: s.get(f"/api/v1/tickets/{waiting_ticket(s)}", h), set(ROLES)),
    "read a display feed": (lambda s, h: s.get("/api/v1/displays/hall-a", h), set(ROLES)),
    # the counters' staff view: staff and agents, not a kiosk or a display (hardening, item 8)
    "read full state": (lambda s, h: s.get("/api/v1/state", h), set(ROLES) - {"anonymous", "kiosk", "display"}),
    "read the counters": (lambda s, h: s.get("/api/v1/counters", h), set(ROLES) - {"anonymous", "kiosk", "display"}),
    "read one counter": (lambda s, h: s.get("/api/v1/counters/1", h), set(ROLES) - {"anonymous", "kiosk", "display"}),
    "read event log": (lambda s, h: s.get("/api/v1/events?since=0", h), {"staff", "staff_elsewhere", "supervisor", "admin"}),
    "read devices": (lambda s, h: s.get("/api/v1/devices", h), {"staff", "staff_elsewhere", "supervisor", "admin"}),
    "issue a ticket": (lambda s, h: s.post("/api/v1/tickets", {"service": "cccd"}, h),
                       {"kiosk", "staff", "staff_elsewhere", "supervisor", "admin"}),
    "issue a priority ticket": (lambda s, h: s.post("/api/v1/tickets", {"service": "cccd", "priority_group": "elderly"}, h),
                                {"staff", "staff_elsewhere", "supervisor", "admin"}),
    "call next at counter 1": (lambda s, h: s.post("/api/v1/counters/1/next", {"current": -1}, h),
                               {"staff", "supervisor", "admin"}),
    "call a number at counter 1": (lambda s, h: s.post("/api/v1/counters/1/call", {"code": "9999"}, h),
                                   {"staff", "supervisor", "admin"}),
    "open counter 2 (assigned to staff)": (lambda s, h: s.post("/api/v1/counters/2/open", None, h),
                                           {"staff", "supervisor", "admin"}),
    # a passport ticket: canbo1's counters serve passports, canbo3's (civil, records) do not (hardening, item 8)
    "cancel a waiting ticket": (lambda s, h: s.post(f"/api/v1/tickets/{waiting_ticket(s)}/cancel", None, h),
                                {"staff", "supervisor", "admin"}),
    "open or close a service": (lambda s, h: s.post("/api/v1/services/land", {"state": "auto"}, h), {"supervisor", "admin"}),
    "change a daily cap": (lambda s, h: s.post("/api/v1/services/land", {"daily_cap": 500}, h), {"supervisor", "admin"}),
    "reassign a counter": (lambda s, h: s.put("/api/v1/counters/4/services", {"services": ["land"]}, h),
                           {"supervisor", "admin"}),
    "report a device state": (lambda s, h: s.post("/api/v1/devices/printer/printer-1/status", {"state": "online"}, h),
                              {"agent", "supervisor", "admin"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_rest_matrix(srv, role, action):
    do, allowed = ACTIONS[action]
    r = do(srv, srv.heads[role])
    assert r.status_code < 500, r.text
    if role in allowed:
        assert r.status_code not in (401, 403), f"{role} may {action}: {r.status_code} {r.text}"
    else:
        assert r.status_code in (401, 403), f"{role} may not {action}: {r.status_code} {r.text}"
        assert r.json()["error"] in ("unauthenticated", "forbidden", "not_signed_in")


SOCKET_ACTIONS = {
    "next at counter 1": ({"op": "next", "counter": "1", "current": -1}, {"staff", "supervisor", "admin"}),
    "issue": ({"op": "issue", "service": "cccd"}, {"kiosk", "staff", "staff_elsewhere", "supervisor", "admin"}),
    "open a service": ({"op": "set_service", "service": "land", "state": "auto"}, {"supervisor", "admin"}),
    "reassign a counter": ({"op": "assign_services", "counter": "4", "services": ["land"]}, {"supervisor", "admin"}),
}


@pytest.mark.parametrize("role", ROLES)
def test_socket_matrix_matches_rest(srv, role):
    """The same rules hold for Socket.IO actions (connected as a display viewer with the role's token)."""
    token = srv.heads[role].get("Authorization", "")[7:] or None
    c = srv.socket({"room": "display:hall-a", "token": token})
    assert c.connected
    try:
        for name, (action, allowed) in SOCKET_ACTIONS.items():
            ack = c.call("action", action)
            denied = not ack["ok"] and ack.get("error") in ("unauthenticated", "forbidden", "not_signed_in")
            assert denied != (role in allowed), f"{role} / {name}: {ack}"
    finally:
        c.disconnect()


@pytest.mark.parametrize("role, room, ok", [
    ("anonymous", "supervisors", False), ("staff", "supervisors", False), ("supervisor", "supervisors", True),
    ("admin", "supervisors", True), ("staff", "counter:1", True), ("staff", "counter:3", False),
    ("staff_elsewhere", "counter:3", True), ("agent", "counter:3", True), ("kiosk", "counter:1", False),
    ("anonymous", "kiosk:kiosk-1", True), ("anonymous", "display:hall-a", True),
])
def test_socket_rooms(srv, role, room, ok):
    token = srv.heads[role].get("Authorization", "")[7:] or None
    c = srv.socket({"room": room, "token": token})
    connected = c.connected
    c.close()
    assert connected == ok
