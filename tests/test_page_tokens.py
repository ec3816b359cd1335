"""Device tokens handed to a page in its address (?token=...): the server never writes them into the page, every
device page is sent with `Referrer-Policy: no-referrer`, and the display page keeps its token in the browser
and takes it out of the address bar, yet still joins its room with it (also after a reload without it)."""
from __future__ import annotations

import json

import pytest
import yaml

from inproc import InProcessServer
from server_util import ServerProcess, server_config

SECRET = "S3cr3t-display-token-4711"


def with_display_tokens(tmp_path, now=None):
    """The test centre with a token on hall-a and a counter display above counter 1."""
    path = server_config(tmp_path, extra_counters=0, now=now)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for d in data["devices"]["displays"]:
        if d["id"] == "hall-a":
            d["token"] = SECRET
    data["devices"]["displays"].append({"id": "counter-1", "name": "Màn hình quầy 1", "kind": "counter",
                                        "counter": "1"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path, clock):
    """The in-process server (the `client` fixture's) on the centre above."""
    srv = InProcessServer(with_display_tokens(tmp_path, now=clock()), tmp_path / "qms.sqlite3", clock)
    yield srv
    srv.close()


@pytest.mark.parametrize("path, status", [
    ("/display/hall-a", 200),          # the hall board
    ("/display/counter-1", 200),       # the counter display kind
    ("/display/no-such-display", 404),  # the 404 page listing the displays
    ("/kiosk/kiosk-1", 200),           # the ticket machine
    ("/rate/1", 200),                  # the rating tablet
])
def test_a_device_page_never_carries_its_token_and_sends_no_referrer(client, path, status):
    resp = client.get(f"{path}?voice=off&token={SECRET}")
    assert resp.status_code == status
    html = resp.get_data(as_text=True)
    assert SECRET not in html
    assert resp.headers.get("Referrer-Policy") == "no-referrer"


def test_the_display_start_command_keeps_the_other_query_words(client):
    html = client.get(f"/display/hall-a?token={SECRET}&voice=browser").get_data(as_text=True)
    assert 'no-user-gesture-required http://localhost/display/hall-a?voice=browser"' in html  # the badge's title
    assert "Màn hình quầy 1" in client.get(f"/display/counter-1?token={SECRET}").get_data(as_text=True)


# ------------------------------------------------------------------ in a browser
@pytest.fixture
def server(tmp_path):
    srv = ServerProcess(with_display_tokens(tmp_path), tmp_path / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


def socket_auth_sent(page) -> list[dict]:
    """Collect the Socket.IO CONNECT packets (`40{...}`) the page sends, over polling or a WebSocket."""
    sent: list[dict] = []

    def take(text) -> None:
        for part in (text or "").split("\x1e"):
            if part.startswith("40{"):
                sent.append(json.loads(part[2:]))

    page.on("request", lambda req: take(req.post_data) if req.method == "POST" and "/socket.io/" in req.url else None)
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: take(payload if isinstance(payload, str) else "")))
    return sent


@pytest.mark.browser
def test_the_display_takes_its_token_out_of_the_address_and_still_joins_with_it(server, browser_page):
    page = browser_page
    sent = socket_auth_sent(page)
    page.goto(f"{server.url}/display/hall-a?voice=off&token={SECRET}")
    page.wait_for_function("window.qmsDisplay && window.qmsDisplay.snapSeq >= 0", timeout=10_000)
    assert SECRET not in page.url and page.url.endswith("/display/hall-a?voice=off")
    assert SECRET not in page.content()
    assert SECRET not in page.evaluate("document.getElementById('sound-badge').outerHTML")
    assert [a.get("token") for a in sent] == [SECRET]
    assert sent[0]["room"] == "display:hall-a"

    # a reload without the token (the TV restarted on its plain start URL) joins with the kept token
    page.goto(f"{server.url}/display/hall-a?voice=off")
    page.wait_for_function("window.qmsDisplay && window.qmsDisplay.snapSeq >= 0", timeout=10_000)
    assert [a.get("token") for a in sent] == [SECRET, SECRET]
    assert page.get_attribute("body", "data-conn") == "online"
