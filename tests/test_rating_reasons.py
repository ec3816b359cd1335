"""The rule for the reason of a low rating (core/rating.reason_refusal), table by table, boundaries included."""
from __future__ import annotations

import pytest

from queue_server.core.rating import reason_refusal

WINDOW = 120_000
LOW = dict(level=1, recorded_reason=None, source="tablet:1", received_ms=1_000_000, positive_levels={3, 2},
           window_ms=WINDOW, anonymous=True)


@pytest.mark.parametrize("change, now, expect", [
    ({}, 1_000_000, None),
    ({}, 1_000_000 + WINDOW, None),  # the last moment of the window
    ({}, 1_000_000 + WINDOW + 1, ("rating_reason_refused", "too late")),
    ({"recorded_reason": "slow"}, 1_000_000, ("rating_reason_refused", "a reason is already recorded")),
    ({"level": 2}, 1_000_000, ("rating_reason_refused", "reasons are asked for low ratings only")),
    ({"source": "keypad:kp-1"}, 1_000_000, ("forbidden", "the rating page may give reasons only for its own ratings")),
    ({"source": "keypad:kp-1", "anonymous": False}, 1_000_000, None),  # staff may add one for a keypad press
    ({"recorded_reason": "slow", "level": 3}, 1_000_000 + 10 * WINDOW, ("rating_reason_refused",
                                                                         "a reason is already recorded")),
])
def test_reason_refusal(change, now, expect):
    assert reason_refusal(**{**LOW, **change}, now_ms=now) == expect
