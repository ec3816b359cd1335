"""The notices in Debian's chromium (issue 13 item 6), answered by the server in this process: the admin page's
outbox section (states in words, phone numbers masked, a dead message sent again, nothing wider than its card),
the supervisor's broadcast box, and the message on a waiting ticket's status page on a phone (on one line of
its own, inside the screen, diacritics kept)."""
from __future__ import annotations

import pytest

from conftest import ARTIFACTS, Clock
from inproc import make_server
from queue_server.store import notifications as outbox
from test_report_admin_pages import BASE, WIDTHS, routed_context, sign_in

pytestmark = pytest.mark.browser
TEXT = ("Quầy 5 tạm dừng tiếp nhận 15 phút do sự cố đường truyền; công dân vui lòng chờ, số thứ tự được giữ nguyên "
        "và sẽ được gọi lần lượt ngay khi quầy hoạt động trở lại")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    srv = make_server(tmp_path_factory.mktemp("notices-pages"), Clock())
    store = srv.ctx.store
    store.set_counter_state("5", "open")
    srv.tickets = [store.issue("civil", phone=f"09110000{i:02d}").ticket for i in range(3)]
    srv.otp = outbox.queue_message(store, kind="otp", to_phone="0912345678", body="Mã xác nhận đặt lịch: 482913")
    srv.dead = outbox.queue_message(store, kind="broadcast", to_phone="0987654321",
                                    body="Trung tâm Kiểm thử - số A009: Hồ sơ đất đai tạm dừng đến 14 giờ")
    with store.writer.transaction() as c:  # given up on, as the sender leaves it after max_attempts
        c.execute("UPDATE messages SET state = 'dead', attempts = 6, last_error = 'HTTP 503' WHERE id = ?", (srv.dead,))
    srv.app.extensions["qms_notices"].step()  # the near notices queued, everything due kept in the outbox
    yield srv
    srv.close()


def test_the_admin_page_shows_the_outbox_masked_and_sends_a_dead_message_again(site, chromium):
    context = routed_context(chromium, site)
    try:
        page = context.new_page()
        sign_in(page, "/admin", "admin", "test-admin")
        page.wait_for_selector(f'#messages tr[data-message="{site.dead}"]')
        assert page.locator("#messages [data-count]").all_inner_texts() == ["Chờ gửi: 0", "Đã gửi: 4", "Gửi thất bại: 1"]
        otp = page.locator(f'tr[data-message="{site.otp}"]')
        assert otp.locator("[data-to]").inner_text() == "•••••••678"
        assert otp.locator("[data-body]").inner_text() == "Mã xác nhận đặt lịch: ••••••"
        assert "giữ trong hộp thư đi (demo)" in otp.inner_text()
        assert "Chế độ demo" in page.locator("[data-backend]").inner_text()
        text = page.locator("#messages").inner_text()
        assert "482913" not in text and "0912345678" not in text and "Sắp đến lượt: số A001" in text
        dead = page.locator(f'tr[data-message="{site.dead}"]')
        assert "Gửi thất bại" in dead.inner_text() and "HTTP 503" in dead.inner_text()
        widths = page.evaluate(WIDTHS)
        assert widths["page"] <= widths["window"] and widths["cards"] == [], widths
        page.click(f'[data-retry="{site.dead}"]')
        page.wait_for_selector(f'tr[data-message="{site.dead}"][data-state="pending"]')
        assert page.locator(f'[data-retry="{site.dead}"]').count() == 0
        assert outbox.message(site.ctx.store, site.dead)["state"] == "pending"
        page.select_option("#mo-state", "pending")
        page.wait_for_function("() => document.querySelectorAll('#messages tbody tr').length === 1")
        page.click("#btn-lang")
        page.wait_for_function("() => document.querySelector('#messages [data-count=dead]').textContent === 'Failed: 0'")
    finally:
        context.close()


def test_a_supervisors_broadcast_shows_on_a_waiting_tickets_status_page_on_a_phone(site, chromium):
    context = routed_context(chromium, site)
    context.route(BASE + "/socket.io/**", lambda route: route.abort())  # no live link here: the page's data shows it
    try:
        page = context.new_page()
        sign_in(page, "/supervisor", "super", "test-super")
        page.wait_for_selector("#bc-service option[value=civil]", state="attached")
        page.select_option("#bc-service", "civil")
        page.fill("#bc-text", TEXT)
        page.click("#bc-send")
        page.wait_for_function("() => document.querySelector('#bc-result').textContent.startsWith('Đã gửi')")
        assert page.locator("#bc-result").inner_text() == (
            "Đã gửi: hiện trên màn hình và trang theo dõi của 3 số đang chờ; 3 tin nhắn SMS/Zalo.")
        phone = context.new_page()
        phone.set_viewport_size({"width": 360, "height": 740})
        phone.goto(BASE + "/t/" + site.tickets[1]["token"])
        box = phone.locator("#service-notice")
        box.wait_for(state="visible")
        assert box.inner_text() == TEXT
        fits = phone.evaluate("""() => {
            const b = document.querySelector('#service-notice'), r = b.getBoundingClientRect();
            return {inside: r.left >= 0 && r.right <= window.innerWidth, scroll: b.scrollWidth <= b.clientWidth + 1,
                    page: document.documentElement.scrollWidth <= window.innerWidth};
        }""")
        assert fits == {"inside": True, "scroll": True, "page": True}, fits
        shot = ARTIFACTS / "notices-status-page.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        phone.screenshot(path=str(shot))
        assert shot.stat().st_size > 5000
    finally:
        context.close()
