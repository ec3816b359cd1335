"""The sign-in throttle: when failed logins lock an account or a client address, and for how long.

Each account (the username tried) and each client address has its own strikes. `failures` failed logins
within `window_ms` lock it for `first_lock_ms`; while locked every attempt is refused, a correct password too.
After a lock, the streak is remembered: each further failure locks it again for twice as long, up to
`max_lock_ms`. A quiet `window_ms` after the last failure and the end of the last lock forgets the streak.
Plain numbers in, plain numbers out: the store keeps the strikes, so every server process on one database
sees the same ones.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottleRule:
    """The settings (config.yaml's login_throttle) in milliseconds."""

    failures: int = 5
    window_ms: int = 300_000
    first_lock_ms: int = 30_000
    max_lock_ms: int = 900_000


@dataclass(frozen=True)
class Strikes:
    """What is remembered of one account's or one address's failed logins."""

    recent: tuple[int, ...] = ()  # the times of the latest failures (at most rule.failures) before a lock
    locks: int = 0  # locks in the current streak (0: not locked yet)
    locked_until_ms: int = 0
    forget_ms: int = 0  # from then on the streak is forgotten


def locked_for_ms(strikes: Strikes | None, now_ms: int) -> int:
    """How long the lock still holds (0: not locked)."""
    if strikes is None:
        return 0
    return max(0, strikes.locked_until_ms - now_ms)


def lock_ms(locks: int, rule: ThrottleRule) -> int:
    """The length of the `locks`-th lock of a streak: the first, then doubling, capped."""
    if locks <= 0:
        return 0
    return min(rule.first_lock_ms * 2 ** min(locks - 1, 40), rule.max_lock_ms)


def after_failure(strikes: Strikes | None, now_ms: int, rule: ThrottleRule) -> Strikes:
    """The strikes after one more failed login at `now_ms`."""
    if strikes is None or now_ms >= strikes.forget_ms:
        strikes = Strikes()
    if strikes.locks:
        recent, locks = (), strikes.locks + 1  # already locked once in this streak: every failure locks again
    else:
        recent = (*(t for t in strikes.recent if now_ms - t < rule.window_ms), now_ms)[-rule.failures:]
        locks = 1 if len(recent) >= rule.failures else 0
    if locks:
        until = now_ms + lock_ms(locks, rule)
        return Strikes(recent=(), locks=locks, locked_until_ms=until, forget_ms=until + rule.window_ms)
    return Strikes(recent=recent, locks=0, locked_until_ms=0, forget_ms=now_ms + rule.window_ms)


def retry_after_seconds(ms: int) -> int:
    """Whole seconds to wait, rounded up (never 0 while a lock holds)."""
    return max(1, -(-ms // 1000))
