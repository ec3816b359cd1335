"""The satisfaction export for the province (Decision 766/QĐ-TTg) against a hand-counted scenario: per agency,
per field and per officer, the rated tickets, presses per level and the satisfaction rate; XLSX, JSON, the API
and `qms report --kind satisfaction-766`; its headers are settings."""
from __future__ import annotations

import io

import pytest
import yaml
from inproc import InProcessServer
from server_util import KIOSK, server_config

from feedback_buttons.server.recorder import RatingIn
from queue_server.cli.commands import main as qms_main

URL = "/api/v1/reports/satisfaction-766"


@pytest.fixture
def centre(tmp_path, clock):
    path = server_config(tmp_path, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for d in data["departments"]:
        for s in d["services"]:
            if s["id"] in ("civil", "records"):
                s["field"] = "Hộ tịch và lý lịch tư pháp"
    data["satisfaction_766"] = {"headers": {"department": "Sở, ban, ngành"}}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = InProcessServer(path, tmp_path / "qms.sqlite3", clock)
    yield srv
    srv.close()


DOSSIER = "000.00.12.H59-240115-0003"


def serve_and_rate(srv, clock, staff, counter: str, service: str, levels: list[int], n: list[int],
                   dossier: str | None = None) -> None:
    """Issue, call, finish and rate one ticket per level at `counter` (the officer linking it to `dossier`);
    `n` numbers the rating ids."""
    recorder = srv.app.extensions["qms_ratings"]
    for level in levels:
        t = srv.post("/api/v1/tickets", {"service": service}, KIOSK).json()
        srv.post(f"/api/v1/counters/{counter}/next", {"current": -1}, staff)
        if dossier:
            r = srv.post(f"/api/v1/tickets/{t['id']}/dossiers", {"counter": counter, "code": dossier}, staff)
            assert r.status_code == 201, r.text
        assert srv.post(f"/api/v1/tickets/{t['id']}/finish", None, staff).status_code == 200
        clock.advance(5)  # a press right at the finish is flagged, not counted
        n[0] += 1
        recorder.record(RatingIn(f"r-{n[0]:08d}", counter, f"keypad:test-{counter}", level=level, ticket=t["id"]))


def test_the_export_matches_a_hand_counted_day(centre, clock, tmp_path):
    canbo1, canbo3 = centre.login("canbo1", "test-staff"), centre.login("canbo3", "test-staff")
    assert centre.post("/api/v1/counters/1/open", None, canbo1).status_code == 200
    assert centre.post("/api/v1/counters/3/open", None, canbo3).status_code == 200
    n = [0]
    serve_and_rate(centre, clock, canbo1, "1", "cccd", [3, 3, 1], n)
    # the citizen presses again on the last ticket: a repeat, not a second rating
    last = centre.ctx.store.conn.execute("SELECT MAX(id) FROM tickets").fetchone()[0]
    centre.app.extensions["qms_ratings"].record(RatingIn("r-repeat-1", "1", "keypad:test-1", level=3, ticket=last))
    serve_and_rate(centre, clock, canbo3, "3", "civil", [2, 1], n, dossier=DOSSIER)  # one dossier, two visits
    serve_and_rate(centre, clock, canbo3, "3", "records", [3], n)
    sup = centre.login("super", "test-super")
    today = centre.ctx.store.today()

    got = centre.get(f"{URL}?from={today}&to={today}", sup).json()
    # by hand: police 3 rated (3, 3, 1) -> 2 satisfied; justice 3 rated (2, 1, 3) -> 2 satisfied
    assert [(r["label"], r["rated_tickets"], r["levels"], r["positive"], r["satisfaction_rate"])
            for r in got["department"]] == [
        ("Công an tỉnh", 3, {"3": 2, "2": 0, "1": 1}, 2, pytest.approx(66.7, abs=0.05)),
        ("Sở Tư pháp", 3, {"3": 1, "2": 1, "1": 1}, 2, pytest.approx(66.7, abs=0.05))]
    assert {r["label"]: (r["rated_tickets"], r["department"]) for r in got["field"]} == {
        "Cấp đổi căn cước": (3, "Công an tỉnh"), "Hộ tịch và lý lịch tư pháp": (3, "Sở Tư pháp")}
    assert {r["username"]: (r["label"], r["rated_tickets"], r["positive"]) for r in got["officer"]} == {
        "canbo1": ("Nguyễn Văn An", 3, 2), "canbo3": ("Trần Thị Bình", 3, 2)}
    assert (got["total"]["rated_tickets"], got["total"]["positive"]) == (6, 4)
    assert [(r["label"], r["tickets"], r["rated_tickets"], r["levels"], r["positive"]) for r in got["dossier"]] == [
        (DOSSIER, 2, 2, {"3": 0, "2": 1, "1": 1}, 1)]
    assert got["headers"]["department"] == "Sở, ban, ngành" and got["centre"] == "Trung tâm Kiểm thử"

    r = centre.get(f"{URL}?from={today}&to={today}&format=xlsx", sup)
    assert r.status_code == 200 and "danh-gia-hai-long-766" in r.headers["Content-Disposition"]
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Theo cơ quan", "Theo lĩnh vực", "Theo cán bộ", "Theo hồ sơ"]
    assert [c.value for c in list(wb["Theo hồ sơ"].iter_rows())[6]][:3] == [DOSSIER, 2, 2]
    rows = [[c.value for c in row] for row in wb["Theo cơ quan"].iter_rows()]
    assert rows[5] == ["Sở, ban, ngành", "Số lượt được đánh giá", "Rất hài lòng", "Hài lòng", "Chưa hài lòng",
                       "Số lượt hài lòng", "Tỷ lệ hài lòng (%)"]
    assert rows[6][:6] == ["Công an tỉnh", 3, 2, 0, 1, 2] and rows[-1][:2] == ["Tổng cộng", 6]
    assert centre.get(f"{URL}?from={today}&format=pdf", sup).status_code == 400
    assert centre.get(f"{URL}?from={today}", canbo1).status_code == 403

    out = tmp_path / "766.json"
    assert qms_main(["report", "--kind", "satisfaction-766", "--format", "json", "--day", today, "--out", str(out),
                     "--config", str(centre.config_path), "--db", str(centre.db)]) == 0
    import json

    assert json.loads(out.read_text(encoding="utf-8"))["total"]["rated_tickets"] == 6


def test_unknown_header_keys_are_refused_with_their_key_path(config):
    from queue_server.config import ConfigError, parse_config

    data = config.model_dump(mode="json")
    data["satisfaction_766"] = {"headers": {"agency_name": "x"}}
    with pytest.raises(ConfigError) as exc:
        parse_config(yaml.safe_dump(data, allow_unicode=True))
    assert "satisfaction_766.headers" in str(exc.value) and "agency_name" in str(exc.value)
