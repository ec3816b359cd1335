"""Agents on fake ports chosen by config (`port: fake://...`): the same agent code as on hardware, no serial
port and no server needed. The keypad debounce is measured on an injected clock, not on sleeps."""
from __future__ import annotations

import time

from device_kit import ports as P
from displays.agent.driver import LedDriver
from displays.agent.settings import BoardSettings
from displays.shared import modbus
from displays.shared.led_values import Shown
from feedback_buttons.agent.decoders import qms_frame
from feedback_buttons.agent.keypads import KeypadAgent, KeypadSpec, PortState


def wait_for(pred, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Monotonic:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_led_boards_on_a_fake_bus_confirm_their_writes():
    url = "fake://led-boards/hall"
    boards = [BoardSettings.from_dict({"id": "led-1", "counter": "1", "port": url, "unit_id": 3, "run_in": "agent"}),
              BoardSettings(id="led-2", counter="2", port=url, unit_id=4, encoding="bcd", timeout_seconds=0.2)]
    seen = []
    d = LedDriver(boards, on_state=lambda *a: seen.append(a)).start()
    try:
        d.show("led-1", Shown("code", "1001"))
        d.show("led-2", Shown("code", "2002"))
        wait_for(lambda: all(s["state"] == "connected" for s in d.states().values()) and d.states()["led-2"]["shown"]
                 == "2002" and len(P.opened[url].writes) >= 2, what="both boards confirmed")
        requests = [modbus.decode_request(w) for w in P.opened[url].writes]
        assert (3, (1001,)) in [(r.unit, r.values) for r in requests]
        assert (4, (0x2002,)) in [(r.unit, r.values) for r in requests]  # bcd: each digit a nibble
        assert all(s["device"] == "online" for s in d.states().values())
        assert {("led-1", "connected"), ("led-2", "connected")} <= {(b, s) for b, s, _ in seen}
    finally:
        d.stop()


def test_led_board_settings_name_what_is_missing():
    try:
        BoardSettings.from_dict({"id": "led-1", "counter": "1"})
    except ValueError as exc:
        assert "port" in str(exc)
    else:
        raise AssertionError("a board without a port was accepted")


def test_keypad_on_a_fake_line_debounces_on_the_injected_clock(tmp_path):
    url = "fake://wire/kp-1"
    clock = Monotonic()
    delivered = []
    spec = KeypadSpec(id="kp-1", counter="1", port=url, decoder="qms-line", device_id="K01", debounce_ms=400)
    agent = KeypadAgent([spec], buttons={"1": 3, "2": 2, "3": 1}, level_values=[3, 2, 1],
                        transport=lambda rating, age: (delivered.append(rating) or "delivered", ""),
                        status_send=lambda *a: True, outbox_dir=tmp_path, read_timeout=0.01, clock=clock)
    agent.start()
    try:
        r = agent.readers[0]
        wait_for(lambda: r.state == PortState.CONNECTED and url in P.opened, what="the fake port open")
        line = P.opened[url]
        line.feed(qms_frame("P", "K01", 1, "B1"))
        line.feed(qms_frame("P", "K01", 2, "B1"))  # the same button again at the same instant: a bounce
        wait_for(lambda: r.stats["presses"] == 1 and r.stats["dropped"].get("bounce") == 1, what="press and bounce")
        clock.now += 0.399
        line.feed(qms_frame("P", "K01", 3, "B1"))
        wait_for(lambda: r.stats["dropped"].get("bounce") == 2, what="still a bounce at 399 ms")
        clock.now += 0.001  # 400 ms after the accepted press: a new press
        line.feed(qms_frame("P", "K01", 4, "B1"))
        wait_for(lambda: r.stats["presses"] == 2 and len(delivered) == 2, what="the second press delivered")
        assert [d["seq"] for d in delivered] == [1, 4] and all(d["button"] == "1" for d in delivered)
        assert qms_frame("A", "K01", 1) in line.written and qms_frame("A", "K01", 4) in line.written  # acknowledged
        line.unplug()
        wait_for(lambda: r.state != PortState.CONNECTED, what="the unplugged line noticed")
        assert r.state.device.problem
    finally:
        agent.stop()
