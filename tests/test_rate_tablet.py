"""The rating tablet at a counter, in Debian's chromium against a real server, with its device token: it follows
the ticket the counter finished last (a newer finish replaces the ticket shown at once, within the idle time),
thanks only after the server accepted the rating, and says a refusal in the same large type as a thank-you."""
from __future__ import annotations

import pytest

from conftest import ARTIFACTS
from keypad_util import keypad_config, wait_until
from server_util import KIOSK, ServerProcess

pytestmark = pytest.mark.browser
IDLE = 30  # long: whatever the page shows within a test is not an idle timeout
TABLET_TOKEN = "test-display-counter-3"  # counter 3's display token: the device at that counter


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ratetablet")
    # max_presses_recorded 2: a ticket pressed twice elsewhere is refused at the tablet (too_many_presses)
    srv = ServerProcess(keypad_config(tmp, [], rating={"tablet_idle_seconds": IDLE,
                                                       "flags": {"max_presses_recorded": 2}}),
                        tmp / "qms.sqlite3", "eventlet").start()
    srv.canbo3 = srv.login("canbo3", "test-staff")
    assert srv.post("/api/v1/counters/3/open", None, srv.canbo3).status_code == 200
    yield srv
    srv.stop()


@pytest.fixture
def tablet(chromium):
    """A 1280x800 tablet with touch."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def finish_one(server, service="civil") -> dict:
    t = server.post("/api/v1/tickets", {"service": service}, KIOSK).json()
    assert server.post("/api/v1/counters/3/next", None, server.canbo3).status_code == 200
    assert server.post(f"/api/v1/tickets/{t['id']}/finish", None, server.canbo3).status_code == 200
    return t


def armed_for(page, ticket: dict, timeout_ms: int = 4000) -> None:
    page.wait_for_function("code => document.body.dataset.state === 'armed' && "
                           "document.querySelector('#code').textContent === code", arg=ticket["code"], timeout=timeout_ms)


def font_px(page, selector: str) -> float:
    return page.locator(selector).evaluate("e => parseFloat(getComputedStyle(e).fontSize)")


def test_tablet_follows_the_newest_finished_ticket_and_thanks_after_the_server(server, tablet):
    page = tablet
    page.goto(f"{server.url}/rate/3?token={TABLET_TOKEN}")
    assert "token" not in page.url  # kept by the page, not left in the address bar
    t1 = finish_one(server)
    armed_for(page, t1)
    # The counter finishes the next citizen well within the idle time: the tablet shows that ticket at once.
    t2 = finish_one(server)
    armed_for(page, t2, timeout_ms=3000)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/ratings") and r.request.method == "POST") as info:
        page.locator(".level[data-level='3']").tap()
    assert info.value.status == 201
    page.wait_for_selector("body[data-state=thanks]", timeout=3000)
    assert page.locator("#thanks h1").inner_text() == "Cảm ơn công dân đã đánh giá!"
    assert page.locator("#thanks-detail").inner_text() == "Rất hài lòng"
    got = server.get(f"/api/v1/tickets/{t2['id']}/rating", server.canbo3).json()
    assert got["rating"]["level"] == 3 and got["rating"]["status"] == "attributed"
    assert got["rating"]["source"] == "tablet:3"
    assert server.get(f"/api/v1/tickets/{t1['id']}/rating", server.canbo3).json()["presses"] == 0
    shot = ARTIFACTS / "rate-tablet-thanks.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 5000 and page.locator("#thanks h1").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # A ticket finished while the thank-you shows: the tablet arms for it, not waiting out the idle time.
    t3 = finish_one(server)
    armed_for(page, t3, timeout_ms=3000)
    assert page.locator("#idle h1").inner_text(timeout=1000) == "Cảm ơn công dân"


def test_a_refused_rating_is_said_plainly_in_large_type(server, tablet):
    page = tablet
    page.goto(f"{server.url}/rate/3?token={TABLET_TOKEN}")
    t = finish_one(server, "records")
    armed_for(page, t)
    thanks_h1 = font_px(page, "#thanks h1")
    # The ticket is rated twice from its slip (the phone) while the tablet shows it: the server refuses a third press.
    for i in range(2):
        r = server.post("/api/v1/ratings", {"id": f"slip-press-{i}-x", "counter": "3", "ticket_token": t["token"],
                                            "level": 2, "age_ms": 0}, None)
        assert r.status_code == 201, r.text
    with page.expect_response(lambda r: r.url.endswith("/api/v1/ratings") and r.request.method == "POST") as info:
        page.keyboard.press("1")
    assert info.value.status == 409 and info.value.json()["error"] == "too_many_presses"
    page.wait_for_selector("body[data-state=refused]", timeout=3000)
    assert page.locator("#thanks").is_hidden(), "no thank-you for a rating the server refused"
    assert page.locator("#refused h1").inner_text() == "Đánh giá chưa được ghi nhận"
    assert page.locator("#refused-detail").inner_text() == f"Số {t['code']} đã được bấm đánh giá quá nhiều lần."
    # as large as the thank-you, and readable: the heading at least 24 px, the reason at least 20 px, in the viewport
    assert font_px(page, "#refused h1") >= max(24, thanks_h1 * 0.99)
    assert font_px(page, "#refused-detail") >= 20
    box = page.locator("#refused").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 800
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    path = ARTIFACTS / "rate-tablet-refused.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 5000
    assert wait_until(lambda: server.get(f"/api/v1/tickets/{t['id']}/rating", server.canbo3).json()["presses"] == 2,
                      3, what="the two slip presses only")


def test_a_tablet_whose_device_token_is_refused_says_so(server, tablet):
    """A tablet given a wrong device token: the server refuses its check for what to rate (401), and the page says
    why at once, before any citizen presses in vain; it never arms."""
    page = tablet
    page.goto(f"{server.url}/rate/3?token=not-a-device-token-of-this-centre")
    page.wait_for_selector("body[data-state=refused]", timeout=3000)
    assert page.locator("#refused-detail").inner_text() == "Cần đăng nhập hoặc mã thiết bị hợp lệ."
    t = finish_one(server)
    page.wait_for_timeout(1500)  # a poll after the finish: still refused, not armed
    assert page.evaluate("document.body.dataset.state") == "refused"
    assert page.evaluate("document.body.dataset.ticket || ''") != str(t["id"])
    assert server.get(f"/api/v1/tickets/{t['id']}/rating", server.canbo3).json()["presses"] == 0
