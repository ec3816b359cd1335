"""What every sender of outbound HTTP shares (signed webhooks, notices to phones): one request with a timeout
and no redirects, its answer read up to a bound, and the capped back-off between tries.

Nothing here touches the database; callers never send inside a transaction.
"""
from __future__ import annotations

import http.client
import random
import urllib.error
import urllib.request

ANSWER_BYTES = 65_536  # of an answer, at most this much is read


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: not delivered (and the body never re-sent elsewhere)."""

    def redirect_request(self, req, fp, code, msg, hdrs, newurl):
        return None


def opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(NoRedirects)


def send(open_with: urllib.request.OpenerDirector, req: urllib.request.Request,
         timeout: float) -> tuple[int | None, bytes, str]:
    """(HTTP status or None, the answer's first ANSWER_BYTES, an error text or '') of one request."""
    try:
        with open_with.open(req, timeout=timeout) as resp:
            return resp.status, resp.read(ANSWER_BYTES), ""
    except urllib.error.HTTPError as exc:
        try:
            answer = exc.read(ANSWER_BYTES)
        except (OSError, http.client.HTTPException):
            answer = b""
        exc.close()
        return exc.code, answer, f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return None, b"", str(exc.reason)[:300]
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, b"", (str(exc) or type(exc).__name__)[:300]


def retry_delay(attempts: int, first_s: float, cap_s: float, jitter: float = 0.0,
                rand: random.Random | None = None) -> float:
    """Seconds before the next try after `attempts` failed ones: first_s, then doubling, never above cap_s,
    moved by up to ±jitter of itself (so many senders that failed together do not come back together)."""
    delay = min(cap_s, first_s * 2 ** max(0, min(attempts - 1, 40)))
    if jitter:
        delay *= 1 + (rand or random).uniform(-jitter, jitter)
    return delay
