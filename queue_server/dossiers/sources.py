"""Where dossiers come from, behind one interface: `find(code) -> Dossier | None`, or `SourceDown` when the
source cannot answer now. `DossierLookup` picks the source `dossiers.source` names and keeps answers for
`dossiers.http.cache_seconds`.

- `HttpSource`: the province's one-stop system; one GET of the URL template with `{code}`, the configured
  headers, the whole exchange bounded by `timeout_seconds` (at most 2.5 s, so a kiosk answers within 3 s),
  the answer read by the configured dotted paths (queue_server/core/dossiers.py `from_answer`);
- `FileSource`: the rows `qms import-dossiers` stored (queue_server/store/dossiers.py);
- `FakeSource`: the demo's dossiers (fake_data.py), in process.
"""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Callable
from urllib.parse import quote

from queue_server.core import dossiers as rules
from queue_server.core.dossiers import Dossier, DossierDataError
from queue_server.dossiers import fake_data
from queue_server.store import dossiers as dossier_rows

MAX_ANSWER_BYTES = 256 * 1024
CACHE_SIZE = 2000


class SourceDown(Exception):
    """The source did not answer usably: reason is timeout, unreachable, source_error or bad_answer."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class HttpSource:
    name = "http"

    def __init__(self, cfg, session=None):
        import requests

        self.cfg = cfg
        self._requests = requests
        self.session = session or requests.Session()

    def _get(self, url: str) -> tuple[int, bytes]:
        r = self._requests
        try:
            with self.session.get(url, headers=dict(self.cfg.headers), stream=True, allow_redirects=False,
                                  timeout=(self.cfg.timeout_seconds, self.cfg.timeout_seconds)) as resp:
                body = b""
                for chunk in resp.iter_content(16_384):
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise SourceDown("bad_answer", "the answer is too large")
                return resp.status_code, body
        except (r.Timeout, TimeoutError):
            raise SourceDown("timeout") from None
        except r.RequestException as exc:
            raise SourceDown("unreachable", type(exc).__name__) from None

    def fetch(self, code: str) -> tuple[int, bytes]:
        """GET the dossier's address; the whole exchange within timeout_seconds (the request runs on its own
        thread, left to its socket timeout when it overstays)."""
        url = self.cfg.url.replace("{code}", quote(code, safe=""))
        out: dict = {}
        done = threading.Event()

        def work():
            try:
                out["answer"] = self._get(url)
            except SourceDown as exc:
                out["error"] = exc
            except Exception as exc:  # noqa: BLE001 - any failure of the exchange is the source being down
                out["error"] = SourceDown("unreachable", type(exc).__name__)
            finally:
                done.set()

        threading.Thread(target=work, name="dossier-http", daemon=True).start()
        if not done.wait(self.cfg.timeout_seconds):
            raise SourceDown("timeout")
        if "error" in out:
            raise out["error"]
        return out["answer"]

    def find(self, code: str) -> Dossier | None:
        status, body = self.fetch(code)
        if status in self.cfg.not_found_http_status:
            return None
        if status != 200:
            raise SourceDown("source_error", f"HTTP {status}")
        try:
            answer = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise SourceDown("bad_answer", "not JSON") from None
        try:
            return rules.from_answer(answer, dict(self.cfg.fields), dict(self.cfg.status_values), code=code)
        except DossierDataError as exc:
            raise SourceDown("bad_answer", str(exc)) from None


class FileSource:
    name = "file"

    def __init__(self, store):
        self.store = store

    def find(self, code: str) -> Dossier | None:
        row = dossier_rows.find(self.store, code)
        return None if row is None else Dossier(**row)


class FakeSource:
    name = "fake"

    def find(self, code: str) -> Dossier | None:
        d = fake_data.by_code(code)
        if d is None:
            return None
        fields = dict(zip(("code", "status", "procedure", "received", "appointment", "collect_at", "applicant"), d))
        return rules.make(fields, {}, code=code)


class DossierLookup:
    """The configured source, with a small cache of its answers (http only: the others are local)."""

    def __init__(self, cfg, store, *, monotonic: Callable[[], float] = time.monotonic, session=None):
        self.cfg = cfg
        self.monotonic = monotonic
        self.source = {"http": lambda: HttpSource(cfg.http, session), "file": lambda: FileSource(store),
                       "fake": FakeSource}.get(cfg.source, lambda: None)()
        self.cache_seconds = cfg.http.cache_seconds if cfg.source == "http" and cfg.http else 0
        self._cache: OrderedDict[str, tuple[float, Dossier | None]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.source is not None

    def find(self, code: str) -> tuple[Dossier | None, bool]:
        """(the dossier or None when the source has none, whether the answer came from the cache)."""
        now = self.monotonic()
        with self._lock:
            hit = self._cache.get(code)
            if hit is not None and hit[0] > now:
                return hit[1], True
        dossier = self.source.find(code)  # SourceDown propagates: a failure is never cached
        if self.cache_seconds:
            with self._lock:
                self._cache[code] = (now + self.cache_seconds, dossier)
                self._cache.move_to_end(code)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return dossier, False
