"""The procedure catalogue: parsing CSV/YAML with line numbers, diacritic-insensitive search, the demo file,
`qms import-procedures`, and GET /api/v1/procedures on a real server.

Search speed is measured by `make bench` (section `catalogue`), not here: these tests check results only.
"""
from __future__ import annotations

import csv
import io
import json
import random
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from queue_server.config import load_config
from conftest import Clock
from inproc import InProcessServer
from server_util import FIXTURES, server_config
from ticket_printer.server.catalogue import (CatalogueError, CatalogueIndex, Procedure, decode, fold, fold_code, parse_csv,
                                      parse_yaml)

ROOT = Path(__file__).parent.parent
DEMO_CSV = ROOT / "ticket_printer" / "server" / "data" / "procedures.csv"
# The test centre (tests/fixtures/centre.yaml): service -> department.
SERVICES = {"cccd": "police", "passport": "police", "civil": "justice", "records": "justice", "land": "land"}

# A small catalogue for the test centre, used by the browser tests too.
TEST_CATALOGUE = """code,name,name_en,field,department,service,processing_time,fee
1.001193,Đăng ký khai sinh,Birth registration,Hộ tịch,justice,civil,Ngay trong ngày,Không
1.001695,Đăng ký khai sinh có yếu tố nước ngoài,Birth registration with a foreign element,Hộ tịch,justice,civil,03 ngày làm việc,100.000 đồng
1.000894,Đăng ký kết hôn,Marriage registration,Hộ tịch,justice,civil,Ngay trong ngày,Không
2.000908,Cấp Phiếu lý lịch tư pháp,Criminal record certificate,Lý lịch tư pháp,justice,records,10 ngày làm việc,200.000 đồng
2.001186,Cấp đổi thẻ Căn cước,Identity card renewal,Căn cước,police,cccd,07 ngày làm việc,50.000 đồng
2.002133,Cấp hộ chiếu phổ thông,Ordinary passport,Xuất nhập cảnh,police,passport,08 ngày làm việc,200.000 đồng
1.012782,Đăng ký biến động quyền sử dụng đất,Land transfer registration,Đất đai,land,land,10 ngày làm việc,Theo quy định
"""


def catalogue_server_config(tmp: Path, *, idle_seconds: int = 20, catalogue: str = TEST_CATALOGUE, **queue) -> Path:
    """The always-open test centre with the test catalogue imported at start."""
    path = server_config(tmp, **queue)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cat = tmp / "procedures.csv"
    cat.write_text(catalogue, encoding="utf-8")
    data["catalogue"] = {"file": str(cat)}
    data["devices"]["kiosks"][0]["idle_seconds"] = idle_seconds
    data["devices"]["kiosks"].append({"id": "kiosk-justice", "token": "test-kiosk-token-2", "departments": ["justice"]})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------ folding
@pytest.mark.parametrize("text, folded", [
    ("Đăng ký khai sinh", "dang ky khai sinh"),
    ("ĐĂNG KÝ KHAI SINH", "dang ky khai sinh"),
    ("đăng  ký\tkhai-sinh", "dang ky khai sinh"),
    ("Cấp Phiếu lý lịch tư pháp", "cap phieu ly lich tu phap"),
    ("Quốc tịch, hộ tịch (có yếu tố nước ngoài)", "quoc tich ho tich co yeu to nuoc ngoai"),
    ("Nghĩa vụ tài chính về đất đai", "nghia vu tai chinh ve dat dai"),
    ("Thủy sản, thú y", "thuy san thu y"),
    ("Ưu tiên người cao tuổi", "uu tien nguoi cao tuoi"),
    # precomposed and decomposed input fold alike
    ("Đăng ký", "dang ky"),
    ("Đa\u0306ng ky\u0301", "dang ky"),
    ("", ""),
])
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("text, folded", [(" 1.001193 ", "1.001193"), ("1.001612.000.00.00.H01", "1.001612.000.00.00.h01"),
                                          ("1. 001193", "1.001193")])
def test_fold_code(text, folded):
    assert fold_code(text) == folded


# ------------------------------------------------------------------ CSV
def test_csv_good_file_with_bom_quotes_and_vietnamese_headers():
    text = ("\ufeffMã thủ tục,Tên thủ tục,Lĩnh vực,Dịch vụ,Thời hạn giải quyết,Phí\n"
            "1.001193,Đăng ký khai sinh,Hộ tịch,civil,Ngay trong ngày,Không\n"
            "\n"
            '2.000908,"Cấp Phiếu lý lịch tư pháp, cho công dân",Lý lịch tư pháp,records,10 ngày làm việc,"200.000 đồng"\n')
    procs = parse_csv(text.lstrip("\ufeff"), SERVICES)
    assert [p.code for p in procs] == ["1.001193", "2.000908"]
    assert procs[1].name == "Cấp Phiếu lý lịch tư pháp, cho công dân"
    assert procs[1].department == "justice" and procs[1].fee == "200.000 đồng"
    assert procs[0].processing_time == "Ngay trong ngày"


def test_decode_drops_bom_and_names_non_utf8_line():
    assert decode("\ufeffcode\n".encode("utf-8")) == "code\n"
    with pytest.raises(CatalogueError) as e:
        decode("code,name,service\n1.001193,Đăng,civil\n".encode("cp1258"))  # an old Windows code page
    assert e.value.problems[0].line == 2 and "UTF-8" in e.value.problems[0].message


HEADER = "code,name,field,department,service,processing_time,fee\n"


@pytest.mark.parametrize("rows, line, message", [
    ("1.001193,,Hộ tịch,justice,civil,,\n", 2, "name is empty"),
    (",Đăng ký khai sinh,Hộ tịch,justice,civil,,\n", 2, "code is empty"),
    ("1.001193,Đăng ký khai sinh,Hộ tịch,justice,,,\n", 2, "service is empty"),
    ("1.001193,Đăng ký khai sinh,Hộ tịch,justice,ho_tich,,\n", 2, "unknown service 'ho_tich'"),
    ("1.001193,Đăng ký khai sinh,Hộ tịch,police,civil,,\n", 2, "belongs to department 'justice', not 'police'"),
    ("1 001193,Đăng ký khai sinh,Hộ tịch,justice,civil,,\n", 2, "is not a procedure code"),
    ("1.001193,Đăng ký khai sinh,Hộ tịch,justice,civil,,\n1.001193,Đăng ký kết hôn,Hộ tịch,justice,civil,,\n",
     3, "code 1.001193 is also on line 2"),
    ("1.001193,Đăng ký khai sinh,Hộ tịch,justice,civil,,,extra\n", 2, "8 cells but the header has 7 columns"),
    ("1.000894,Đăng ký kết hôn,Hộ tịch,justice,civil,,\n\n1.001193,x" + "y" * 600 + ",Hộ tịch,justice,civil,,\n",
     4, "name is longer than 500"),
    # a quoted name over two lines: the next row's line number still counts physical lines
    ('1.000894,"Đăng ký\nkết hôn",Hộ tịch,justice,civil,,\n1.001193,Đăng ký khai sinh,Hộ tịch,justice,nope,,\n',
     4, "unknown service 'nope'"),
])
def test_csv_bad_rows_are_named_by_line(rows, line, message):
    with pytest.raises(CatalogueError) as e:
        parse_csv(HEADER + rows, SERVICES, "p.csv")
    problems = e.value.problems
    assert any(p.line == line and message in p.message for p in problems), problems
    assert f"p.csv:{line}: " in str(e.value)


def test_csv_reports_every_bad_row_not_only_the_first():
    rows = ("1.001193,Đăng ký khai sinh,Hộ tịch,justice,civil,,\n"
            "1.000894,,Hộ tịch,justice,civil,,\n"
            "1.000656,Đăng ký khai tử,Hộ tịch,justice,xyz,,\n"
            "2.000908,Cấp Phiếu lý lịch tư pháp,,justice,records,,\n")
    with pytest.raises(CatalogueError) as e:
        parse_csv(HEADER + rows, SERVICES)
    assert [p.line for p in e.value.problems] == [3, 4]


@pytest.mark.parametrize("header, message", [
    ("code,name,service,colour\n", "unknown column 'colour'"),
    ("code,name\n", "missing column(s) service"),
    ("code,name,service,ma\n", "column 'code' appears twice"),
])
def test_csv_bad_header(header, message):
    with pytest.raises(CatalogueError) as e:
        parse_csv(header + "1.001193,Đăng ký khai sinh,civil\n", SERVICES)
    assert e.value.problems[0].line == 1 and message in e.value.problems[0].message


@pytest.mark.parametrize("text", ["", "code,name,service\n", "code,name,service\n\n\n"])
def test_csv_empty(text):
    with pytest.raises(CatalogueError):
        parse_csv(text, SERVICES)


# ------------------------------------------------------------------ YAML
def test_yaml_good_file_keeps_codes_as_written():
    text = """
procedures:
  - code: 1.001190
    name: Đăng ký khai sinh
    service: civil
    fee: Không
  - {code: "2.000908", name: "Cấp Phiếu lý lịch tư pháp", service: records, processing_time: 10 ngày làm việc}
  - code: 1.001612.000.00.00.H01
    name: Đăng ký kết hôn
    service: civil
    field: ~
"""
    procs = parse_yaml(text, SERVICES)
    assert [p.code for p in procs] == ["1.001190", "2.000908", "1.001612.000.00.00.H01"]
    assert procs[0].fee == "Không" and procs[2].field == "" and procs[1].department == "justice"
    assert parse_yaml("- {code: 1.001193, name: Đăng ký khai sinh, service: civil}\n", SERVICES)[0].code == "1.001193"


@pytest.mark.parametrize("text, line, message", [
    ("- {code: 1.001193, name: Đăng ký khai sinh, service: civil}\n- {code: 1.000894, name: Kết hôn, service: x}\n",
     2, "unknown service 'x'"),
    ("- code: 1.001193\n  name: Đăng ký khai sinh\n  service: civil\n  colour: red\n", 4, "unknown key 'colour'"),
    ("- code: 1.001193\n  name: [a, b]\n  service: civil\n", 2, "name must be a single value"),
    ("- just text\n", 1, "must be a mapping"),
    ("procedures: {code: 1}\n", 1, "must be a list"),
    ("other: []\n", 1, "expected a list of procedures"),
    ("- {code: 1.001193, name: 'x', service: civil\n", 2, "not valid YAML"),
    ("- {code: 1.001193, name: A, service: civil}\n- {code: 1.001193, name: B, service: civil}\n", 2, "also on line 1"),
])
def test_yaml_bad_rows_are_named_by_line(text, line, message):
    with pytest.raises(CatalogueError) as e:
        parse_yaml(text, SERVICES, "p.yaml")
    assert any(p.line == line and message in p.message for p in e.value.problems), e.value.problems


# ------------------------------------------------------------------ search
@pytest.fixture(scope="module")
def demo_index():
    cfg = load_config(ROOT / "config.yaml")
    services = {sid: d.id for sid, (d, _s) in cfg.services().items()}
    procs = parse_csv(DEMO_CSV.read_text(encoding="utf-8-sig"), services)
    names = {sid: f"{s.name} {s.name_en}" for sid, (_d, s) in cfg.services().items()}
    return CatalogueIndex(procs, names)


@pytest.mark.parametrize("query, first_code", [
    ("dang ky khai sinh", "1.001193"),
    ("Đăng ký khai sinh", "1.001193"),
    ("ĐĂNG KÝ KHAI SINH", "1.001193"),
    ("DANG KY KHAI SINH", "1.001193"),
    ("  dang   ky  khai sinh ", "1.001193"),
    ("khai sinh", "1.001193"),
    ("1.001193", "1.001193"),
    ("001193", "1.001193"),
    ("dang ky ket hon", "1.000894"),
    ("ly lich tu phap", "2.000908"),
    ("lý lịch tư pháp", "2.000908"),
    ("cap doi the can cuoc", "2.001186"),
    ("ho chieu pho thong lan dau", "2.002133"),
    ("doi giay phep lai xe nuoc ngoai", "1.012923"),
    ("birth registration", "1.001193"),
    ("2.001610", "2.001610"),
    ("tro cap that nghiep", "1.001978"),
    ("giay phep lao dong", "1.000105"),
])
def test_search_finds_the_procedure_first(demo_index, query, first_code):
    hits = demo_index.search(query)
    assert hits, query
    assert hits[0].procedure.code == first_code, [(h.procedure.code, h.procedure.name, h.score) for h in hits[:5]]


@pytest.mark.parametrize("query, service", [
    ("cccd", "can_cuoc"),      # the service name says "(CCCD)"
    ("gplx", "gplx"),          # initials of "giấy phép lái xe"
    ("bhyt", "bhyt"),
])
def test_search_by_abbreviation(demo_index, query, service):
    hits = demo_index.search(query)
    assert hits and all(h.procedure.service == service for h in hits[:3]), [(h.procedure.code, h.procedure.name) for h in hits[:5]]


def test_search_every_word_must_match_and_empty_finds_nothing(demo_index):
    assert demo_index.search("khai sinh xyzzy") == []
    assert demo_index.search("") == [] and demo_index.search("  ,. ") == []
    assert len(demo_index.search("dang ky", limit=5)) == 5
    hits, matches = demo_index.search_counted("dang ky", limit=5)
    assert len(hits) == 5 and matches == len(demo_index.search("dang ky", limit=1000)) > 5


def test_search_filters_by_service(demo_index):
    hits = demo_index.search("dang ky", limit=50, services={"dat_dai"})
    assert hits and {h.procedure.service for h in hits} == {"dat_dai"}


def test_search_prefers_the_diacritics_typed():
    procs = [Procedure(code="9.000001", name="Cấp phép ca nhạc", service="civil", department="justice"),
             Procedure(code="9.000002", name="Cấp phép cà phê", service="civil", department="justice")]
    idx = CatalogueIndex(procs)
    assert idx.search("cà")[0].procedure.code == "9.000002"
    assert idx.search("ca nhac")[0].procedure.code == "9.000001"
    assert {h.procedure.code for h in idx.search("ca")} == {"9.000001", "9.000002"}


WORDS = ("cấp đăng ký thay đổi điều chỉnh gia hạn xác nhận công nhận thẩm định giấy phép chứng chỉ hành nghề kinh doanh "
         "hộ tịch đất đai môi trường thuế hóa đơn bảo hiểm xã hội y tế dược thực phẩm xây dựng nhà ở vận tải lao động "
         "việc làm giáo dục văn bằng du lịch báo chí xuất bản bưu chính tôn giáo dân tộc khoáng sản thủy sản thú y").split()


def generated_catalogue(n: int = 2000, seed: int = 5) -> list[Procedure]:
    """n procedures with unique names of 5-9 Vietnamese words and unique national-style codes."""
    rnd = random.Random(seed)
    services = list(SERVICES)
    names: set[str] = set()
    out = []
    while len(out) < n:
        name = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(5, 9))).capitalize()
        if fold(name) in names:
            continue
        names.add(fold(name))
        sid = rnd.choice(services)
        out.append(Procedure(code=f"{rnd.choice('12')}.{100000 + len(out):06d}", name=name, service=sid,
                             department=SERVICES[sid], field=rnd.choice(WORDS)))
    return out


def test_search_2000_generated_procedures_correctness():
    procs = generated_catalogue()
    idx = CatalogueIndex(procs)
    assert len(idx) == 2000
    by_folded: dict[str, list[Procedure]] = {}
    for p in procs:
        by_folded.setdefault(fold(p.name), []).append(p)
    rnd = random.Random(7)
    for p in rnd.sample(procs, 150):
        # The name typed without diacritics, in capitals, or exactly: an exact (folded) name ranks first.
        for q in (fold(p.name), p.name.upper(), p.name):
            top = idx.search(q, limit=3)[0].procedure
            assert fold(top.name) == fold(p.name), (q, top.name)
        assert idx.search(p.code)[0].procedure == p
        # Every hit of a query contains every word of it.
        words = fold(p.name).split()[:2]
        for h in idx.search(" ".join(words), limit=50):
            text = fold(h.procedure.name) + " " + fold(h.procedure.field)
            assert all(w in text for w in words)
    # Diacritic-free and diacritic input find the same set.
    a = {h.procedure.code for h in idx.search("giay thue", limit=500)}
    b = {h.procedure.code for h in idx.search("GIẤY Thuế", limit=500)}
    assert a == b and len(a) > 5
    assert a == {p.code for p in procs if all(w in fold(p.name) + " " + fold(p.field) for w in ("giay", "thue"))}


# ------------------------------------------------------------------ the demo catalogue
def test_demo_catalogue_is_complete_and_valid():
    cfg = load_config(ROOT / "config.yaml")
    assert cfg.catalogue.file == "ticket_printer/server/data/procedures.csv"
    services = {sid: d.id for sid, (d, _s) in cfg.services().items()}
    procs = parse_csv(DEMO_CSV.read_text(encoding="utf-8"), services)  # raises on any bad row
    assert len(procs) >= 100
    assert {p.department for p in procs} == {d.id for d in cfg.departments}, "every demo department has procedures"
    assert len({p.service for p in procs}) >= 35
    national = [p for p in procs if re.fullmatch(r"[12]\.\d{6}", p.code)]
    assert len(national) >= 0.9 * len(procs)
    by_code = {p.code: p for p in procs}
    assert by_code["1.001193"].name == "Đăng ký khai sinh"
    for p in procs:
        assert p.name == p.name.strip() and p.name[0].isupper()
        assert re.search(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", p.name.lower()), p.name
        assert p.processing_time and p.fee and p.field, p.code
        assert p.fee == "Không" or "đồng" in p.fee or "USD" in p.fee or p.fee.startswith("Theo") or "Không" in p.fee, p.fee
    rows = list(csv.DictReader(io.StringIO(DEMO_CSV.read_text(encoding="utf-8"))))
    assert all(r["name_en"] for r in rows), "every demo procedure has an English name"


# ------------------------------------------------------------------ qms import-procedures
def qms(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queue_server.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def db_rows(db: Path, query: str) -> list:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def test_cli_import_replaces_atomically_and_refuses_bad_files(tmp_path):
    db = tmp_path / "cli.sqlite3"
    fixture = str(FIXTURES / "centre.yaml")
    good = tmp_path / "good.csv"
    good.write_text(TEST_CATALOGUE, encoding="utf-8")
    r = qms("import-procedures", str(good), "--config", fixture, "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "imported 7 procedures for 5 services" in r.stdout and "replacing 0" in r.stdout
    assert db_rows(db, "SELECT code, service_id FROM procedures ORDER BY position")[0] == ("1.001193", "civil")

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "1.999999,Thủ tục mới,Hộ tịch,justice,civil,,\n"
                            "1.001193,,Hộ tịch,justice,civil,,\n"
                            "1.888888,Thủ tục khác,Hộ tịch,justice,ho_tich,,\n", encoding="utf-8")
    events_before = db_rows(db, "SELECT COUNT(*) FROM events")[0][0]
    r = qms("import-procedures", str(bad), "--config", fixture, "--db", str(db))
    assert r.returncode == 2
    assert f"{bad}:3: name is empty" in r.stderr
    assert f"{bad}:4: unknown service 'ho_tich'" in r.stderr
    assert "nothing was imported" in r.stderr
    assert db_rows(db, "SELECT COUNT(*) FROM procedures")[0][0] == 7, "a bad file changes nothing"
    assert db_rows(db, "SELECT COUNT(*) FROM events")[0][0] == events_before

    r = qms("import-procedures", str(tmp_path / "missing.csv"), "--config", fixture, "--db", str(db))
    assert r.returncode == 2 and "cannot read the file" in r.stderr
    other = tmp_path / "list.txt"
    other.write_text("x", encoding="utf-8")
    r = qms("import-procedures", str(other), "--config", fixture, "--db", str(db))
    assert r.returncode == 2 and ".csv, .yaml or .yml" in r.stderr

    small = tmp_path / "small.yaml"
    small.write_text("- {code: 2.000908, name: Cấp Phiếu lý lịch tư pháp, service: records}\n", encoding="utf-8")
    r = qms("import-procedures", str(small), "--check", "--config", fixture, "--db", str(db))
    assert r.returncode == 0 and "checked only" in r.stdout
    assert db_rows(db, "SELECT COUNT(*) FROM procedures")[0][0] == 7
    r = qms("import-procedures", str(small), "--config", fixture, "--db", str(db))
    assert r.returncode == 0 and "replacing 7" in r.stdout
    assert db_rows(db, "SELECT code FROM procedures") == [("2.000908",)]
    logged = db_rows(db, "SELECT actor, data FROM events WHERE type = 'catalogue.imported' ORDER BY id")
    assert [a for a, _ in logged] == ["cli", "cli"]
    assert json.loads(logged[-1][1]) == {"count": 1, "replaced": 7, "source": "small.yaml", "services": 1}


# ------------------------------------------------------------------ GET /api/v1/procedures
@pytest.fixture(scope="module")
def catalogue_server(tmp_path_factory):
    """The server in this process; `qms import-procedures` still runs as a second process on its database."""
    tmp = tmp_path_factory.mktemp("catalogue")
    clock = Clock()
    srv = InProcessServer(catalogue_server_config(tmp, now=clock()), tmp / "qms.sqlite3", clock)
    yield srv
    srv.close()


def test_rest_search_with_and_without_diacritics(catalogue_server):
    srv = catalogue_server
    for q in ("dang ky khai sinh", "Đăng ký khai sinh", "ĐĂNG KÝ KHAI SINH", "1.001193"):
        r = srv.get("/api/v1/procedures?q=" + q)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == 7
        first = body["procedures"][0]
        assert first["code"] == "1.001193" and first["name"] == "Đăng ký khai sinh", q
        assert first["service"] == "civil" and first["service_name"] == "Hộ tịch"
        assert first["department"] == "justice" and first["state"] == "open" and first["waiting"] == 0
    body = srv.get("/api/v1/procedures?q=khai%20sinh").json()
    assert [p["code"] for p in body["procedures"]] == ["1.001193", "1.001695"]
    assert srv.get("/api/v1/procedures?q=zzzz").json()["count"] == 0
    assert srv.get("/api/v1/procedures").json()["count"] == 7
    assert [p["code"] for p in srv.get("/api/v1/procedures?service=records").json()["procedures"]] == ["2.000908"]
    assert {p["department"] for p in srv.get("/api/v1/procedures?q=dang%20ky&kiosk=kiosk-justice").json()["procedures"]} == {"justice"}
    one = srv.get("/api/v1/procedures?q=dang&limit=1").json()
    assert len(one["procedures"]) == 1 and one["count"] == 1 and one["matches"] == 4


@pytest.mark.parametrize("query, status, error", [
    ("limit=0", 400, "bad_request"), ("limit=abc", 400, "bad_request"), ("q=" + "a" * 101, 400, "bad_request"),
    ("service=nope", 404, "service_unknown"), ("kiosk=nope", 404, "kiosk_unknown"), ("department=nope", 400, "bad_request"),
])
def test_rest_search_bad_input(catalogue_server, query, status, error):
    r = catalogue_server.get("/api/v1/procedures?" + query)
    assert r.status_code == status and r.json()["error"] == error


def test_rest_search_shows_service_state_and_sees_a_cli_import(catalogue_server, tmp_path):
    srv = catalogue_server
    sup = srv.login("super", "test-super")
    assert srv.post("/api/v1/services/records", {"state": "closed"}, sup).status_code == 200
    try:
        p = srv.get("/api/v1/procedures?q=ly%20lich%20tu%20phap").json()["procedures"][0]
        assert p["service"] == "records" and p["state"] == "closed" and p["reason"] == "closed_manually"
        # The same state, count and estimate as the service list shows.
        for proc in srv.get("/api/v1/procedures?limit=50").json()["procedures"]:
            svc = next(x for x in srv.get("/api/v1/services").json()["services"] if x["id"] == proc["service"])
            assert {k: proc[k] for k in ("state", "reason", "opens_at", "waiting", "estimated_wait_minutes")} == \
                   {k: svc[k] for k in ("state", "reason", "opens_at", "waiting", "estimated_wait_minutes")}
    finally:
        srv.post("/api/v1/services/records", {"state": "auto"}, sup)
    # The CLI imports into the running server's database; the next search uses the new catalogue.
    extra = tmp_path / "more.csv"
    extra.write_text(TEST_CATALOGUE + '1.004873,"Thay đổi, cải chính thông tin hộ tịch",,Hộ tịch,justice,civil,,\n',
                     encoding="utf-8")
    try:
        r = qms("import-procedures", str(extra), "--config", str(srv.config), "--db", str(srv.db))
        assert r.returncode == 0, r.stderr
        body = srv.get("/api/v1/procedures?q=cai%20chinh%20ho%20tich").json()
        assert body["total"] == 8 and body["procedures"][0]["code"] == "1.004873"
    finally:
        good = tmp_path / "back.csv"
        good.write_text(TEST_CATALOGUE, encoding="utf-8")
        assert qms("import-procedures", str(good), "--config", str(srv.config), "--db", str(srv.db)).returncode == 0
    assert srv.get("/api/v1/procedures").json()["total"] == 7


def test_import_on_start_never_replaces_a_catalogue(store, tmp_path):
    from ticket_printer.server.catalogue_store import ProcedureStore, import_on_start

    procedures = ProcedureStore(store)
    path = tmp_path / "start.csv"
    path.write_text(TEST_CATALOGUE, encoding="utf-8")
    config = store.config.model_copy(update={"catalogue": store.config.catalogue.model_copy(update={"file": str(path)})})
    import_on_start(procedures, config)
    assert procedures.count() == 7
    procedures.replace(procedures.all()[:2], source="x.csv", actor="test")
    import_on_start(procedures, config)
    assert procedures.count() == 2
    assert procedures.replace(procedures.all(), source="y.csv", actor="test", only_if_empty=True) is None
    assert [h.procedure.code for h in procedures.index().search("khai sinh")] == ["1.001193", "1.001695"]


def test_server_starts_with_a_bad_catalogue_file(tmp_path, caplog):
    from queue_server.web.app import create_app

    cfg = catalogue_server_config(tmp_path, catalogue=HEADER + "1.001193,Đăng ký khai sinh,Hộ tịch,justice,nope,,\n")
    app = create_app(cfg, db_path=str(tmp_path / "qms.sqlite3"), async_mode="threading", start_background=False)
    try:
        body = app.test_client().get("/api/v1/procedures").get_json()
        assert body["total"] == 0
    finally:
        app.extensions["qms"].store.close()
    assert "catalogue.file was not imported" in caplog.text
    assert ":2: unknown service 'nope'" in caplog.text
