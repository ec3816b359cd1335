"""Priority by age from the citizen identity card (issue 13 item 3): the core's rule by tables
(core/age_priority.py), and the kiosk's issue action with `cccd_qr` in process, by REST and Socket.IO: the age on
the centre's local day at the boundaries, a missing or disagreeing birth date, a malformed QR (400, nothing
changed), who may send one, and nothing of the card kept: not in any table, the database's files, the log."""
from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, timezone

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from queue_server.core.age_priority import AgeGroup, group_for_age, least_age
from queue_server.core.errors import DomainError
from server_util import server_config

KIOSK = {"Authorization": "Bearer test-kiosk-token-1"}
GROUPS = [{"id": "elderly", "name": "Người cao tuổi", "name_en": "Elderly", "min_age": 60},
          {"id": "disabled", "name": "Người khuyết tật", "name_en": "People with disabilities"},
          {"id": "elderly_80", "name": "Người cao tuổi từ 80", "name_en": "Aged 80 and over", "min_age": 80}]
NAME = "Nguyễn Thị Hồng Nhung"  # a name with every kind of Vietnamese mark, to look for in the files


def card(number: str, birth: str, name: str = NAME) -> str:
    """A chip card's QR text: number | old ID | name | birth ddmmyyyy | gender | address | issue date."""
    return f"{number}|123456789|{name}|{birth}|Nữ|Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"


# ------------------------------------------------------------------ the core's rule, by tables
AGE_GROUPS = [AgeGroup("elderly", 60), AgeGroup("elderly_75", 75), AgeGroup("also_60", 60)]


@pytest.mark.parametrize("age, wanted, group", [
    (60, None, "elderly"), (74, None, "elderly"), (75, None, "elderly_75"), (101, None, "elderly_75"),
    (75, "elderly", "elderly"),  # a group asked for by name, reached
    (60, "also_60", "also_60"),
])
def test_the_oldest_group_reached_is_taken_the_first_listed_on_a_tie(age, wanted, group):
    assert group_for_age(AGE_GROUPS, age, wanted) == group


@pytest.mark.parametrize("groups, age, wanted, code, min_age", [
    (AGE_GROUPS, 59, None, "priority_age_not_met", 60),
    (AGE_GROUPS, 0, None, "priority_age_not_met", 60),
    (AGE_GROUPS, 74, "elderly_75", "priority_age_not_met", 75),
    ([], 90, None, "priority_by_age_off", None),
    (AGE_GROUPS, 90, "disabled", "priority_by_age_off", None),  # a group with no min_age is not given by age
])
def test_too_young_or_no_group_by_age_is_refused(groups, age, wanted, code, min_age):
    with pytest.raises(DomainError) as err:
        group_for_age(groups, age, wanted)
    assert err.value.code == code and err.value.params.get("min_age") == min_age


@pytest.mark.parametrize("birth, year, today, age", [
    (date(1966, 11, 25), 1966, date(2026, 11, 25), 60),  # the birthday itself
    (date(1966, 11, 26), 1966, date(2026, 11, 25), 59),  # the day before it
    (date(1964, 2, 29), 1964, date(2026, 2, 28), 61),
    (date(1964, 2, 29), 1964, date(2026, 3, 1), 62),
    (None, 1966, date(2026, 11, 25), 59),  # no date: born on 31 December of the year, the least the card proves
    (None, 1966, date(2026, 12, 31), 60),
    (None, 1965, date(2026, 1, 1), 60),
])
def test_the_age_is_what_the_card_proves(birth, year, today, age):
    assert least_age(birth, year, today) == age


# ------------------------------------------------------------------ the issue action, in process
@pytest.fixture(scope="module")
def clock():
    return Clock()


@pytest.fixture(scope="module")
def site(tmp_path_factory, clock):
    tmp = tmp_path_factory.mktemp("age-priority")
    path = server_config(tmp, now=clock(), extra_counters=0)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["centre"]["timezone"] = "Asia/Ho_Chi_Minh"  # the local day differs from UTC's in the small hours
    data["priority"]["groups"] = GROUPS  # kiosk_self_service stays false: the card is the proof
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = InProcessServer(path, tmp / "qms.sqlite3", clock)
    yield srv
    srv.close()


def fingerprint(site) -> tuple[int, str]:
    store = site.ctx.store
    return store.last_seq(), hashlib.sha256("\n".join(store.conn.iterdump()).encode()).hexdigest()


def issue(site, qr: str, **extra):
    return site.post("/api/v1/tickets", json={"service": "cccd", "cccd_qr": qr, **extra}, headers=KIOSK)


# 2026-11-24 18:30 UTC is 01:30 on Wednesday 25 November in Hà Nội: the card's age counts the centre's day.
SMALL_HOURS = datetime(2026, 11, 24, 18, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("number, birth, group", [
    ("001166012345", "25111966", "elderly"),  # 60 today, the centre's day (still the 24th in UTC)
    ("001166012345", "24111966", "elderly"),
    ("001146012345", "25111946", "elderly_80"),  # 80 today: the oldest group reached
    ("001146012345", "26111946", "elderly"),  # 80 tomorrow
    ("001165012345", "", "elderly"),  # no date: born at the latest on 31/12/1965, so 60
    ("001165012345", "31021965", "elderly"),  # an impossible date counts as none
])
def test_a_card_old_enough_takes_a_priority_ticket_of_its_group(site, clock, number, birth, group):
    clock.now = SMALL_HOURS
    r = issue(site, card(number, birth))
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["priority"] is True and body["priority_group"] == group
    t = site.ctx.store.ticket(body["id"])
    assert (t["priority"], t["priority_group"], t["source"]) == (1, group, "priority")


@pytest.mark.parametrize("number, birth, min_age", [
    ("001166012345", "26111966", 60),  # 60 tomorrow
    ("001166012345", "", 60),  # no date, born in 1966: may be 59 today
    ("001166012345", "25111967", 60),  # a date that disagrees with the number's year counts as none
    ("001206012345", "01012006", 60),  # born in 2006 (century digit 2)
])
def test_a_card_too_young_is_told_and_changes_nothing(site, clock, number, birth, min_age):
    clock.now = SMALL_HOURS
    before = fingerprint(site)
    r = issue(site, card(number, birth))
    assert r.status_code == 409, r.json()
    assert r.json()["error"] == "priority_age_not_met" and r.json()["min_age"] == min_age
    assert "chưa đủ tuổi" in r.json()["message"] and "số thường" in r.json()["message"]
    en = site.post("/api/v1/tickets?lang=en", json={"service": "cccd", "cccd_qr": card(number, birth)}, headers=KIOSK)
    assert "normal number" in en.json()["message"]
    assert fingerprint(site) == before


@pytest.mark.parametrize("qr", [
    "xin chào", "|||", "0011660123|x|Tên|25111966", "000166012345|1|A|25111966",  # unknown province 000
    "001966012345|1|A|25111966",  # born in 2366
    "001166012345" + "|x" * 600,  # past any card's length
    "https://dichvucong.gov.vn/booking/ABCD2345",
])
def test_a_malformed_qr_is_a_400_that_changes_nothing(site, clock, qr):
    clock.now = SMALL_HOURS
    before = fingerprint(site)
    r = issue(site, qr)
    assert r.status_code == 400, r.json()
    assert r.json()["error"] in ("cccd_qr_unreadable", "bad_request")
    assert qr not in r.text
    assert fingerprint(site) == before


def test_who_may_send_a_card_and_which_group(site, clock):
    clock.now = SMALL_HOURS
    qr = card("001146012345", "25111946")
    before = fingerprint(site)
    assert site.post("/api/v1/tickets", json={"service": "cccd", "cccd_qr": qr}).status_code == 401
    agent = site.post("/api/v1/tickets", json={"service": "cccd", "cccd_qr": qr},
                      headers={"Authorization": "Bearer test-agent-token-1"})
    assert agent.status_code == 403
    assert issue(site, qr, priority_group="disabled").json()["error"] == "priority_by_age_off"
    assert issue(site, qr, priority_group="nobody").json()["error"] == "priority_by_age_off"
    assert fingerprint(site) == before
    # without a card the kiosk still may not choose priority itself (priority.kiosk_self_service: false)
    assert site.post("/api/v1/tickets", json={"service": "cccd", "priority_group": "elderly"},
                     headers=KIOSK).status_code == 403
    # a group asked for by name and reached
    assert issue(site, qr, priority_group="elderly").json()["priority_group"] == "elderly"


def test_the_socket_action_is_the_same_model(site, clock):
    clock.now = SMALL_HOURS
    s = site.socket({"room": "kiosk:kiosk-1", "token": "test-kiosk-token-1"})
    try:
        ok = s.call("action", {"op": "issue", "service": "passport", "cccd_qr": card("001146012345", "01011946")})
        assert ok["ok"] is True and ok["priority_group"] == "elderly_80" and ok["service"] == "passport"
        young = s.call("action", {"op": "issue", "service": "passport", "cccd_qr": card("001206012345", "01012006")})
        assert young["ok"] is False and young["error"] == "priority_age_not_met"
        bad = s.call("action", {"op": "issue", "service": "passport", "cccd_qr": "not a card"})
        assert bad["ok"] is False and bad["error"] == "cccd_qr_unreadable"
    finally:
        s.close()


def test_nothing_of_the_card_is_kept_nor_logged(site, clock, caplog):
    clock.now = SMALL_HOURS
    number, name, address = "079153004321", "Trần Văn Thắng", "Số 5 Lê Lợi, Quận 1"
    qr = f"{number}|987654321|{name}|07061953|Nam|{address}|15082022"
    with caplog.at_level(logging.DEBUG):
        r = issue(site, qr)
        assert r.status_code == 201 and r.json()["priority_group"] == "elderly"
        assert issue(site, qr.replace("07061953", "07061993").replace("079153", "079193")).status_code == 409
        assert issue(site, number + "|" + "x" * 2000).status_code == 400
        s = site.socket({"room": "kiosk:kiosk-1", "token": "test-kiosk-token-1"})
        assert s.call("action", {"op": "issue", "service": "cccd", "cccd_qr": qr})["ok"] is True
        s.close()
    store = site.ctx.store
    dump = "\n".join(store.conn.iterdump())
    files = b"".join(p.read_bytes() for p in site.db.parent.glob(site.db.name + "*"))
    secrets = [number, "079193", name, address, "07061953", "987654321", "1953-06-07", "15082022"]
    for secret in secrets:
        assert secret not in dump, secret
        assert secret.encode() not in files and secret.encode("utf-16-le") not in files, secret
        assert not [rec for rec in caplog.records if secret in rec.getMessage()], secret
    assert hashlib.sha256(number.encode()).hexdigest() not in dump  # not even a hash
    # what is kept: the group, on the ticket and in its ticket.issued event
    t = store.ticket(r.json()["id"])
    assert t["priority_group"] == "elderly" and t["source"] == "priority"


def test_a_failing_socket_action_logs_its_op_not_the_card(site, clock, caplog, monkeypatch):
    """An unexpected error in an action is logged (the ack says internal), naming the op, never its fields."""
    clock.now = SMALL_HOURS
    qr = card("001146012345", "25111946")

    def broken(*a, **kw):
        raise RuntimeError("the store is gone")

    monkeypatch.setattr(site.ctx.commands, "issue", broken)
    s = site.socket({"room": "kiosk:kiosk-1", "token": "test-kiosk-token-1"})
    try:
        with caplog.at_level(logging.DEBUG):
            ack = s.call("action", {"op": "issue", "service": "cccd", "cccd_qr": qr})
    finally:
        s.close()
    assert ack["ok"] is False and ack["error"] == "internal"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "'issue'" in logged and "001146012345" not in logged and NAME not in logged


@pytest.mark.parametrize("min_age, ok", [(60, True), (1, True), (130, True), (0, False), (131, False),
                                         (60.5, False)])
def test_min_age_is_a_whole_number_of_years(min_age, ok):
    from pathlib import Path

    from queue_server.config import ConfigError, parse_config

    text = (Path(__file__).parent / "fixtures" / "centre.yaml").read_text(encoding="utf-8")
    text = text.replace("{id: elderly, name: Người cao tuổi, name_en: Elderly}",
                        "{id: elderly, name: Người cao tuổi, name_en: Elderly, min_age: %s}" % yaml.safe_dump(min_age).split("\n")[0])
    if ok:
        assert parse_config(text).priority.groups[0].min_age == min_age
    else:
        with pytest.raises(ConfigError) as err:
            parse_config(text)
        assert "priority.groups.0.min_age" in str(err.value) or "priority.groups[0].min_age" in str(err.value)
