"""An in-process server (tests/inproc.py) that a real browser can reach: Werkzeug's threaded HTTP server on
127.0.0.1 in a thread of the test process, Socket.IO in threading mode. It starts in a fraction of a second
(nothing to import, no process to wait for) and reads the test's Clock, so page tests that need a browser but
not a server process (an async mode, a crash, a restart) stay cheap and independent of the hour they run.
The helpers (post, get, put, login, socket, tick) are the in-process server's."""
from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler without a log line per request (a page's polls would fill the output)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class LiveSite:
    def __init__(self, site):
        self.site = site
        self.httpd = make_server("127.0.0.1", 0, site.app, threaded=True, request_handler=QuietHandler)
        self.port = self.httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"live-site-{self.port}", daemon=True)
        self.thread.start()

    def __getattr__(self, name):
        return getattr(self.site, name)

    def close(self) -> None:
        self.httpd.shutdown()
        self.thread.join(5)
        self.httpd.server_close()
        self.site.close()
