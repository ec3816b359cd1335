"""Every page shares one head and one script: the base template (charset, viewport, title, the vendored
Socket.IO client, static/common.js) and no page script keeps its own copy of the shared helpers.

In process (Flask's test client on a temporary database): each page is fetched, and every script and
stylesheet it names is fetched too.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
STATIC = [ROOT / "queue_server" / "static",
          *(ROOT / part / "server" / "static" for part in ("displays", "ticket_printer", "feedback_buttons"))]
PAGE_SCRIPTS = [p for folder in STATIC for p in sorted(folder.glob("*.js"))]
SHARED = ROOT / "queue_server" / "static" / "common.js"


class Head(HTMLParser):
    """The tags of a page that matter here, in document order."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False if tag == "title" else self._in_title

    def handle_data(self, data):
        if self._in_title:
            self.title += data


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from queue_server.web.app import create_app

    tmp = tmp_path_factory.mktemp("front")
    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))
    data["devices"]["displays"].append({"id": "screen-1", "kind": "counter", "counter": "1"})
    data["queue"]["always_open"] = True
    cfg = tmp / "centre.yaml"
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app = create_app(cfg, db_path=tmp / "front.sqlite3", async_mode="threading", start_background=False)
    try:
        yield app.test_client()
    finally:
        app.extensions["qms"].store.close()


@pytest.fixture(scope="module")
def pages(client):
    """Every page of the system: (path, expected status, uses a live connection)."""
    login = client.post("/api/v1/login", json={"username": "canbo1", "password": "test-staff"}).json
    ticket = client.post("/api/v1/tickets", json={"service": "cccd"},
                         headers={"Authorization": "Bearer " + login["token"]}).json
    return [("/", 200, False), ("/counter", 200, True), ("/supervisor", 200, True), ("/reports", 200, False),
            ("/admin", 200, False), ("/display/hall", 200, True), ("/display/screen-1", 200, True),
            ("/display/nowhere", 404, False), ("/kiosk/kiosk-1", 200, True), ("/kiosk/nowhere", 404, False),
            (f"/t/{ticket['token']}", 200, True), ("/t/not-a-ticket", 404, False), ("/rate/1", 200, False)]


def test_every_page_has_the_shared_head(client, pages):
    for path, status, live in pages:
        r = client.get(path)
        assert r.status_code == status, path
        html = r.get_data(as_text=True)
        head = Head()
        head.feed(html)
        metas = [a for t, a in head.tags if t == "meta"]
        assert [m.get("charset") for m in metas if "charset" in m] == ["utf-8"], path
        assert sum(1 for m in metas if m.get("name") == "viewport") == 1, path
        assert head.title.strip(), path
        assert re.search(r'<html lang="(vi|en)">', html), path
        scripts = [a["src"].split("?")[0] for t, a in head.tags if t == "script" and "src" in a]
        assert scripts.count("/static/common.js") == 1, (path, scripts)
        assert scripts.count("/static/vendor/socket.io.min.js") == (1 if live else 0), (path, scripts)
        # the shared script comes before the page's own, the vendored client before the shared script
        assert scripts.index("/static/common.js") == (1 if live else 0), (path, scripts)
        assert html.count('id="qms-page"') <= 1, path
        for url in scripts + [a["href"] for t, a in head.tags if t == "link" and a.get("rel") == "stylesheet"]:
            assert url.startswith("/"), f"{path} loads {url} from elsewhere (no CDN)"
            assert client.get(url).status_code == 200, (path, url)


def test_vietnamese_text_keeps_its_diacritics(client):
    html = client.get("/counter").get_data(as_text=True)
    assert "Quầy giao dịch" in html and "Đăng nhập cán bộ" in html
    shared = SHARED.read_text(encoding="utf-8")
    for words in ("Đang kết nối…", "Mất kết nối", "Ngoài giờ tiếp nhận", "Tạm ngừng tiếp nhận", "Đã hết số hôm nay"):
        assert words in shared


@pytest.mark.parametrize("script", PAGE_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_scripts_use_the_shared_helpers(script):
    """The element helper, the page data, the staff session and the socket live in common.js only."""
    text = script.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 400, "keep each script under about 400 lines"
    if script == SHARED or script.parent.name == "vendor" or script.name == "announcer.js":
        return
    assert "document.createElement(" not in text, "build elements with QMS.el"
    assert "JSON.parse(document.getElementById" not in text, "read the page's data with QMS.page()"
    assert "sessionStorage.getItem('qms.staff'" not in text, "the staff session is QMS.session()"
    assert not re.search(r"(?<![\w.])io\(", text), "join a room with QMS.live"
    assert "window.QMS" in text


def test_no_page_carries_its_own_head(client):
    """Templates extend the base: none writes its own <head>."""
    for folder in (ROOT / "queue_server" / "templates", ROOT / "displays" / "server" / "templates",
                   ROOT / "ticket_printer" / "server" / "templates", ROOT / "feedback_buttons" / "server" / "templates"):
        for tpl in folder.rglob("*.html"):
            if tpl.name == "base.html":
                continue
            text = tpl.read_text(encoding="utf-8")
            assert "<head>" not in text and "<meta charset" not in text, tpl
            assert "{% extends" in text, tpl
