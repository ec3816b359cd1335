"""The API documentation is tested: every route, pushed event and socket action is in docs/api.md."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from queue_server.web.app import create_app
from queue_server.push import EVENT_NAMES

DOC = (Path(__file__).parent.parent / "docs" / "api.md").read_text(encoding="utf-8")
FIXTURE = Path(__file__).parent / "fixtures" / "centre.yaml"


def _routes():
    import tempfile

    app = create_app(FIXTURE, db_path=Path(tempfile.mkdtemp()) / "docs.sqlite3", async_mode="threading",
                     start_background=False)
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"<\1>", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append(f"{method} {path}")
    app.extensions["qms"].store.close()
    return sorted(out)


ROUTES = _routes()


@pytest.mark.parametrize("route", ROUTES)
def test_route_is_documented(route):
    assert f"`{route}`" in DOC, f"{route} is not documented in docs/api.md"


@pytest.mark.parametrize("event", EVENT_NAMES)
def test_event_is_documented(event):
    assert f"`{event}`" in DOC, f"Socket.IO event {event} is not documented in docs/api.md"


@pytest.mark.parametrize("name", ["action", "resync"])
def test_client_event_is_documented(name):
    assert f"`{name}`" in DOC


def test_route_count_is_sane():
    assert len(ROUTES) >= 30
