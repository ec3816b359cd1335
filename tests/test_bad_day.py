"""The scripted bad day, shortened (bench/faults.py; `python -m bench faults` runs the whole hour): a simulated
hour in 50 s over two server processes sharing a real redis-server, a TCP printer, a keypad on a pty, three
hall displays and four LED boards on a pty bus, with the printer hanging then unplugged, Redis killed and
restarted, a display off its network, the keypad unplugged and replugged and one server process SIGKILLed and
restarted. Nothing may be lost: every call reaches every display owed it and is announced once, and its
counter's board; every acknowledged ticket exists with its own number; every acknowledged press is counted
once; every failed slip is offered again and printed (unless its ticket was called first).

Marked `faults`: `make test` skips it, `make test-faults` (and CI after `make test`) runs it."""
from __future__ import annotations

import pytest

from bench.faults import bad_day

pytestmark = pytest.mark.faults


def test_a_bad_day_loses_nothing(tmp_path):
    figures, problems = bad_day(tmp_path, wall_seconds=50, display_off=8)
    assert not problems, "\n".join(problems) + f"\n{figures}"
    # the faults did happen: otherwise the checks above prove nothing
    assert figures["slips_failed"] >= 3 and figures["slips_recovered"] >= 1, figures
    assert figures["display_reconnects"] >= 3, figures  # the display off its network, and both on process B
    assert figures["keypad_retransmits"] >= 1 and figures["ratings_counted"] == figures["keypad_presses"], figures
    assert figures["calls"] >= 20 and figures["tickets_acknowledged"] >= 80, figures
    assert figures["board_deliveries"] == figures["calls"], figures  # every call on its counter's LED board
