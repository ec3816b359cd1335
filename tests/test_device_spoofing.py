"""Device status from the devices themselves: each agent reports only the devices it is configured for, an
unknown device is refused, an agent joins only the counter rooms of its LED boards and keypads, and a display
counts as online only when it connects with its own token (anonymous viewers still get the live data)."""
from __future__ import annotations

import pytest
import yaml

from inproc import InProcessServer
from server_util import server_config

SUP = ("super", "test-super")
KEYPAD_AGENT = {"Authorization": "Bearer test-keypad-agent-7"}
LED_AGENT = {"Authorization": "Bearer test-led-agent-7"}
PRINTER_AGENT = {"Authorization": "Bearer test-printer-agent-7"}
DISPENSER_AGENT = {"Authorization": "Bearer test-dispenser-agent-7"}
ANY_AGENT = {"Authorization": "Bearer test-agent-token-1"}  # agent-1, kind any (server_config)
HALL_B_TOKEN = "test-display-hall-b-7"


@pytest.fixture
def srv(tmp_path, clock):
    path = server_config(tmp_path, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    dev = data["devices"]
    dev["agents"] += [{"id": "keypads-a", "token": KEYPAD_AGENT["Authorization"][7:], "kind": "keypad"},
                      {"id": "leds-a", "token": LED_AGENT["Authorization"][7:], "kind": "led"},
                      {"id": "printers-a", "token": PRINTER_AGENT["Authorization"][7:], "kind": "printer"},
                      {"id": "buttons-a", "token": DISPENSER_AGENT["Authorization"][7:], "kind": "printer"}]
    dev["led_boards"] = [{"id": "led-1", "counter": "1", "port": "fake://led-boards/a", "agent": "leds-a"},
                         {"id": "led-4", "counter": "4", "port": "fake://led-boards/b", "agent": "agent-1"}]
    dev["keypads"] = [{"id": "kp-2", "counter": "2", "port": "fake://keypads/a", "agent": "keypads-a"}]
    dev["dispensers"] = [{"id": "box-1", "port": "fake://dispenser", "kiosk": "kiosk-1",
                          "buttons": {"1": "cccd"}, "agent": "buttons-a"}]
    for d in dev["displays"]:
        if d["id"] == "hall-b":
            d["token"] = HALL_B_TOKEN
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    s = InProcessServer(path, tmp_path / "qms.sqlite3", clock)
    yield s
    s.close()


@pytest.fixture
def sio(srv):
    """Socket.IO test clients of this centre (as conftest's sio for the standard one), closed after the test."""
    made = []

    def connect(auth: dict):
        made.append(srv.socket(auth))
        return made[-1]

    yield connect
    for c in made:
        c.close()


def heads_of(srv, who) -> dict:
    """A signed-in account's headers, signed in once per server."""
    cache = srv.__dict__.setdefault("_heads", {})
    if who not in cache:
        cache[who] = srv.login(*who)
    return cache[who]


def states(srv) -> dict:
    sup = heads_of(srv, SUP)
    return {(d["kind"], d["device_id"]): d for d in srv.get("/api/v1/devices", sup).json()["devices"]}


def report(srv, kind, device, heads, state="paper_out"):
    return srv.post(f"/api/v1/devices/{kind}/{device}/status", {"state": state}, heads)


def device_events(srv) -> list:
    admin = heads_of(srv, ("admin", "test-admin"))
    return [e for e in srv.get("/api/v1/events?since=0", admin).json()["events"] if e["type"] == "device.state"]


FOREIGN = [  # (kind, device, who reports it): none of them is that reporter's device
    ("printer", "printer-1", KEYPAD_AGENT),  # the case: a keypad agent set printer-1 to paper_out
    ("led_board", "led-1", KEYPAD_AGENT),  # another agent's board
    ("keypad", "kp-2", LED_AGENT),  # another agent's keypad
    ("led_board", "led-4", LED_AGENT),  # named for agent-1
    ("keypad", "kp-2", ANY_AGENT),  # an any agent, but the keypad names keypads-a
    ("dispenser", "box-1", PRINTER_AGENT),  # the dispenser names buttons-a
    ("agent", "leds-a", KEYPAD_AGENT),  # another agent
    ("kiosk", "kiosk-1", ANY_AGENT),  # a kiosk reports itself
    ("display", "hall", ANY_AGENT),
]
OWN = [
    ("led_board", "led-1", LED_AGENT), ("keypad", "kp-2", KEYPAD_AGENT), ("printer", "printer-1", PRINTER_AGENT),
    ("printer", "printer-1", ANY_AGENT), ("led_board", "led-4", ANY_AGENT), ("dispenser", "box-1", DISPENSER_AGENT),
    ("agent", "keypads-a", KEYPAD_AGENT),
]


def test_an_agent_reports_only_its_own_devices(srv):
    before = states(srv)
    assert before[("printer", "printer-1")]["state"] == "online"  # a preview printer is ready from the start
    events = device_events(srv)
    for kind, device, heads in FOREIGN:
        r = report(srv, kind, device, heads, state="error")
        assert r.status_code == 403, (kind, device, r.text)
        assert r.json()["error"] == "forbidden"
    assert states(srv) == before
    assert device_events(srv) == events


def test_an_agent_reports_the_devices_it_is_configured_for(srv):
    for kind, device, heads in OWN:
        r = report(srv, kind, device, heads, state="error")
        assert r.status_code == 200, (kind, device, r.text)
        assert states(srv)[(kind, device)]["state"] == "error"
        assert report(srv, kind, device, heads, state="online").status_code == 200


def test_an_unknown_device_is_refused_and_not_recorded(srv):
    events = device_events(srv)
    for heads in (ANY_AGENT, PRINTER_AGENT, heads_of(srv, SUP)):
        for kind, device in (("printer", "printer-invented"), ("led_board", "led-9"), ("agent", "agent-9")):
            r = report(srv, kind, device, heads)
            assert r.status_code == 404, r.text
            assert r.json()["error"] == "device_unknown"
            assert (kind, device) not in states(srv)
    assert device_events(srv) == events


def test_an_agent_joins_only_the_counter_rooms_of_its_devices(srv, sio):
    led = sio({"room": "counter:1", "token": LED_AGENT["Authorization"][7:]})
    assert led.connected
    keypad = sio({"room": "counter:2", "token": KEYPAD_AGENT["Authorization"][7:]})
    assert keypad.connected
    for room, heads in (("counter:2", LED_AGENT), ("counter:1", KEYPAD_AGENT), ("counter:3", ANY_AGENT),
                        ("counter:1", PRINTER_AGENT)):
        other = sio({"room": room, "token": heads["Authorization"][7:]})
        assert not other.connected, room
        assert other.refusal["data"]["error"] == "forbidden"
    # the printer room of a kiosk follows the same rule: the agent must own the kiosk's printer
    assert sio({"room": "printer:kiosk-1", "token": PRINTER_AGENT["Authorization"][7:]}).connected
    refused = sio({"room": "printer:kiosk-1", "token": KEYPAD_AGENT["Authorization"][7:]})
    assert not refused.connected and refused.refusal["data"]["error"] == "forbidden"


def test_a_display_is_online_only_with_its_own_token(srv, sio):
    viewer = sio({"room": "display:hall-b"})
    assert viewer.connected
    assert viewer.of("hello")
    assert states(srv)[("display", "hall-b")]["state"] == "unknown"
    viewer.close()
    assert states(srv)[("display", "hall-b")]["state"] == "unknown"  # nor offline when it leaves
    other = sio({"room": "display:hall", "token": HALL_B_TOKEN})  # hall-b's token in another display's room
    assert other.connected
    assert states(srv)[("display", "hall")]["state"] == "unknown"
    board = sio({"room": "display:hall-b", "token": HALL_B_TOKEN})
    assert board.connected
    assert states(srv)[("display", "hall-b")]["state"] == "online"
    board.close()
    assert states(srv)[("display", "hall-b")]["state"] == "offline"


def test_the_agent_listings_follow_the_same_rule(srv):
    boards = srv.get("/api/v1/led_boards", LED_AGENT).json()["boards"]
    assert [b["id"] for b in boards] == ["led-1"]
    keypads = srv.get("/api/v1/keypads", KEYPAD_AGENT).json()["keypads"]
    assert [k["id"] for k in keypads] == ["kp-2"]
    assert srv.get("/api/v1/keypads", ANY_AGENT).json()["keypads"] == []
