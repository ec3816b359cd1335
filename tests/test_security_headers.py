"""Security headers (hardening, item 8): every page forbids inline script and framing; every answer says
nosniff. The pages still work under that policy: every browser test runs with it, and
test_shared_front_page.py fails on any console error on any page, which is where chromium reports a refused
script, style, image, clip or connection."""
from __future__ import annotations

import pytest

PAGES = ["/", "/counter", "/supervisor", "/admin", "/reports", "/display/hall-a", "/kiosk/kiosk-1", "/rate/1"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_policy_without_inline_script(client, path):
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    csp = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["X-Frame-Options"] == "DENY"
    html = r.get_data(as_text=True)
    import re

    for tag in re.findall(r"<script\b[^>]*>", html):  # every script is a file, or JSON data that never runs
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_json_answers_say_nosniff(client):
    r = client.get("/api/v1/services")
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" not in r.headers
