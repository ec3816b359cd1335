"""The kiosk's server side, in process: the staff PIN of its setup screen, the catalogue's English values and
procedures handled elsewhere in the search answer, the device links that `qms serve` (`make run`) prints and the
start page lists (with the demo tokens in demo mode, and each one working), and icons that need no emoji font."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from server_util import FIXTURES, server_config
from test_catalogue import TEST_CATALOGUE, catalogue_server_config
from queue_server.config import load_config
from queue_server.web.device_links import device_links, print_links
from ticket_printer.server.catalogue import CatalogueError, parse_csv

ROOT = Path(__file__).parent.parent
SERVICES = {"cccd": "police", "passport": "police", "civil": "justice", "records": "justice", "land": "land"}
HEADER = "code,name,name_en,field,field_en,department,service,processing_time,processing_time_en,fee,fee_en,elsewhere,elsewhere_en\n"
# A commune-level procedure with no service here, one with a service but handled elsewhere, one with English values.
EXTRA_ROWS = (
    "1.001022,Đăng ký thường trú,Permanent residence registration,Cư trú,Residence,,,,,,,"
    "Công an xã nơi cư trú,the commune police where you live\n"
    "1.000656,Đăng ký khai tử,Death registration,Hộ tịch,Civil status,justice,civil,,,,,"
    "\"Ủy ban nhân dân xã, phường nơi cư trú\",\"the commune or ward People's Committee\"\n"
    "2.000909,Cấp Phiếu lý lịch tư pháp số 2,Criminal record certificate no. 2,Lý lịch tư pháp,Criminal records,"
    "justice,records,10 ngày làm việc,10 working days,200.000 đồng,\"VND 200,000\",,\n")


def catalogue_with_extras() -> str:
    """The browser tests' catalogue in the wider header, with the rows above."""
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER.strip().split(","), lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv.DictReader(io.StringIO(TEST_CATALOGUE)))
    return out.getvalue() + EXTRA_ROWS


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kiosksetup")
    clock = Clock()
    path = catalogue_server_config(tmp, now=clock(), catalogue=catalogue_with_extras())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["kiosks"][0]["setup_pin"] = "2468"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = InProcessServer(path, tmp / "qms.sqlite3", clock)
    yield srv
    srv.close()


# ------------------------------------------------------------------ the setup PIN
@pytest.mark.parametrize("kiosk, body, status, error", [
    ("kiosk-1", {"pin": "2468"}, 204, None),
    ("kiosk-1", {"pin": "2469"}, 403, "forbidden"),
    ("kiosk-1", {"pin": "24680"}, 403, "forbidden"),
    ("kiosk-justice", {"pin": "2468"}, 403, "forbidden"),  # a kiosk without a PIN opens no setup on its screen
    ("kiosk-1", {"pin": "24a8"}, 400, "bad_request"),
    ("kiosk-1", {"pin": "123"}, 400, "bad_request"),
    ("kiosk-1", {"pin": 2468}, 400, "bad_request"),
    ("kiosk-1", {}, 400, "bad_request"),
    ("nope", {"pin": "2468"}, 404, "kiosk_unknown"),
])
def test_setup_pin_opens_the_form_only_when_right(site, kiosk, body, status, error):
    r = site.post(f"/api/v1/kiosks/{kiosk}/setup-pin", body)
    assert r.status_code == status, r.text
    if error:
        assert r.json()["error"] == error


def test_the_page_never_carries_the_pin_or_the_token(site):
    html = site.get("/kiosk/kiosk-1").text
    assert "2468" not in html and "test-kiosk-token" not in html
    assert '"setup_pin": true' in html and '"name_en": ""' in html


# ------------------------------------------------------------------ the catalogue
def test_a_procedure_handled_elsewhere_needs_no_service_and_names_where():
    procs = parse_csv(catalogue_with_extras(), SERVICES)
    by_code = {p.code: p for p in procs}
    assert by_code["1.001022"].service == "" and by_code["1.001022"].elsewhere == "Công an xã nơi cư trú"
    assert by_code["1.000656"].service == "civil" and by_code["1.000656"].elsewhere_en.startswith("the commune")
    assert (by_code["2.000909"].field_en, by_code["2.000909"].processing_time_en, by_code["2.000909"].fee_en) == (
        "Criminal records", "10 working days", "VND 200,000")
    with pytest.raises(CatalogueError) as bad:
        parse_csv(HEADER + "1.000001,Không có dịch vụ,,,,,,,,,,,\n1.000002,Chỉ tiếng Anh,,,,justice,civil,,,,,,somewhere\n",
                  SERVICES)
    text = str(bad.value)
    assert ":2: service is empty (or say in elsewhere" in text and ":3: elsewhere_en without elsewhere" in text


def test_search_answers_elsewhere_with_no_queue_and_english_values(site):
    got = site.get("/api/v1/procedures?q=dang ky thuong tru&kiosk=kiosk-justice").json()
    first = got["procedures"][0]
    assert first["code"] == "1.001022" and first["state"] == "elsewhere" and first["service"] is None
    assert first["elsewhere"] == "Công an xã nơi cư trú" and first["elsewhere_en"] == "the commune police where you live"
    assert first["estimated_wait_minutes"] is None and first["department"] is None
    death = site.get("/api/v1/procedures?q=1.000656").json()["procedures"][0]
    assert death["state"] == "elsewhere" and death["service"] == "civil" and death["department"] == "justice"
    record = site.get("/api/v1/procedures?q=2.000909").json()["procedures"][0]
    assert record["state"] == "open" and record["fee_en"] == "VND 200,000" and record["field_en"] == "Criminal records"
    # the list without a query (kiosk-justice offers only justice) holds the procedure with no service too
    listed = {p["code"] for p in site.get("/api/v1/procedures?kiosk=kiosk-justice&limit=500").json()["procedures"]}
    assert "1.001022" in listed and "2.001186" not in listed


def test_the_demo_catalogue_sends_commune_registrations_elsewhere_and_has_english_values():
    cfg = load_config(ROOT / "config.yaml")
    services = {sid: d.id for sid, (d, _s) in cfg.services().items()}
    procs = parse_csv((ROOT / cfg.catalogue.file).read_text(encoding="utf-8"), services)
    by_code = {p.code: p for p in procs}
    assert "xã" in by_code["1.001193"].elsewhere and by_code["1.001193"].elsewhere_en
    assert not by_code["1.001695"].elsewhere, "the foreign-element registration stays at the centre"
    assert all(p.field_en and p.processing_time_en and p.fee_en for p in procs)


# ------------------------------------------------------------------ device links
def demo_site(tmp: Path, clock) -> InProcessServer:
    path = server_config(tmp, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["centre"]["demo"] = True
    data["devices"]["displays"].append({"id": "counter-3", "kind": "counter", "counter": "3", "token": "test-display-counter-3"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return InProcessServer(path, tmp / "qms.sqlite3", clock)


def test_demo_links_carry_working_tokens_on_the_start_page_and_in_make_run(tmp_path):
    clock = Clock()
    srv = demo_site(tmp_path, clock)
    try:
        cfg = srv.ctx.config
        links = device_links(cfg)
        assert {l["kind"] for l in links} == {"kiosk", "display", "tablet"}
        page = srv.get("/").text
        for link in links:
            path, _, query = link["url"].partition("?token=")
            assert f'href="{link["url"]}"' in page, link
            assert srv.get(path).status_code == 200, link
            if query:  # the token is that device's own: the server knows it as that device
                me = srv.get("/api/v1/me", headers={"Authorization": "Bearer " + query}).json()
                kind = {"kiosk": "kiosk", "display": "display", "tablet": "display"}[link["kind"]]
                assert me["kind"] == "device" and me["device_kind"] == kind, (link, me)
                assert me["device_id"] == link["id"] or link["kind"] == "tablet"
        kiosk = next(l for l in links if l["kind"] == "kiosk")
        assert kiosk["url"] == "/kiosk/kiosk-1?token=test-kiosk-token-1"
        tablet = next(l for l in links if l["kind"] == "tablet")
        assert tablet["url"] == "/rate/3?token=test-display-counter-3"
        out = io.StringIO()
        print_links(cfg, "http://127.0.0.1:5000", out)
        printed = out.getvalue()
        assert "http://127.0.0.1:5000/kiosk/kiosk-1?token=test-kiosk-token-1" in printed
        assert "http://127.0.0.1:5000/rate/3?token=test-display-counter-3" in printed
        assert "print_links(cfg, base, sys.stdout)" in (ROOT / "queue_server" / "cli" / "serve.py").read_text(encoding="utf-8")
    finally:
        srv.close()


def test_production_links_carry_no_token():
    cfg = load_config(FIXTURES / "big_centre.yaml")
    assert not cfg.centre.demo
    links = device_links(cfg)
    assert links and all("token" not in l["url"] for l in links)
    assert {"/kiosk/kiosk-1", "/display/counter-108", "/rate/108"} <= {l["url"] for l in links}


# ------------------------------------------------------------------ icons
def test_kiosk_and_display_icons_are_inline_svg_not_emoji():
    emoji = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2300-\u23FF\u2400-\u243F]")
    files = [ROOT / "ticket_printer/server/templates/ticket_printer/kiosk.html",
             ROOT / "displays/server/templates/displays/_layout.html",
             *sorted((ROOT / "ticket_printer/server/static").glob("kiosk*.js"))]
    assert len(files) >= 6
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not emoji.findall(text), (path.name, emoji.findall(text))
    kiosk = files[0].read_text(encoding="utf-8")
    assert kiosk.count("<svg") >= 3  # search, maintenance, setup
    layout = files[1].read_text(encoding="utf-8")
    badge = layout[layout.index('id="sound-badge"'):]
    assert badge.index("<svg") < badge.index("</button>")  # the "sound off" badge's icon is inline SVG
