"""Dossier look-up: the masking and mapping rules, the http source against the fake one-stop server in two
vendors' shapes, a source that hangs, fails or answers garbage, the file import, and the REST route."""
from __future__ import annotations

import io
import json
import time

import pytest

from conftest import Clock
from dossier_util import OneStop, dossier_config, http_a, http_b
from inproc import InProcessServer
from queue_server.config import ConfigError, DossierHttp, Dossiers, load_config
from queue_server.core import dossiers as rules
from queue_server.dossiers import fake_data
from queue_server.dossiers.importing import DossierFileError, import_file, parse
from queue_server.dossiers.sources import DossierLookup, SourceDown

READY = fake_data.DOSSIERS[2][0]  # 000.00.12.H59-261115-0003, result ready
PRIVATE = [v for d in fake_data.DOSSIERS for v in d[6:]]  # full names, phones, ID numbers


@pytest.fixture(scope="module")
def onestop():
    srv = OneStop(slow_seconds=3)
    yield srv
    srv.close()


# ------------------------------------------------------------------ rules
@pytest.mark.parametrize("full, masked", [
    ("Nguyễn Văn An", "Nguyễn V. A."), ("trần thị bích ngọc", "Trần T. B. N."), ("  Lê   Hoàng  ", "Lê H."),
    ("Minh", "M."), ("Phạm Thu Hà 0912345678", "Phạm T. H."), ("001090012345", ""), ("", ""), (None, ""),
    ("Đỗ Quang Vinh <vinh@example.vn>", "Đỗ Q. V."),
])
def test_a_name_is_masked_and_nothing_else_survives(full, masked):
    assert rules.mask_name(full) == masked


def test_dotted_paths_dates_and_a_bad_answer():
    answer = {"data": {"a": [{"b": 1}, {"b": 2}]}}
    assert rules.at_path(answer, "data.a.1.b") == 2 and rules.at_path(answer, "data.a.5.b") is None
    assert rules.at_path(answer, "data.x.y") is None and rules.at_path([], "0") is None
    assert [rules.as_date(v) for v in ("2024-01-15", "15/01/2024", "2024-01-15T23:30:00+07:00", "20240115", None)] == \
        ["2024-01-15"] * 4 + [""]
    assert rules.as_date(1705339800000) == "2024-01-16"  # 17:30 UTC is past midnight in Việt Nam
    with pytest.raises(rules.DossierDataError):
        rules.as_date("next Tuesday")
    with pytest.raises(rules.DossierDataError):  # a status the mapping has no word for
        rules.from_answer({"s": "9"}, {"status": "s"}, {"1": "ready"}, code="X-1")
    with pytest.raises(rules.DossierDataError):  # an answer for another dossier than the one asked for
        rules.from_answer({"s": "ready", "c": "OTHER-1"}, {"status": "s", "code": "c"}, {}, code="X-1")
    assert rules.from_answer({"data": None}, {"status": "data.s"}, {}, code="X-1") is None
    assert rules.clean_code(" 000.00.12.h59-240115-0003 ") == "000.00.12.H59-240115-0003"
    assert rules.clean_code("a b") is None and rules.clean_code("x" * 61) is None


# ------------------------------------------------------------------ the http source, two shapes
@pytest.mark.parametrize("shape", [http_a, http_b])
def test_the_http_source_reads_each_vendors_shape_by_its_mapping(onestop, shape):
    lookup = DossierLookup(Dossiers.model_validate(shape(onestop.url)), None)
    for code, status, procedure, received, appointment, collect_at, name, phone, idno in fake_data.DOSSIERS:
        d, cached = lookup.find(code)
        assert (d.status, d.procedure, d.received, d.appointment, d.collect_at) == \
            (status, procedure, received, appointment, collect_at)
        assert d.applicant == rules.mask_name(name) and name not in json.dumps(d.public(), ensure_ascii=False)
        assert not cached
    assert {lookup.find(d[0])[0].status for d in fake_data.DOSSIERS} == set(rules.STATUSES)
    assert lookup.find("000.00.12.H59-000000-9999") == (None, False)


def test_answers_are_kept_for_cache_seconds_and_failures_never(onestop):
    now = [100.0]
    cfg = Dossiers.model_validate(http_a(onestop.url, cache_seconds=30))
    lookup = DossierLookup(cfg, None, monotonic=lambda: now[0])
    assert lookup.find(READY) [1] is False and lookup.find(READY)[1] is True
    now[0] += 31
    assert lookup.find(READY)[1] is False
    with pytest.raises(SourceDown):
        lookup.find("X-ERROR")
    with pytest.raises(SourceDown):  # asked again, not answered from a cache
        lookup.find("X-ERROR")


@pytest.mark.parametrize("path, reason", [("slow", "timeout"), ("error", "source_error"), ("garbage", "bad_answer")])
def test_a_source_that_hangs_fails_or_answers_garbage_is_down_within_its_timeout(onestop, path, reason):
    cfg = Dossiers(source="http", http=DossierHttp(url=onestop.url + f"/{path}/{{code}}", headers={"Authorization": "Bearer test-onestop-token"},
                                                   timeout_seconds=0.5, fields=fake_data.FIELDS_A, status_values=fake_data.VALUES_A))
    started = time.monotonic()
    with pytest.raises(SourceDown) as err:
        DossierLookup(cfg, None).find(READY)
    assert err.value.reason == reason and time.monotonic() - started < 1.0


def test_an_answer_in_another_shape_or_an_unreachable_source_is_down(onestop):
    wrong = {**http_b(onestop.url), "http": {**http_b(onestop.url)["http"], "fields": fake_data.FIELDS_B,
                                                "status_values": {"X": "ready"}}}
    with pytest.raises(SourceDown) as err:  # shape B's words, but a mapping that knows none of them
        DossierLookup(Dossiers.model_validate(wrong), None).find(READY)
    assert err.value.reason == "bad_answer"
    shut = Dossiers.model_validate(http_a("http://127.0.0.1:9"))
    with pytest.raises(SourceDown) as err:
        DossierLookup(shut, None).find(READY)
    assert err.value.reason == "unreachable"
    no_token = http_a(onestop.url)
    no_token["http"]["headers"] = {}
    with pytest.raises(SourceDown) as err:
        DossierLookup(Dossiers.model_validate(no_token), None).find(READY)
    assert err.value.reason == "source_error"


# ------------------------------------------------------------------ config
@pytest.mark.parametrize("dossiers, words", [
    ({"source": "http"}, "needs a dossiers.http section"),
    ({"source": "fake", "return_service": "nope"}, "unknown service 'nope'"),
    ({"source": "http", "http": {"url": "http://x/hoso", "fields": {"status": "s"}}}, "{code}"),
    ({"source": "http", "http": {"url": "http://x/{code}", "fields": {"name": "s"}}}, "unknown field"),
    ({"source": "http", "http": {"url": "http://x/{code}", "fields": {"status": "a..b"}}}, "dotted path"),
    ({"source": "http", "http": {"url": "http://x/{code}", "fields": {"status": "s"}, "timeout_seconds": 5}}, "timeout_seconds"),
])
def test_bad_dossier_settings_are_refused_with_their_key(tmp_path, dossiers, words):
    with pytest.raises(ConfigError) as err:
        load_config(dossier_config(tmp_path, dossiers))
    assert words in str(err.value) and "dossiers" in str(err.value)


# ------------------------------------------------------------------ the file source
CSV = ("ma_ho_so;trang_thai;thu_tuc;ngay_tiep_nhan;ngay_hen_tra;noi_tra_ket_qua;chu_ho_so;so_dien_thoai\n"
       "000.00.12.H59-240115-0003;Đã có kết quả;Cấp Phiếu lý lịch tư pháp;15/01/2024;22/01/2024;Quầy 5;Lê Hoàng Minh;0901122334\n"
       "000.00.12.H59-240115-0004;Đang xử lý;Đăng ký khai sinh;2024-01-15;2024-01-19;Quầy 12;Nguyễn Văn An;0912345678\n")
WORDS = {"Đã có kết quả": "ready", "Đang xử lý": "processing"}


def test_a_file_is_imported_masked_and_a_bad_one_names_each_line_and_imports_nothing(tmp_path):
    srv = InProcessServer(dossier_config(tmp_path, {"source": "file", "return_service": "tra_ket_qua",
                                                     "status_values": WORDS}), tmp_path / "qms.sqlite3", Clock())
    try:
        good = tmp_path / "hoso.csv"
        good.write_text(CSV, encoding="utf-8")
        assert import_file(srv.ctx.store, good, actor="test")["count"] == 2
        r = srv.get("/api/v1/dossiers/000.00.12.h59-240115-0003")
        assert r.status_code == 200
        d = r.json()["dossier"]
        assert (d["status"], d["applicant"], d["received"], d["appointment"]) == ("ready", "Lê H. M.", "2024-01-15", "2024-01-22")
        assert "Hoàng Minh" not in r.text and "0901122334" not in r.text
        assert r.json()["return_service"]["id"] == "tra_ket_qua"
        bad = tmp_path / "bad.csv"
        bad.write_text(CSV.splitlines()[0] + "\n" + "000.00.12.H59-1;Đã trả;X;15/01/2024;;;A B\n" + CSV.splitlines()[1] + "\n"
                       + "000.00.12.H59-240115-0003;Đang xử lý;X;32/13/2024;;;A B\n" + "a b;Đang xử lý;X;;;;\n", encoding="utf-8")
        with pytest.raises(DossierFileError) as err:
            import_file(srv.ctx.store, bad, actor="test")
        lines = [line for line, _ in err.value.problems]
        assert lines == [2, 4, 5], err.value.problems  # unknown status; a duplicate code; a bad code
        assert srv.get("/api/v1/dossiers/000.00.12.H59-240115-0004").json()["dossier"]["status"] == "processing"
    finally:
        srv.close()


def test_an_xlsx_export_reads_like_its_csv():
    from openpyxl import Workbook

    book = Workbook()
    for row in [line.split(";") for line in CSV.splitlines()]:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    assert parse(buf.getvalue(), "hoso.xlsx", WORDS) == parse(CSV.encode(), "hoso.csv", WORDS)
    with pytest.raises(DossierFileError, match="not an Excel workbook"):
        parse(b"PK\x03\x04 not really", "hoso.xlsx", WORDS)


def test_the_cli_imports_a_file_and_refuses_a_bad_one(tmp_path, capsys):
    from queue_server.cli.commands import main

    cfg = dossier_config(tmp_path, {"source": "file", "status_values": WORDS})
    good, bad = tmp_path / "hoso.csv", tmp_path / "bad.csv"
    good.write_text(CSV, encoding="utf-8")
    bad.write_text(CSV.replace("Đang xử lý", "Lạc đường"), encoding="utf-8")
    db = str(tmp_path / "cli.sqlite3")
    assert main(["import-dossiers", str(bad), "--config", str(cfg), "--db", db]) == 2
    assert "bad.csv:3: status 'Lạc đường'" in capsys.readouterr().err
    assert main(["import-dossiers", str(good), "--config", str(cfg), "--db", db]) == 0
    assert "imported 2 dossiers" in capsys.readouterr().out


# ------------------------------------------------------------------ the REST route
def test_the_route_answers_found_unknown_down_and_bad_codes_and_never_a_full_name(tmp_path, onestop):
    srv = InProcessServer(dossier_config(tmp_path, http_a(onestop.url, timeout_seconds=0.5)), tmp_path / "qms.sqlite3", Clock())
    try:
        setup = srv.get("/api/v1/dossiers").json()
        assert setup["enabled"] and setup["source"] == "http" and setup["return_service"]["name"] == "Trả kết quả"
        texts = []
        for code, status, *_ in fake_data.DOSSIERS:
            r = srv.get(f"/api/v1/dossiers/{code}")
            assert r.status_code == 200 and r.json()["dossier"]["status"] == status
            assert (r.json()["return_service"] is not None) == (status in rules.COLLECTABLE)
            texts.append(r.text)
        assert not [p for p in PRIVATE if any(p in t for t in texts)]
        missing = srv.get("/api/v1/dossiers/000.00.12.H59-000000-9999")
        assert missing.status_code == 404 and missing.json()["error"] == "dossier_unknown"
        down = srv.get("/api/v1/dossiers/000.00.12.H59-000000-SLOW", headers={"Accept-Language": "vi"})
        assert down.status_code == 503 and down.json()["return_service"] == "tra_ket_qua"
        assert "quá thời gian chờ" in down.json()["message"]
        assert srv.get("/api/v1/dossiers/a%20b").status_code == 400
        assert srv.get("/api/v1/dossiers/" + "9" * 61).status_code == 400
    finally:
        srv.close()


def test_without_a_source_the_route_says_look_up_is_off(client):
    assert client.get("/api/v1/dossiers").get_json() == {"enabled": False, "source": "none", "return_service": None}
    r = client.get("/api/v1/dossiers/000.00.12.H59-240115-0003")
    assert r.status_code == 404 and r.get_json()["error"] == "dossier_lookup_off"


def test_the_fake_source_has_a_dossier_in_every_state():
    lookup = DossierLookup(Dossiers(source="fake"), None)
    got = {d[0]: lookup.find(d[0])[0] for d in fake_data.DOSSIERS}
    assert {d.status for d in got.values()} == set(rules.STATUSES)
    assert [d.applicant for d in got.values()] == [rules.mask_name(d[6]) for d in fake_data.DOSSIERS]
    assert lookup.find("000.00.12.H59-000000-9999") == (None, False)


def test_a_caller_without_a_kiosk_token_is_limited_and_a_kiosk_is_not(tmp_path):
    clock = Clock()
    srv = InProcessServer(dossier_config(tmp_path, {"source": "fake", "lookups_per_minute": 3}), tmp_path / "qms.sqlite3", clock)
    try:
        codes = [d[0] for d in fake_data.DOSSIERS]
        assert [srv.get(f"/api/v1/dossiers/{c}").status_code for c in codes[:3]] == [200, 200, 200]
        walked = srv.get(f"/api/v1/dossiers/{codes[3]}")
        assert walked.status_code == 429 and walked.json()["error"] == "too_many_lookups"
        assert walked.json()["retry_after"] == 60 and walked.headers["Retry-After"] == "60"
        kiosk = {"Authorization": "Bearer test-kiosk-token-1"}
        assert [srv.get(f"/api/v1/dossiers/{c}", headers=kiosk).status_code for c in codes] == [200] * 6
        clock.advance(61)
        assert srv.get(f"/api/v1/dossiers/{codes[3]}").status_code == 200
    finally:
        srv.close()


def test_the_config_and_the_core_name_the_same_statuses_and_fields():
    from queue_server.config import dossiers as settings

    assert settings.DOSSIER_STATUSES == tuple(rules.STATUSES) and settings.DOSSIER_FIELDS == rules.FIELDS
