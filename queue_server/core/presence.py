"""Presence in the hall, for remote walk-in numbers (docs/remote-numbers.md).

A hall display shows a QR code whose text is the phone page's address with a proof: an HMAC of the server's
secret key over the display's id and the minute number (UTC milliseconds // 60 000). The code changes every
minute; a proof is accepted for the minute it was made and the next one, so a scan at the last second still
leaves a full minute, and a photo taken home is refused. A good scan gives the page a pass (the same HMAC under
another purpose) with which it may take its number for `page_minutes`.

Also here: the mobile number a công dân may give for "your turn is near" notices, in one written form.
Plain values in, plain values out; the clock and the secret are the caller's.
"""
from __future__ import annotations

import hashlib
import hmac
import re

from queue_server.core.booking import normalise_phone
from queue_server.core.errors import DomainError

MINUTE_MS = 60_000
PROOF_LENGTH = 16  # hex characters of the HMAC kept: 64 bits, for a code that lives two minutes
_PROOF = re.compile(r"^[0-9a-f]{16}$")


def minute_of(now_ms: int) -> int:
    """The minute number of an instant (UTC milliseconds)."""
    return now_ms // MINUTE_MS


def sign(secret: str, display_id: str, minute: int, purpose: str = "qr") -> str:
    """The proof of `purpose` ("qr": shown by the display; "page": the pass a proven page holds)."""
    message = f"qms-remote|{purpose}|{display_id}|{minute}".encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()[:PROOF_LENGTH]


def renews_in_ms(now_ms: int) -> int:
    """Milliseconds until the display's code changes (the next minute starts)."""
    return MINUTE_MS - now_ms % MINUTE_MS


def _check(secret: str, display_id: str, minute: object, proof: object, purpose: str, now_ms: int, minutes: int) -> None:
    if (not isinstance(minute, int) or isinstance(minute, bool) or minute < 0 or not isinstance(proof, str)
            or not _PROOF.match(proof)
            or not hmac.compare_digest(sign(secret, display_id, minute, purpose), proof)):
        raise DomainError("presence_invalid")
    age = minute_of(now_ms) - minute
    if age < 0:  # signed for a minute still to come: not something a display has shown
        raise DomainError("presence_invalid")
    if age >= minutes:
        raise DomainError("presence_stale", minutes=minutes)


def check_proof(secret: str, display_id: str, minute: object, proof: object, now_ms: int) -> None:
    """A scanned code: good for its own minute and the next one; forged or altered: presence_invalid; older:
    presence_stale."""
    _check(secret, display_id, minute, proof, "qr", now_ms, 2)


def check_pass(secret: str, display_id: str, minute: object, pass_: object, now_ms: int, page_minutes: int) -> None:
    """The pass of a page proven at `minute`: good for `page_minutes` from the start of that minute."""
    _check(secret, display_id, minute, pass_, "page", now_ms, page_minutes)


def mobile_number(text: str) -> str:
    """A Vietnamese mobile number written as 0xxxxxxxxx (10 digits); "+84 912 345 678", "0912.345.678" and
    "84912345678" are read too. Anything else: phone_invalid. The one rule, the booking's (core/booking.py)."""
    return normalise_phone(text)
