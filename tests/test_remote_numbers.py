"""Remote walk-in numbers (docs/remote-numbers.md): the presence proof's rules by table, the config's checks,
and the routes in process: the display's code, the phone page, taking a number (valid, stale, forged, a display
or a service that does not offer it, the browser's and the address's limits, hostile input: a 4xx that changes
nothing, never a 5xx)."""
from __future__ import annotations

import copy
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from queue_server.config import ConfigError, parse_config
from queue_server.core import presence as P
from queue_server.core.errors import DomainError
from server_util import server_config

SECRET = "k" * 24
T0 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000  # the start of a minute
M = T0 // 60_000
TOKENS = {"hall-a": "test-display-hall-a-token", "hall-b": "test-display-hall-b-token"}


# ------------------------------------------------------------------ the proof's rules
PROOF_CASES = [
    # (case, now - T0 in ms, minute signed, change to the proof, display checked, expected error or None)
    ("its own minute, first ms", 0, M, None, "hall-a", None),
    ("its own minute, last ms", 59_999, M, None, "hall-a", None),
    ("the next minute, first ms", 60_000, M, None, "hall-a", None),
    ("the next minute, last ms", 119_999, M, None, "hall-a", None),
    ("two minutes on: stale", 120_000, M, None, "hall-a", "presence_stale"),
    ("an hour on (from home): stale", 3_600_000, M, None, "hall-a", "presence_stale"),
    ("signed for a minute to come", 0, M + 1, None, "hall-a", "presence_invalid"),
    ("one character changed", 0, M, "flip", "hall-a", "presence_invalid"),
    ("another display's proof", 0, M, None, "hall-b", "presence_invalid"),
    ("another server's secret", 0, M, "other-secret", "hall-a", "presence_invalid"),
    ("upper case", 0, M, "upper", "hall-a", "presence_invalid"),
    ("cut short", 0, M, "short", "hall-a", "presence_invalid"),
    ("a page's pass shown as a code", 0, M, "page-pass", "hall-a", "presence_invalid"),
    ("stale and forged: forged is said", 3_600_000, M, "flip", "hall-a", "presence_invalid"),
]


def _proof(minute: int, change: str | None) -> str:
    proof = P.sign(SECRET, "hall-a", minute)
    return {None: proof, "flip": proof[:-1] + ("0" if proof[-1] != "0" else "1"),
            "other-secret": P.sign("x" * 24, "hall-a", minute), "upper": proof.upper() if proof.upper() != proof else "G" + proof[1:],
            "short": proof[:12], "page-pass": P.sign(SECRET, "hall-a", minute, "page")}[change]


@pytest.mark.parametrize("case, offset, minute, change, display, expected", PROOF_CASES, ids=[c[0] for c in PROOF_CASES])
def test_a_code_is_good_for_its_minute_and_the_next(case, offset, minute, change, display, expected):
    proof = _proof(minute, change)
    if expected is None:
        P.check_proof(SECRET, display, minute, proof, T0 + offset)
    else:
        with pytest.raises(DomainError) as err:
            P.check_proof(SECRET, display, minute, proof, T0 + offset)
        assert err.value.code == expected


@pytest.mark.parametrize("minute, proof", [(True, "0" * 16), (-1, "0" * 16), ("29916666", P.sign(SECRET, "hall-a", M)),
                                           (M, None), (M, 1234), (M, "é" * 16)])
def test_a_code_of_the_wrong_type_is_invalid(minute, proof):
    with pytest.raises(DomainError) as err:
        P.check_proof(SECRET, "hall-a", minute, proof, T0)
    assert err.value.code == "presence_invalid"


@pytest.mark.parametrize("age_ms, page_minutes, expected", [
    (0, 10, None), (9 * 60_000 + 59_999, 10, None), (10 * 60_000, 10, "presence_stale"),
    (59_999, 1, None), (60_000, 1, "presence_stale"),
])
def test_a_proven_page_takes_its_number_for_page_minutes(age_ms, page_minutes, expected):
    pass_ = P.sign(SECRET, "hall-a", M, "page")
    if expected is None:
        P.check_pass(SECRET, "hall-a", M, pass_, T0 + age_ms, page_minutes)
    else:
        with pytest.raises(DomainError) as err:
            P.check_pass(SECRET, "hall-a", M, pass_, T0 + age_ms, page_minutes)
        assert err.value.code == expected
    with pytest.raises(DomainError):  # the display's code is no pass
        P.check_pass(SECRET, "hall-a", M, P.sign(SECRET, "hall-a", M), T0, page_minutes)


def test_the_code_renews_as_the_next_minute_starts():
    assert [P.renews_in_ms(T0 + d) for d in (0, 1, 59_999)] == [60_000, 59_999, 1]
    assert P.minute_of(T0 + 59_999) == M and P.minute_of(T0 + 60_000) == M + 1


@pytest.mark.parametrize("text, expected", [
    ("0912345678", "0912345678"), ("+84 912 345 678", "0912345678"), ("84912345678", "0912345678"),
    ("0912.345.678", "0912345678"), ("(035) 123-4567", "0351234567"),
    ("0212345678", None), ("091234567", None), ("09123456789", None), ("abc", None), ("", None), ("０９１２３４５６７８", None),
])
def test_a_mobile_number_is_written_one_way(text, expected):
    if expected is None:
        with pytest.raises(DomainError) as err:
            P.mobile_number(text)
        assert err.value.code == "phone_invalid"
    else:
        assert P.mobile_number(text) == expected


# ------------------------------------------------------------------ the config
def centre_data(tmp_path, clock, **remote) -> dict:
    data = yaml.safe_load(server_config(tmp_path, now=clock()).read_text(encoding="utf-8"))
    for dept in data["departments"]:
        for svc in dept["services"]:
            svc["remote_walk_in"] = svc["id"] in ("cccd", "civil", "records")
    for disp in data["devices"]["displays"]:
        if disp["id"] in TOKENS:
            disp["token"] = TOKENS[disp["id"]]
    data["remote"] = {"displays": ["hall-a", "hall-b"], **remote}
    return data


def remote_site(tmp_path, clock, **remote) -> InProcessServer:
    path = tmp_path / "remote.yaml"
    path.write_text(yaml.safe_dump(centre_data(tmp_path, clock, **remote), allow_unicode=True), encoding="utf-8")
    return InProcessServer(path, tmp_path / "qms.sqlite3", clock)


@pytest.fixture(scope="module")
def base_centre(tmp_path_factory) -> dict:
    data = centre_data(tmp_path_factory.mktemp("centre"), Clock())
    parse_config(yaml.safe_dump(data, allow_unicode=True), "ok.yaml")  # good as it is
    return data


@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d["remote"].update(displays=["nowhere"]), "unknown display 'nowhere'"),
    (lambda d: d["remote"].update(displays=["hall-a", "hall-a"]), "listed twice"),
    (lambda d: d["devices"]["displays"][1].pop("token"), "has no token"),
    (lambda d: d["departments"][0]["services"][0].update(remote_walk_in=False), "shows no service with remote_walk_in"),
    (lambda d: (d["devices"]["displays"].append({"id": "c1", "kind": "counter", "counter": "1", "token": "test-c1-token"}),
                d["remote"]["displays"].append("c1")), "is a counter display"),
    (lambda d: d["remote"].update(per_address=0), "per_address"),
    (lambda d: d["remote"].update(page_minutes=61), "page_minutes"),
])
def test_the_config_names_a_display_that_cannot_show_the_code(base_centre, edit, fragment):
    data = copy.deepcopy(base_centre)
    edit(data)
    with pytest.raises(ConfigError) as err:
        parse_config(yaml.safe_dump(data, allow_unicode=True), "bad.yaml")
    assert fragment in str(err.value)


# ------------------------------------------------------------------ the routes
@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """One centre for the route tests (cheap): each test asks for the display's code afresh, so the clock each
    one moves on (srv.clock) and the numbers others took do not change what it checks."""
    srv = remote_site(tmp_path_factory.mktemp("remote"), Clock(), per_address=50)
    yield srv
    srv.close()


def display_code(srv, display="hall-a") -> tuple[int, str, dict]:
    r = srv.get(f"/api/v1/displays/{display}/remote-qr", headers={"Authorization": f"Bearer {TOKENS[display]}"})
    assert r.status_code == 200, r.text
    out = r.json()
    q = parse_qs(urlsplit(out["url"]).query)
    return int(q["m"][0]), q["p"][0], out


def page_data(resp) -> dict:
    m = re.search(r'<script id="qms-page" type="application/json">(.*?)</script>', resp.get_data(as_text=True), re.S)
    return json.loads(m.group(1))


def take(http, page: dict, service="cccd", **extra):
    body = {"display": page["display"], "minute": page["minute"], "presence": page["presence"], "service": service, **extra}
    return http.post("/api/v1/remote/tickets", json=body)


def issued_count(srv) -> int:
    return srv.ctx.store.event_counts().get("ticket.issued", 0)


def test_a_scan_in_the_hall_takes_a_number_with_its_phone(remote):
    clock = remote.clock
    minute, proof, code = display_code(remote)
    assert code["url"].startswith("http://127.0.0.1:5000/lay-so/hall-a?m=") and "<svg" in code["svg"] and code["open"] is True
    assert code["renew_in_ms"] == P.renews_in_ms(remote.ctx.store.now_ms())
    assert (minute, proof) == (P.minute_of(remote.ctx.store.now_ms()), P.sign("test-secret-key-0123456789", "hall-a", minute))
    import io
    import qrcode
    import qrcode.image.svg
    drawn = io.BytesIO()
    qrcode.make(code["url"], image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=4).save(drawn)
    assert code["svg"] == drawn.getvalue().decode()  # the picture is the QR code of that address
    phone = remote.app.test_client()
    page = phone.get(f"/lay-so/hall-a?m={minute}&p={proof}")
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    data = page_data(page)
    assert [s["id"] for s in data["services"]] == ["cccd"]  # zone A offers cccd by phone, not passport
    assert data["services"][0]["name"] == "Cấp đổi căn cước"
    clock.advance(seconds=5 * 60)  # the page may take its time: page_minutes
    r = take(phone, data, phone="+84 912 345 678", lang="en")
    assert r.status_code == 201, r.get_data(as_text=True)
    out = r.get_json()
    t = remote.ctx.store.ticket_by_token(out["token"])
    assert (t["source"], t["service_id"], out["service_name"]) == ("remote", "cccd", "Cấp đổi căn cước")
    from queue_server.store import notifications
    assert notifications.contact(remote.ctx.store, t["id"]) == {"phone": "0912345678", "lang": "en"}
    assert phone.get(out["status_path"]).status_code == 200
    assert "qms_remote=" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    # the same browser: one active number per service; the page lists it
    again = take(phone, data)
    assert again.status_code == 409 and again.get_json()["error"] == "remote_ticket_active"
    assert again.get_json()["status_url"] == out["status_path"]
    minute, proof, _ = display_code(remote)
    assert [h["code"] for h in page_data(phone.get(f"/lay-so/hall-a?m={minute}&p={proof}"))["held"]] == [t["code"]]
    # once that number is done with (cancelled here), the browser may take another
    sup = remote.login('super', 'test-super')
    assert remote.post(f"/api/v1/tickets/{t['id']}/cancel", headers=sup).status_code == 200
    assert take(phone, page_data(phone.get(f"/lay-so/hall-a?m={minute}&p={proof}"))).status_code == 201


def test_a_stale_or_forged_code_is_refused_with_a_clear_word(remote):
    clock = remote.clock
    minute, proof, _ = display_code(remote)
    phone = remote.app.test_client()
    clock.advance(seconds=120)
    stale = phone.get(f"/lay-so/hall-a?m={minute}&p={proof}", headers={"Accept-Language": "vi"})
    assert stale.status_code == 403 and "Mã QR đã hết hạn" in stale.get_data(as_text=True)
    assert page_data(stale)["refused"]["error"] == "presence_stale" and "presence" not in page_data(stale)
    minute, proof, _ = display_code(remote)
    forged = proof[:-1] + ("0" if proof[-1] != "0" else "1")
    bad = phone.get(f"/lay-so/hall-a?m={minute}&p={forged}")
    assert bad.status_code == 403 and "Mã QR không hợp lệ" in bad.get_data(as_text=True)
    assert phone.get(f"/lay-so/hall-b?m={minute}&p={proof}").status_code == 403  # hall-a's code at hall-b
    data = page_data(phone.get(f"/lay-so/hall-a?m={minute}&p={proof}"))
    before = issued_count(remote)
    assert take(phone, {**data, "presence": data["presence"][:-1] + "x"}).get_json()["error"] == "presence_invalid"
    assert take(phone, {**data, "minute": data["minute"] - 1}).get_json()["error"] == "presence_invalid"
    clock.advance(seconds=10 * 60)
    late = take(phone, data)
    assert late.status_code == 403 and late.get_json()["error"] == "presence_stale"
    assert issued_count(remote) == before


def test_only_configured_displays_and_offered_services(remote):
    minute, proof, _ = display_code(remote)
    phone = remote.app.test_client()
    off = phone.get(f"/lay-so/hall?m={minute}&p={proof}")  # a display not in remote.displays
    assert off.status_code == 404 and "không có mã lấy số bằng điện thoại" in off.get_data(as_text=True)
    assert remote.get("/api/v1/displays/hall-a/remote-qr").status_code == 401
    assert remote.get("/api/v1/displays/hall-a/remote-qr",
                      headers={"Authorization": f"Bearer {TOKENS['hall-b']}"}).status_code == 403
    assert remote.get("/api/v1/displays/hall-a/remote-qr",
                      headers={"Authorization": "Bearer test-kiosk-token-1"}).status_code == 403
    data = page_data(phone.get(f"/lay-so/hall-a?m={minute}&p={proof}"))
    before = issued_count(remote)
    for service, code, status in (("passport", "remote_not_offered", 409), ("civil", "remote_not_offered", 409),
                                  ("nothing", "service_unknown", 404)):
        r = take(phone, data, service=service)  # passport: not by phone; civil: by phone, in the other zone
        assert (r.status_code, r.get_json()["error"]) == (status, code), service
    assert take(phone, {**data, "display": "hall"}).get_json()["error"] == "presence_display_off"
    assert issued_count(remote) == before


def test_the_kiosks_service_rules_hold_for_phones(remote):
    minute, proof, _ = display_code(remote, "hall-b")
    data = page_data(remote.app.test_client().get(f"/lay-so/hall-b?m={minute}&p={proof}"))
    assert {s["id"] for s in data["services"]} == {"civil", "records"}
    codes = [take(remote.app.test_client(), data, service="records").status_code for _ in range(5)]
    assert codes == [201, 201, 201, 201, 409]  # records' daily_cap is 4, as at the kiosk
    assert display_code(remote, "hall-b")[2]["open"] is True  # civil still takes numbers
    sup = remote.login("super", "test-super")
    assert remote.post("/api/v1/services/civil", json={"state": "closed"}, headers=sup).status_code == 200
    assert display_code(remote, "hall-b")[2]["open"] is False  # nothing to take by phone there: the board says so
    closed = take(remote.app.test_client(), data, service="civil")
    assert (closed.status_code, closed.get_json()["error"]) == (409, "service_closed")
    data = page_data(remote.app.test_client().get(f"/lay-so/hall-b?m={minute}&p={proof}"))
    assert {s["id"]: s["state"] for s in data["services"]} == {"civil": "closed", "records": "full"}


def test_one_address_cannot_take_many_numbers(tmp_path, clock):
    srv = remote_site(tmp_path, clock, per_address=3, window_minutes=10)
    try:
        minute, proof, _ = display_code(srv)
        data = page_data(srv.app.test_client().get(f"/lay-so/hall-a?m={minute}&p={proof}"))

        def from_(addr):  # a browser with no cookie each time: only the address limit holds
            c = srv.app.test_client()
            return c.post("/api/v1/remote/tickets", json={"display": "hall-a", "minute": data["minute"], "presence": data["presence"],
                                                           "service": "cccd"}, environ_base={"REMOTE_ADDR": addr})
        assert [from_("10.0.0.7").status_code for _ in range(3)] == [201, 201, 201]
        refused = from_("10.0.0.7")
        assert refused.status_code == 429 and refused.get_json()["error"] == "too_many_remote_tickets"
        assert int(refused.headers["Retry-After"]) == 600
        assert from_("10.0.0.8").status_code == 201
        clock.advance(seconds=600)
        minute, proof, _ = display_code(srv)
        data = page_data(srv.app.test_client().get(f"/lay-so/hall-a?m={minute}&p={proof}"))
        assert from_("10.0.0.7").status_code == 201
    finally:
        srv.close()


HOSTILE = [
    ("no body", None), ("an array", [1]), ("missing service", {"service": None}), ("minute as text", {"minute": "1"}),
    ("negative minute", {"minute": -1}), ("huge minute", {"minute": 10**30}), ("minute as float", {"minute": 1.5}),
    ("long presence", {"presence": "a" * 5000}), ("presence as number", {"presence": 7}),
    ("service with a path", {"service": "../cccd"}), ("display with a path", {"display": "../../etc"}),
    ("bad phone", {"phone": "not-a-phone"}), ("long phone", {"phone": "0" * 500}), ("phone as number", {"phone": 912345678}),
    ("unknown language", {"lang": "fr"}), ("extra field", {"priority": True}), ("lone surrogate", {"phone": "\ud800"}),
    ("script in service", {"service": "<script>alert(1)</script>"}), ("null display", {"display": None}),
]


def test_hostile_input_is_a_4xx_that_changes_nothing(remote):
    minute, proof, _ = display_code(remote)
    phone = remote.app.test_client()
    data = page_data(phone.get(f"/lay-so/hall-a?m={minute}&p={proof}"))
    good = {"display": "hall-a", "minute": data["minute"], "presence": data["presence"], "service": "cccd"}
    before = issued_count(remote)
    for name, change in HOSTILE:
        if change is None:
            r = phone.post("/api/v1/remote/tickets", data="", content_type="application/json")
        elif isinstance(change, list):
            r = phone.post("/api/v1/remote/tickets", json=change)
        else:
            body = {k: v for k, v in {**good, **change}.items() if not (k == "service" and v is None)}
            r = phone.post("/api/v1/remote/tickets", data=json.dumps(body), content_type="application/json")
        assert 400 <= r.status_code < 500, (name, r.status_code, r.get_data(as_text=True)[:200])
    for query in ("m=%C2%B2&p=" + proof, "m=99999999999999999999&p=" + proof, "m=&p=", "p=" + "é" * 30,
                  f"m={minute}&p={proof}%00", f"m={minute}&p[]=1", ""):
        r = phone.get(f"/lay-so/hall-a?{query}")
        assert r.status_code == 403, (query, r.status_code)
    for path in ("/lay-so/%2e%2e", "/lay-so/" + "x" * 300, "/lay-so/<b>", "/api/v1/displays/%00/remote-qr"):
        assert 400 <= phone.get(path).status_code < 500, path
    assert issued_count(remote) == before
