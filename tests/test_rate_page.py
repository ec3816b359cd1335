"""The rating page (/rate/<counter>) in Debian's chromium against a real server: it arms after a finish, takes
keys 1-5 and touches, asks a reason for a low level, and returns to idle after rating.tablet_idle_seconds."""
from __future__ import annotations

import pytest

from keypad_util import keypad_config, wait_until
from server_util import KIOSK, ServerProcess
from conftest import ARTIFACTS

pytestmark = pytest.mark.browser
IDLE = 2  # rating.tablet_idle_seconds for the test


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ratepage")
    srv = ServerProcess(keypad_config(tmp, [], rating={"tablet_idle_seconds": IDLE}), tmp / "qms.sqlite3",
                        "eventlet").start()
    srv.canbo3 = srv.login("canbo3", "test-staff")
    assert srv.post("/api/v1/counters/3/open", None, srv.canbo3).status_code == 200
    yield srv
    srv.stop()


def finish_one(server, service="civil") -> dict:
    t = server.post("/api/v1/tickets", {"service": service}, KIOSK).json()
    assert server.post("/api/v1/counters/3/next", None, server.canbo3).status_code == 200
    assert server.post(f"/api/v1/tickets/{t['id']}/finish", None, server.canbo3).status_code == 200
    return t


def rating_of(server, ticket_id):
    return server.get(f"/api/v1/tickets/{ticket_id}/rating", server.canbo3).json()


def state(page) -> str:
    return page.locator("body").get_attribute("data-state")


def two_polls(page) -> None:
    """Wait for two of the page's once-a-second polls: the first is then handled in full (the next is scheduled
    only after it), so whatever the page was going to do about the state before it, it has done."""
    for _ in range(2):
        with page.expect_response(lambda r: "/api/v1/rate/" in r.url, timeout=5000):
            page.clock.run_for(1000)  # the page's clock (installed by the test): the next poll is due now


def test_rate_page_arms_takes_keys_asks_a_reason_and_goes_idle(server, browser_page):
    page = browser_page
    page.clock.install()  # the idle timeouts and polls below are run forward, not waited for
    page.goto(server.url + "/rate/3")
    assert state(page) == "idle"
    assert page.locator("#idle h1").inner_text() == "Cảm ơn công dân"
    assert page.locator("#counter-name").inner_text() == "Quầy số 3"

    # A ticket finished at counter 3: the page arms for it, with the scale as large buttons.
    t1 = finish_one(server)
    page.wait_for_selector("body[data-state=armed]", timeout=5000)
    assert page.locator("#code").inner_text() == t1["code"]
    labels = page.locator(".level").all_inner_texts()
    assert [x.split("\n")[0] for x in labels] == ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"]
    box = page.locator(".level").first.bounding_box()
    assert box["height"] >= 200 and box["width"] >= 200  # large enough to touch
    page.screenshot(path=str(ARTIFACTS / "rate-page-armed.png"))

    # Key 3 of the keypad = button 3 = "Chưa hài lòng": a low level, so the page asks why.
    page.keyboard.press("3")
    page.wait_for_selector("body[data-state=reasons]", timeout=5000)
    assert page.locator(".reason").count() == 3
    page.screenshot(path=str(ARTIFACTS / "rate-page-reasons.png"))
    page.keyboard.press("2")  # the second reason
    page.wait_for_selector("body[data-state=thanks]", timeout=3000)
    got = wait_until(lambda: (lambda r: r["rating"] if r["rating"] and r["rating"]["reason"] else None)(
        rating_of(server, t1["id"])), 5, what="the rating with its reason")
    assert (got["level"], got["reason"], got["source"], got["status"]) == (1, "Thái độ phục vụ chưa tốt", "tablet:3",
                                                                            "attributed")
    page.clock.run_for(IDLE * 1000)
    page.wait_for_selector("body[data-state=idle]", timeout=(IDLE + 2) * 1000)

    # Nobody presses: back to idle after tablet_idle_seconds, and not armed again for that ticket.
    t2 = finish_one(server)
    page.wait_for_selector("body[data-state=armed]", timeout=5000)
    assert page.locator("#code").inner_text() == t2["code"]
    page.clock.run_for(IDLE * 1000)
    page.wait_for_selector("body[data-state=idle]", timeout=(IDLE + 2) * 1000)
    two_polls(page)  # a poll after the timeout still offers t2: the page does not arm for it again
    assert state(page) == "idle" and rating_of(server, t2["id"])["presses"] == 0

    # A touch on "Rất hài lòng": no reason asked.
    t3 = finish_one(server)
    page.wait_for_selector("body[data-state=armed]", timeout=5000)
    page.locator(".level[data-level='3']").click()
    page.wait_for_selector("body[data-state=thanks]", timeout=3000)
    got = wait_until(lambda: rating_of(server, t3["id"])["rating"], 5, what="the touch rating")
    assert got["level"] == 3 and got["reason"] is None
    # the page has read the server's answer (it names the level it stored) and stays on thanks
    page.wait_for_function("document.querySelector('#thanks-detail').textContent === 'Rất hài lòng'", timeout=5000)
    assert state(page) == "thanks"  # no reason screen for a positive level
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.keyboard.press("1")  # a key after rating changes nothing
    two_polls(page)  # a rating the key had sent would have gone out before these
    assert posts == [] and rating_of(server, t3["id"])["presses"] == 1


def test_rate_page_in_english_and_from_the_slip(server, browser_page):
    """A phone opens the page from the slip's status page (?ticket=<secret token>): it rates that ticket."""
    page = browser_page
    t = finish_one(server, "records")
    page.goto(f"{server.url}/rate/3?ticket={t['token']}&lang=en")
    page.wait_for_selector("body[data-state=armed]", timeout=5000)
    assert page.locator("#armed h1").inner_text() == "Are you satisfied with the service at this counter?"
    assert page.locator(".level").first.inner_text().split("\n")[0] == "Very satisfied"
    page.keyboard.press("Numpad2")
    page.wait_for_selector("body[data-state=thanks]", timeout=3000)
    got = wait_until(lambda: rating_of(server, t["id"])["rating"], 5, what="the slip's rating")
    assert got["level"] == 2 and got["status"] == "attributed"
    page.screenshot(path=str(ARTIFACTS / "rate-page-thanks.png"))
