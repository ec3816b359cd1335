"""The admin page's webhook section in Debian's chromium at 1366x768: each receiver's pending, delivered and dead
events in words, the event it waits on with its last error, its dead letters; a long address wraps inside the
card; Vietnamese, then English. The page's requests are answered by the server in this process (as in
test_report_admin_pages.py)."""
from __future__ import annotations

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from server_util import server_config
from test_report_admin_pages import WIDTHS, routed_context, sign_in
from webhook_receiver import Receiver

pytestmark = pytest.mark.browser

LONG_URL = "http://127.0.0.1:{port}/tiep-nhan-su-kien/" + "trung-tam-phuc-vu-hanh-chinh-cong-tinh-" * 4 + "qms"


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """Three tickets issued: the first a dead letter after 2 attempts, the second delivered, the third pending
    after a failed attempt."""
    tmp = tmp_path_factory.mktemp("webhook-admin")
    rec = Receiver().start()
    clock = Clock()
    path = server_config(tmp, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["integrations"] = {"webhooks": [{"id": "cong-tinh", "url": LONG_URL.format(port=rec.port),
                                          "secret": "bi-mat-cong-tinh-0123456789", "events": ["ticket.issued"],
                                          "max_attempts": 2, "retry_seconds": 30}]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    site = InProcessServer(path, tmp / "qms.sqlite3", clock)
    for _ in range(3):
        site.ctx.store.issue("cccd")
    seqs = [r[0] for r in site.ctx.store.conn.execute("SELECT id FROM events WHERE type = 'ticket.issued' ORDER BY id")]
    rec.fail_ids = {seqs[0], seqs[2]}
    sender = site.app.extensions["qms_webhooks"]
    assert sender.send_all_due() == 1
    clock.advance(30)
    assert sender.send_all_due() == 3
    try:
        yield site, seqs, rec.port
    finally:
        site.close()
        rec.stop()


def test_the_admin_page_shows_each_receivers_delivery_state(failing, chromium):
    site, (dead, delivered, waiting), port = failing
    context = routed_context(chromium, site)
    try:
        page = context.new_page()
        sign_in(page, "/admin", "admin", "test-admin")
        box = page.wait_for_selector('#webhooks [data-webhook="cong-tinh"]')
        counts = page.locator('#webhooks [data-count]').all_inner_texts()
        assert counts == ["Đang chờ gửi: 1", "Đã gửi: 1", "Không gửi được: 1"]
        assert page.locator(f'[data-first-pending="{waiting}"]').inner_text().startswith(
            f"Sự kiện số {waiting} đang chờ: đã thử 1 lần, thử lại lúc")
        assert page.locator("[data-last-error]").inner_text() == "Lỗi gần nhất: HTTP 500"
        assert page.locator(f'[data-last-delivered="{delivered}"]').count() == 1
        cells = page.locator(f'tr[data-dead="{dead}"] td').all_inner_texts()
        assert cells[:4] == [str(dead), "Phát số", "2", "HTTP 500"]  # the event in words, not its code
        url = page.locator(".wh-url")
        assert url.inner_text() == LONG_URL.format(port=port)
        fits = page.evaluate("""() => {
            const card = document.querySelector('#webhooks-card').getBoundingClientRect();
            const url = document.querySelector('.wh-url').getBoundingClientRect();
            const c = document.querySelector('#webhooks-card');
            return {inside: url.right <= card.right + 1 && url.left >= card.left - 1,
                    scroll: c.scrollWidth <= c.clientWidth + 1};
        }""")
        assert fits == {"inside": True, "scroll": True}, fits
        widths = page.evaluate(WIDTHS)
        assert widths["page"] <= widths["window"], widths
        assert "bi-mat-cong-tinh" not in box.inner_text()

        page.click("#btn-lang")
        page.wait_for_function("() => document.querySelector('#webhooks [data-count=dead]').textContent === 'Dead letters: 1'")
        assert page.locator("#webhooks-card h2").inner_text() == "Webhooks: events sent to other systems"
        assert page.locator(f'tr[data-dead="{dead}"] td[data-type]').inner_text() == "Ticket issued"
    finally:
        context.close()
