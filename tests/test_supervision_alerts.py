"""The supervisor's alerts and words, in process: the first alert names each service with people waiting and no
open counter; a device's name and detail as the server writes them ("counter 1", "disconnected") read in
Vietnamese too; a refusal names a counter's state or a ticket's status in the message's own language. The same
centre turns the counter terminal's chime and "next" question off: the terminal page is given those settings."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from server_util import AGENT, KIOSK, server_config
from queue_server.core.errors import DomainError
from queue_server.web.supervision import current_alerts


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The test centre in this process, with an LED board above counter 1 driven by agent-1; one for the module
    (the tests run in order: the first finds no device alert, the last puts counter 1 on a break again)."""
    tmp, clock = tmp_path_factory.mktemp("alerts"), Clock()
    path = server_config(tmp, extra_counters=0, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["led_boards"] = [{"id": "led-1", "counter": "1", "port": "loop://", "agent": "agent-1"}]
    data["terminal"] = {"chime": False, "confirm_next": False}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = InProcessServer(path, tmp / "qms.sqlite3", clock)
    yield srv
    srv.close()


@pytest.fixture
def sio(site):
    made = []
    yield lambda auth: made.append(site.socket(auth)) or made[-1]
    for c in made:
        c.close()


def issue(site, service: str) -> None:
    r = site.post("/api/v1/tickets", {"service": service}, KIOSK)
    assert r.status_code == 201, r.text


def test_the_first_alert_names_each_service_with_people_waiting_and_no_open_counter(site):
    sup = site.login("super", "test-super")
    for service in ("cccd", "cccd", "civil"):
        issue(site, service)
    state = site.get("/api/v1/supervisor/state", sup).json()
    ids = [a["id"] for a in state["alerts"]]
    assert ids[:2] == ["no_counter:cccd", "no_counter:civil"], ids
    first = state["alerts"][0]
    assert first["level"] == "error"
    assert first["message"] == "Cấp đổi căn cước: 2 công dân chờ, không có quầy mở"
    assert first["message_en"] == "Identity card: 2 waiting, no counter open"
    assert "no_counter:passport" not in ids  # nobody waits for it
    # the background check (alerts.updated) says the same
    assert [a["id"] for a in current_alerts(site.ctx)][:2] == ids[:2]

    # counter 1 (cccd, passport) opens: cccd has a counter now; a counter on break does not count as open
    staff = site.login("canbo1", "test-staff")
    assert site.post("/api/v1/counters/1/open", {}, staff).status_code == 200
    ids = [a["id"] for a in site.get("/api/v1/supervisor/state", sup).json()["alerts"]]
    assert "no_counter:cccd" not in ids and ids[0] == "no_counter:civil"
    assert site.post("/api/v1/counters/1/break", {}, staff).status_code == 200
    assert [a["id"] for a in current_alerts(site.ctx)][:2] == ["no_counter:cccd", "no_counter:civil"]


def test_a_device_reads_in_vietnamese_in_vietnamese(site):
    sup = site.login("super", "test-super")
    r = site.post("/api/v1/devices/led_board/led-1/status", {"state": "offline", "detail": "disconnected"}, AGENT)
    assert r.status_code == 200, r.text
    state = site.get("/api/v1/supervisor/state", sup).json()
    led = next(d for d in state["devices"] if d["kind"] == "led_board")
    assert (led["name"], led["detail"]) == ("counter 1", "disconnected")  # what was stored is kept
    assert led["label"] == {"vi": "quầy 1", "en": "counter 1"}
    assert led["detail_text"] == {"vi": "mất kết nối", "en": "disconnected"}
    alert = next(a for a in state["alerts"] if a["id"] == "device:led_board:led-1")
    assert alert["message"] == "Bảng LED led-1: mất kết nối"  # the detail says the state again: once is enough
    assert alert["message_en"] == "LED board led-1: offline (disconnected)"


def test_a_refusal_names_states_in_its_own_language(site, sio):
    err = DomainError("counter_not_open", counter=1, state="break")
    assert err.message("vi") == "Quầy 1 chưa mở (tạm nghỉ)."
    assert err.message("en") == "Counter 1 is not open (it is on break)."
    assert err.to_dict("vi")["state"] == "break"  # the machine-readable value stays the code
    assert DomainError("not_waiting", code="1001", status="no_show").message("vi") == "Số 1001 không ở trạng thái chờ (vắng)."

    # over the socket, in the language the terminal connected with
    staff = site.login("canbo1", "test-staff")
    assert site.post("/api/v1/counters/1/open", {}, staff).status_code == 200
    assert site.post("/api/v1/counters/1/break", {}, staff).status_code == 200
    token = staff["Authorization"].split()[1]
    for lang, words, foreign in (("vi", "Quầy 1 chưa mở (tạm nghỉ).", "break"),
                                 ("en", "Counter 1 is not open (it is on break).", "nghỉ")):
        s = sio({"room": "counter:1", "token": token, "lang": lang})
        ack = s.call("action", {"op": "next", "counter": "1", "current": None})
        assert ack["ok"] is False and ack["error"] == "counter_not_open"
        assert ack["message"] == words and foreign not in ack["message"]


@pytest.mark.parametrize("text, vi", [
    ("counter 108", "quầy 108"),
    ("not heard from for 42 s", "không nhận được tín hiệu 42 giây"),
    ("no printer agent connected for kiosk kiosk-1", "chưa có máy trạm in phiếu nối với máy lấy số kiosk-1"),
    ("the printer agent did not report the slip printed within 7.5 s", "máy trạm in phiếu không báo đã in xong trong 7.5 giây"),
    ("kẹt giấy ở khay 2", "kẹt giấy ở khay 2"),  # an agent's own words are shown as they are
])
def test_device_words_in_both_languages(text, vi):
    from queue_server.web.supervision import device_words

    assert device_words(text) == {"vi": vi, "en": text}


def test_the_terminal_page_is_given_its_settings(site):
    html = site.get("/counter").text
    data = json.loads(re.search(r'<script[^>]*id="qms-page"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert (data["chime"], data["confirm_next"], data["next_with_open_ticket"]) == (False, False, "finish")
