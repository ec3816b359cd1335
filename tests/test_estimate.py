"""The wait estimate is a rule of the core (core/estimate.py): a table of its cases."""
from __future__ import annotations

import pytest

from queue_server.core.estimate import minutes_per_ticket, wait_minutes

MIN = 60_000


@pytest.mark.parametrize("recent, configured, expect", [
    ([], 10, 10),                               # nothing served today: the configured average
    ([4 * MIN, 6 * MIN], 10, 10),               # two are not enough
    ([4 * MIN, 6 * MIN, 5 * MIN], 10, 5),       # three: their median
    ([2 * MIN, 8 * MIN, 4 * MIN, 6 * MIN], 10, 5),  # an even count: the mean of the middle two
    ([1000, 1000, 1000], 10, 0.5),              # finished at once by mistake: no less than half a minute
    ([600 * MIN] * 3, 10, 480),                 # left open all day: no more than 480 minutes
])
def test_minutes_per_ticket(recent, configured, expect):
    assert minutes_per_ticket(recent, configured) == expect


@pytest.mark.parametrize("ahead, per_ticket, counters, expect", [
    (None, 5, 2, None),  # not waiting
    (0, 5, 2, 0),
    (4, 5, 2, 10),
    (4, 5, 0, 20),       # no open counter: counted as one, not a division by zero
    (3, 5, 2, 8),        # 7.5 rounds to 8
])
def test_wait_minutes(ahead, per_ticket, counters, expect):
    assert wait_minutes(ahead, per_ticket, counters) == expect
