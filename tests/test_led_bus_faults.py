"""A silent LED board on a shared RS485 bus (real pty pairs, the fake bus of boards of test_led.py): while it is
retried or probed, a call for another board on the same bus waits at most one frame's timeout, and once in
`error` it gets one frame per backoff pause, not 1 + retries."""
from __future__ import annotations

import time

from displays.agent.driver import LedDriver
from displays.shared.led_values import Shown
from test_led import FakeBus, PtyLine, States, board

TIMEOUT = 0.2  # each board's answer timeout; retries 2: a silent board used to hold the bus 0.6 s a number


def frames_to(bus: FakeBus, unit: int) -> list[float]:
    with bus.cond:
        return [w[4] for w in bus.writes if w[0] == unit]


def wait_frame(bus: FakeBus, unit: int, after: int) -> None:
    """Until the bus carries a frame to `unit` beyond the first `after` ones: its answer is now awaited."""
    bus.wait(lambda: len([w for w in bus.writes if w[0] == unit]) > after, 5, f"a frame to unit {unit}")


def unit6_wait(bus: FakeBus, driver: LedDriver, number: int) -> float:
    """A call for unit 6 made while a frame to unit 5 is on the bus: how long until unit 6 shows it."""
    wait_frame(bus, 5, len(frames_to(bus, 5)))
    asked = time.monotonic()
    driver.show("led-6", Shown("code", str(number)))
    bus.wait_value(6, [number], timeout=3)
    return time.monotonic() - asked


def test_a_silent_board_delays_its_neighbour_by_one_frame_at_most(tmp_path):
    bus = FakeBus({5, 6})
    line = PtyLine(bus, tmp_path / "ttyRS485")
    states = States()
    driver = LedDriver([board("led-5", line.link, 5, counter="5", timeout_seconds=TIMEOUT, retries=2),
                        board("led-6", line.link, 6, counter="6", timeout_seconds=TIMEOUT, retries=2)],
                       timeouts={"serial_reconnect_max_seconds": 0.5}, on_state=states).start()
    try:
        states.wait("led-5", "connected")
        states.wait("led-6", "connected")
        bus.mode[5] = "silent"
        driver.show("led-5", Shown("code", "5001"))  # unit 5 is now tried and retried
        retried = unit6_wait(bus, driver, 6001)
        states.wait("led-5", "error", 3)
        probed = unit6_wait(bus, driver, 6002)  # unit 5 now gets a slow probe
        waits = (retried, probed)
        print(f"unit 6 waited {retried:.3f} s (unit 5 retried), {probed:.3f} s (unit 5 probed)")
        assert max(waits) < TIMEOUT + 0.2, f"unit 6 waited {[round(w, 2) for w in waits]} s behind silent unit 5"
        # in error, one frame per pause of 0.5 s: never 1 + retries frames back to back
        start = len(frames_to(bus, 5))
        wait_frame(bus, 5, start)
        gap = frames_to(bus, 5)[start] - frames_to(bus, 5)[start - 1]
        assert gap >= TIMEOUT + 0.45, f"probes of a silent board {gap:.2f} s apart"
        assert driver.states()["led-6"]["state"] == "connected" and bus.bad_frames == 0
        bus.mode[5] = "ok"  # it answers again: a new number is tried at once, and it shows it
        driver.show("led-5", Shown("code", "5002"))
        bus.wait_value(5, [5002], timeout=2)
        states.wait("led-5", "connected", 2)
    finally:
        driver.stop()
        line.close()
