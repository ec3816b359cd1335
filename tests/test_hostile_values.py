"""No 5xx, whatever is sent: every route of the app's URL map, for each method it allows, with hostile values in
each URL parameter, in the query and as bodies (huge and negative numbers, wrong types, NUL, lone surrogates,
deep nesting, empty and oversized bodies), as anonymous, kiosk, agent, staff, supervisor and admin; and every
socket action (web/actions.py SOCKET_OPS) and the socket connect with hostile values in each field.

Each walk gathers every 5xx (or socket answer `internal`) and fails listing them all."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import Clock
from inproc import InProcessServer
from server_util import server_config
from queue_server.web import actions as A

# ------------------------------------------------------------------ the values
HUGE = "1000000000000000000000000000000"
URL_VALUES = [HUGE, "9223372036854775808", "-1", "0", "1.5", "1e30", "abc", "%00", "a%00b", "%ED%A0%80", "%FF%FE",
              "x" * 3000, "H%C3%A0%20N%E1%BB%99i", "..%2F..%2Fetc", "%2e%2e", "null", "%F0%9F%98%80"]
QUERY_VALUES = [HUGE, "-1", "-" + HUGE, "1e30", "1.5", "abc", "", "%00", "%ED%A0%80", "%FF", "x" * 3000,
                "9999-12-31", "0000-00-00", "9999-99-99", "0001-01-01", "2026-02-30", "true", "[]"]
# Values put into each field of a body the route accepts (and alone, as the whole body's fields)
FIELD_VALUES = [10**30, -(10**30), 2**63, -1, 0, 1.5, float("inf"), float("nan"), True, None, "", "\x00", "a\x00b",
                "\ud800", "x" * 35_000, [], {}, [[[[["deep"]]]]], {"a": {"b": {"c": 1}}}, "A001", "9999-12-31"]
DEEP = "[" * 30_000 + "]" * 30_000  # under the body cap, deeper than the JSON parser goes
RAW_BODIES = [b"", b"   ", b"null", b"[]", b"{}", b'"x"', b"1e999999", b"-" + HUGE.encode(), b"{", b"\xff\xfe\x00",
              b'{"a": "\\ud800"}', b'{"\\ud800": 1}', b'{"a": "\\u0000"}', b'{"a": NaN, "b": Infinity}',
              DEEP.encode(), ('{"a":' * 10_000 + "1" + "}" * 10_000).encode(), b"{" + b" " * 70_000 + b"}",
              ("[" + ",".join(["1"] * 20_000) + "]").encode()]

# Known good values of path parameters, so that each parameter is spoiled alone
GOOD = {"ticket_id": "1", "counter_id": "1", "service_id": "civil", "kind": "printer", "device_id": "printer-1",
        "display_id": "hall-a", "kiosk_id": "kiosk-1", "username": "canbo3", "token_id": "1", "rating_id": "abcdefgh01",
        "token": "x", "pack": "vi", "name": "chime", "filename": "common.js"}
WHO = ("anonymous", "kiosk", "agent", "staff", "supervisor", "admin")
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    clock = Clock()
    cfg = server_config(tmp, now=clock())  # agent-1 drives counter 1's LED board: it may join counter:1
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("\ndevices:\n", "\ndevices:\n  led_boards:\n  - {id: led-1, counter: '1', "
                                "port: 'fake://led-boards', agent: agent-1}\n", 1), encoding="utf-8")
    assert "id: led-1" in cfg.read_text(encoding="utf-8")
    s = InProcessServer(cfg, tmp / "qms.sqlite3", clock)
    yield s
    s.close()


@pytest.fixture(scope="module")
def heads(srv):
    out = {"anonymous": {}, "kiosk": {"Authorization": "Bearer test-kiosk-token-1"},
           "agent": {"Authorization": "Bearer test-agent-token-1"}}
    for who, user, password in (("staff", "canbo1", "test-staff"), ("supervisor", "super", "test-super"),
                                ("admin", "admin", "test-admin")):
        out[who] = srv.login(user, password)
    sup = out["supervisor"]
    for c in ("1", "2"):
        srv.post(f"/api/v1/counters/{c}/open", {}, headers=out["staff"])
    for service in ("civil", "cccd", "civil"):
        assert srv.post("/api/v1/tickets", {"service": service}, headers=sup).status_code == 201
    srv.post("/api/v1/counters/1/next", {}, headers=out["staff"])
    return out


def rules(srv):
    """(rule, methods) of every route but logout (it ends the caller's token: walked last, in its own test)."""
    out = []
    for rule in srv.app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        if rule.endpoint != "api.logout":
            out.append((rule, methods))
    return sorted(out, key=lambda x: x[0].rule)


def path_of(rule, **values) -> str:
    path = rule.rule
    for arg in rule.arguments:
        value = values.get(arg, GOOD.get(arg, "1"))
        path = re.sub(r"<(?:[a-z]+:)?" + arg + ">", value, path)
    return path


def query_names(srv, rule) -> list[str]:
    """The query parameters the module of this route's view reads (request.args.get("x"), a["x"], _int_arg("x")),
    and `lang`, which every route reads."""
    view = srv.app.view_functions[rule.endpoint]
    module = sys.modules.get(getattr(view, "__module__", ""), None)
    text = Path(module.__file__).read_text(encoding="utf-8") if module and getattr(module, "__file__", None) else ""
    names = set(re.findall(r'(?:args\.get\(|args\[|a\.get\(|a\[|_arg\()\s*"(\w+)"', text))
    return sorted(names | {"lang"})


def sign_in(srv, user: str, password: str) -> dict:
    """The walks send wrong passwords too (each field of a login body spoiled), which lock the account and this
    address for a while (core/sign_in.py); a later sign-in first waits the longest lock out on the test's clock."""
    srv.clock.advance(srv.ctx.config.login_throttle.max_lock_seconds)
    return srv.login(user, password)


def collect(reply, what: str, bad: list) -> None:
    if reply.status_code >= 500:
        bad.append(f"{what} -> {reply.status_code} {reply.text[:160]!r}")


# ------------------------------------------------------------------ the walks
def test_every_route_is_walked(srv):
    walked = {r.endpoint for r, _ in rules(srv)} | {"api.logout"}
    assert walked == {r.endpoint for r in srv.app.url_map.iter_rules()}
    assert len(walked) >= 60


@pytest.mark.parametrize("who", WHO)
def test_hostile_url_parameters(srv, heads, who):
    bad: list[str] = []
    for rule, methods in rules(srv):
        for arg in rule.arguments:
            for value in URL_VALUES:
                for method in methods:
                    path = path_of(rule, **{arg: value})
                    collect(srv.request(method, path, headers=heads[who]), f"{who} {method} {path[:90]}", bad)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_hostile_query_values(srv, heads, who):
    """Anonymous reaches the public reads, admin every other read (the kiosk's reads are public ones)."""
    bad: list[str] = []
    for rule, methods in rules(srv):
        if "GET" not in methods:
            continue
        for name in query_names(srv, rule):
            for value in QUERY_VALUES:
                path = f"{path_of(rule)}?{name}={value}"
                collect(srv.get(path, headers=heads[who]), f"{who} GET {path[:90]}", bad)
    assert not bad, "\n".join(bad)


def test_hostile_report_queries(srv, heads):
    """The report's parameters together: a period and a date, a range near the calendar's ends."""
    bad: list[str] = []
    for path in ("/api/v1/reports", "/api/v1/reports/export"):
        for query in ("period=month&date=9999-12-15", "period=week&date=9999-12-31", "period=day&date=0001-01-01",
                      "from=9999-01-01&to=9999-12-31", "from=0001-01-01&to=0001-12-31", "from=2026-01-01&to=9999-12-31",
                      "period=month&date=2999-12-31", "from=2999-12-31&to=2999-12-31&group_by=hour",
                      "period=month&date=2026-11-25&group_by=%00", "format=xlsx&from=2000-01-01&to=2000-01-02"):
            collect(srv.get(f"{path}?{query}", headers=heads["supervisor"]), f"GET {path}?{query}", bad)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("who", WHO)
def test_hostile_bodies(srv, heads, who):
    bad: list[str] = []
    for rule, methods in rules(srv):
        for method in methods:
            if method == "GET":
                continue
            for raw in RAW_BODIES:
                for ctype in ("application/json", "text/plain"):
                    r = srv.request(method, path_of(rule), headers={**heads[who], "Content-Type": ctype}, data=raw)
                    collect(r, f"{who} {method} {rule.rule} {ctype} {raw[:40]!r}", bad)
    assert not bad, "\n".join(bad)


def _valid_bodies() -> dict[tuple[str, str], dict]:
    """(method, rule) -> a body the route accepts, from the tables of test_action_validation and
    test_route_validation (together they hold every write route)."""
    from test_action_validation import VALID
    from test_route_validation import ROUTES

    out = {}
    for method, template, _path, body in VALID.values():
        out[(method, re.sub(r"\{(\w+)\}", r"<\1>", template))] = body
    for _model, method, url, body, _who in ROUTES.values():
        out[(method, url)] = body
    return out


@pytest.mark.parametrize("who", ["anonymous", "supervisor", "admin"])
def test_hostile_field_values(srv, heads, who):
    """Each field of a body the route accepts, spoiled with each hostile value (and an unknown field with it).
    A body is checked before the caller's role (staff are walked with every hostile body above)."""
    bad: list[str] = []
    bodies = _valid_bodies()
    for rule, methods in rules(srv):
        for method in methods:
            if method == "GET":
                continue
            url = path_of(rule)
            body = bodies.get((method, url)) or next((b for (m, u), b in bodies.items()
                                                      if m == method and _same_route(rule, u)), {})
            for field in [*body, "bogus"]:
                for value in FIELD_VALUES:
                    data = json.dumps({**body, field: value}, ensure_ascii=True)
                    r = srv.request(method, url, headers={**heads[who], "Content-Type": "application/json"}, data=data)
                    collect(r, f"{who} {method} {url} {field}={value!r:.40}", bad)
    assert not bad, "\n".join(bad)


def _same_route(rule, url: str) -> bool:
    pattern = re.sub(r"<(?:[a-z]+:)?\w+>", "[^/]+", rule.rule)
    return re.fullmatch(pattern, url) is not None or re.fullmatch(pattern, re.sub(r"<\w+>", "x", url)) is not None


@pytest.mark.parametrize("who", WHO)
def test_logout_with_hostile_bodies(srv, heads, who):
    """Logout reads no body; walked last for each caller with a throwaway token."""
    h = heads[who]
    if who in ("staff", "supervisor", "admin"):
        user, password = {"staff": ("canbo1", "test-staff"), "supervisor": ("super", "test-super"),
                          "admin": ("admin", "test-admin")}[who]
        h = sign_in(srv, user, password)
    bad: list[str] = []
    for raw in RAW_BODIES:
        collect(srv.request("POST", "/api/v1/logout", headers={**h, "Content-Type": "application/json"}, data=raw),
                f"{who} logout {raw[:40]!r}", bad)
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------ sockets
SOCKET_ROOMS = {"anonymous": ("display:hall-a", None), "kiosk": ("kiosk:kiosk-1", "test-kiosk-token-1"),
                "agent": ("counter:1", "test-agent-token-1"), "staff": ("counter:1", "canbo1"),
                "supervisor": ("supervisors", "super"), "admin": ("supervisors", "admin")}
PASSWORDS = {"canbo1": "test-staff", "super": "test-super", "admin": "test-admin"}


def _socket_token(srv, token):
    if token in PASSWORDS:
        return sign_in(srv, token, PASSWORDS[token])["Authorization"][7:]
    return token


def _internal(ack) -> bool:
    return not isinstance(ack, dict) or ack.get("error") == "internal"


@pytest.mark.parametrize("who", WHO)
def test_hostile_socket_actions(srv, heads, sio_factory, who):
    room, token = SOCKET_ROOMS[who]
    auth = {"room": room, **({"token": _socket_token(srv, token)} if token else {})}
    s = sio_factory(auth)
    assert s.connected, s.refusal
    bad: list[str] = []
    whole = [None, 1, HUGE, "x", [], [{"op": "next"}], {}, {"op": None}, {"op": 10**30}, {"op": "\ud800"},
             {"op": "\x00"}, {"op": "next", "counter": {"a": [1]}}, json.loads("[" * 150 + "]" * 150)]
    for data in whole:
        ack = s.call("action", data)
        if _internal(ack):
            bad.append(f"{who} action {data!r:.60} -> {ack!r:.160}")
    for op, model in A.SOCKET_OPS.items():
        fields = list(model.model_fields) or ["bogus"]
        for field in [*fields, "bogus"]:
            for value in FIELD_VALUES:
                ack = s.call("action", {"op": op, **{f: _plausible(f) for f in fields}, field: value})
                if _internal(ack):
                    bad.append(f"{who} {op} {field}={value!r:.40} -> {ack!r:.160}")
    for data in (None, {}, 1, "x", {"a": "\ud800"}):
        ack = s.call("resync", data)
        if _internal(ack):
            bad.append(f"{who} resync {data!r} -> {ack!r:.160}")
    assert not bad, "\n".join(bad[:60])


def _plausible(field: str):
    return {"counter": "1", "ticket": 1, "service": "civil", "code": "A001", "services": ["civil"], "state": "auto",
            "daily_cap": 5, "reset_cap": False, "priority": False, "go_last": True}.get(field, "x")


def test_hostile_socket_connects(srv, heads, sio_factory):
    """Hostile values in each field of the connect auth: refused or let in, never an error of the server."""
    good = {"room": "display:hall-a", "token": None, "last_seq": 0, "lang": "vi"}
    values = [10**30, -(10**30), 2**63, -1, 1.5, float("nan"), True, "", "\x00", "\ud800", "x" * 5000, [], {},
              "display:\x00", "counter:" + HUGE, "ticket:" + HUGE, "ticket:\ud800", "supervisors", "printer:kiosk-1",
              "counter:", ":", "display:hall-a:extra"]
    bad: list[str] = []
    for field in good:
        for value in values:
            auth = {k: v for k, v in {**good, field: value}.items() if v is not None}
            try:
                s = sio_factory(auth)
            except Exception as exc:  # noqa: BLE001 - the walk reports every failure
                bad.append(f"connect {field}={value!r:.40}: {type(exc).__name__}: {exc}"[:200])
                continue
            if not s.connected and (not isinstance(s.refusal, dict) or "data" not in s.refusal
                                    or s.refusal["data"].get("error") in (None, "internal")):
                bad.append(f"connect {field}={value!r:.40} refused without a reason: {s.refusal!r:.120}")
            s.close()
    for auth in (None, 1, "x", [], {"room": None}):
        try:
            sio_factory(auth).close()
        except Exception as exc:  # noqa: BLE001
            bad.append(f"connect auth={auth!r}: {type(exc).__name__}: {exc}"[:200])
    assert not bad, "\n".join(bad)


@pytest.fixture
def sio_factory(srv):
    made = []

    def connect(auth):
        c = srv.socket(auth)
        made.append(c)
        return c

    yield connect
    for c in made:
        c.close()
