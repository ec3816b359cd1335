"""Every action, over REST and over Socket.IO, refuses a bad value of each of its fields with a 4xx (a socket:
ok=false, bad_request) and changes nothing. The table of bad values is built from the action models
(queue_server/web/actions.py), so a new action or field cannot escape it."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from conftest import Clock
from server_util import server_config
from queue_server.config import load_config
from queue_server.web import actions as A
from queue_server.web.app import create_app

ROOT = Path(__file__).parent.parent

# A request each action accepts as valid (it may still be refused by the queue rules, never as bad_request):
# (REST method, URL template, path values, body). The bad values below are this body with one field spoiled.
VALID = {
    "login": ("POST", "/api/v1/login", {}, {"username": "super", "password": "test-super"}),
    "device_status": ("POST", "/api/v1/devices/{kind}/{device}/status", {"kind": "printer", "device": "printer-1"},
                      {"state": "online", "detail": "giấy còn đủ"}),
    "issue": ("POST", "/api/v1/tickets", {}, {"service": "cccd", "priority": True, "priority_group": "elderly"}),
    "next": ("POST", "/api/v1/counters/{counter}/next", {"counter": "1"}, {"current": None}),
    "call": ("POST", "/api/v1/counters/{counter}/call", {"counter": "1"}, {"code": "A001", "service": "cccd"}),
    "open": ("POST", "/api/v1/counters/{counter}/open", {"counter": "2"}, {}),
    "break": ("POST", "/api/v1/counters/{counter}/break", {"counter": "2"}, {}),
    "close": ("POST", "/api/v1/counters/{counter}/close", {"counter": "2"}, {}),
    "recall": ("POST", "/api/v1/tickets/{ticket}/recall", {"ticket": 1}, {"counter": "1"}),
    "no_show": ("POST", "/api/v1/tickets/{ticket}/no-show", {"ticket": 1}, {"counter": "1"}),
    "start": ("POST", "/api/v1/tickets/{ticket}/start", {"ticket": 1}, {"counter": "1"}),
    "finish": ("POST", "/api/v1/tickets/{ticket}/finish", {"ticket": 1}, {"counter": "1"}),
    "park": ("POST", "/api/v1/tickets/{ticket}/park", {"ticket": 1}, {"counter": "1"}),
    "resume": ("POST", "/api/v1/tickets/{ticket}/resume", {"ticket": 1}, {"counter": "1"}),
    "transfer": ("POST", "/api/v1/tickets/{ticket}/transfer", {"ticket": 1},
                 {"counter": "1", "service": "passport", "go_last": True}),
    "cancel": ("POST", "/api/v1/tickets/{ticket}/cancel", {"ticket": 2}, {}),
    "set_service": ("POST", "/api/v1/services/{service}", {"service": "land"},
                    {"state": "auto", "daily_cap": 5, "reset_cap": False}),
    "assign_services": ("PUT", "/api/v1/counters/{counter}/services", {"counter": "4"}, {"services": ["land"]}),
}
MISSING = object()


def bad_values(prop: dict, *, strict: bool = True) -> list[tuple[str, object]]:
    """Values a field with this JSON schema must refuse: wrong type, out of bounds, fraction, too long.
    `strict` (the action models): every text and list field has a maximum length, every number a maximum."""
    alts = [a for a in prop.get("anyOf", [prop]) if a.get("type") != "null"]
    assert len(alts) == 1, f"one type per field: {prop}"
    a = alts[0]
    kind = a.get("type")
    out: list[tuple[str, object]] = []
    if "enum" in a or "const" in a:
        out += [("not one of the choices", "bogus"), ("wrong type", 3)]
    elif kind == "string":
        out.append(("wrong type", 12345))
        if "maxLength" in a:
            out.append(("too long", "x" * (a["maxLength"] + 1)))
        elif "pattern" in a:
            out += [("too long", "a" * 1000), ("not matching", "?!")]
        else:
            assert not strict, f"a text field needs a maximum length: {prop}"
        if a.get("minLength", 0) > 0:
            out.append(("empty", ""))
    elif kind == "integer":
        out += [("wrong type", "abc"), ("fraction", 1.5), ("a boolean", True)]
        if "minimum" in a:
            out.append(("negative" if a["minimum"] >= 0 else "below minimum", min(-5, a["minimum"] - 1)))
        assert "maximum" in a or not strict, f"a number field needs a maximum: {prop}"
        if "maximum" in a:
            out += [("above maximum", a["maximum"] + 1), ("huge", 2**70)]
    elif kind == "boolean":
        out += [("wrong type", "yes"), ("a number", 1)]
    elif kind == "array":
        out.append(("wrong type", "x"))
        if "maxItems" in a:
            out.append(("too many", ["land"] * (a["maxItems"] + 1)))
        else:
            assert not strict, f"a list field needs a maximum length: {prop}"
        out += [(f"item {why}", [v]) for why, v in bad_values(a["items"], strict=strict)]
    else:
        raise AssertionError(f"no bad values known for {prop}")
    return out


def cases():
    """(op, field, why, value) for every field of every action; value MISSING drops a required field."""
    out = []
    for op, model in A.ACTIONS.items():
        schema = model.model_json_schema()
        for field, prop in schema["properties"].items():
            out += [(op, field, why, value) for why, value in bad_values(prop)]
            if field in schema.get("required", []):
                out.append((op, field, "missing", MISSING))
        out.append((op, "bogus_field", "unknown field", 1))
    return out


CASES = cases()


def test_every_action_has_a_valid_example_and_a_route():
    assert set(VALID) == set(A.ACTIONS)
    for op, (_method, template, path, body) in VALID.items():
        model = A.ACTIONS[op]
        assert set(path) == set(model.path), op
        assert all("{" + p + "}" in template for p in model.path), op
        model.model_validate({**body, **path})


def test_every_api_write_route_is_an_action(app):
    """A new write route in the REST API comes with an action model, so it is in the table above."""
    templates = {(m, t.replace("{", "<").replace("}", ">")) for m, t, _, _ in VALID.values()}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.logout":
            continue
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            path = rule.rule.replace("<int:", "<").replace("<ticket_id>", "<ticket>").replace("<counter_id>", "<counter>")
            path = path.replace("<service_id>", "<service>").replace("<device_id>", "<device>")
            assert (method, path) in templates, f"{method} {rule.rule} has no action model in the table"


def test_the_table_covers_each_kind_of_bad_value():
    whys = {(op, why) for op, _f, why, _v in CASES}
    for why in ("wrong type", "too long", "unknown field", "missing"):
        assert ("issue", why) in whys
    assert {("set_service", "negative"), ("set_service", "fraction"), ("cancel", "negative")} <= whys
    assert ("set_service", "daily_cap", "wrong type", "abc") in CASES
    assert len(CASES) > 150


# ------------------------------------------------------------------ the app, in process
def module_app(tmp_path_factory, name: str):
    """The test centre in process for a whole module (nothing in the background); closed after it."""
    tmp = tmp_path_factory.mktemp(name)
    app = create_app(server_config(tmp), db_path=str(tmp / f"{name}.sqlite3"), clock=Clock(), async_mode="threading",
                     start_background=False)
    yield app
    settle(app)
    app.extensions["qms"].store.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    yield from module_app(tmp_path_factory, "actions")


@pytest.fixture(scope="module")
def heads(app):
    c = app.test_client()
    sup = c.post("/api/v1/login", json={"username": "super", "password": "test-super"}).get_json()["token"]
    h = {"Authorization": f"Bearer {sup}"}
    assert c.post("/api/v1/counters/1/open", headers=h).status_code == 200
    for _ in range(3):  # tickets 1-3, waiting: the valid examples would call, finish or cancel them
        assert c.post("/api/v1/tickets", json={"service": "cccd"}, headers=h).status_code == 201
    return {"sup": h, "agent": {"Authorization": "Bearer test-agent-token-1"}, "none": {}, "token": sup}


def settle(app) -> None:
    """Let the slips a valid example queued finish printing (in the background), so they change nothing later."""
    printing = app.extensions["qms_printing"]
    deadline = time.monotonic() + 10
    while printing.busy and time.monotonic() < deadline:
        time.sleep(0.01)


def fingerprint(app) -> tuple[int, str]:
    settle(app)
    store = app.extensions["qms"].store
    dump = "\n".join(store.conn.iterdump())
    return store.last_seq(), hashlib.sha256(dump.encode()).hexdigest()


def who(op: str, heads) -> dict:
    return {"login": heads["none"], "device_status": heads["agent"]}.get(op, heads["sup"])


@pytest.mark.parametrize("op, field, why, value", CASES, ids=[f"{o}-{f}-{w}" for o, f, w, _ in CASES])
def test_rest_refuses_a_bad_field_and_changes_nothing(app, heads, op, field, why, value):
    method, template, path, body = VALID[op]
    path, body = dict(path), dict(body)
    if field in path:
        if value is MISSING or not isinstance(value, (str, int)) or (why == "wrong type" and isinstance(value, int)):
            pytest.skip("a URL segment is always text: only its length and number form can be wrong")
        path[field] = value
    elif value is MISSING:
        body.pop(field, None)
    else:
        body[field] = value
    before = fingerprint(app)
    r = app.test_client().open(template.format(**path), method=method, json=body, headers=who(op, heads))
    assert 400 <= r.status_code < 500, (r.status_code, r.get_data(as_text=True))
    if field not in path or r.status_code not in (404, 405):  # a URL the router does not match: not_found
        assert r.status_code == 400 and r.get_json()["error"] == "bad_request", r.get_json()
        assert field in r.get_json()["message"]
    assert fingerprint(app) == before


@pytest.mark.parametrize("op, field, why, value", [c for c in CASES if A.ACTIONS[c[0]].socket],
                         ids=[f"{o}-{f}-{w}" for o, f, w, _ in CASES if A.ACTIONS[o].socket])
def test_socket_refuses_a_bad_field_and_changes_nothing(app, heads, op, field, why, value):
    _method, _template, path, body = VALID[op]
    data = {"op": op, **path, **body}
    if value is MISSING:
        data.pop(field, None)
    else:
        data[field] = value
    sio = app.extensions["qms"].socketio.test_client(app, auth={"room": "supervisors", "token": heads["token"]})
    try:
        before = fingerprint(app)
        ack = sio.emit("action", data, callback=True)
        assert ack["ok"] is False and ack["error"] == "bad_request", ack
        assert field in ack["message"]
        assert fingerprint(app) == before
    finally:
        sio.disconnect()


@pytest.mark.parametrize("op", list(VALID))
def test_the_valid_examples_pass_validation(app, heads, op):
    """The control for the tables above: the unspoiled request is never refused as a bad request."""
    method, template, path, body = VALID[op]
    r = app.test_client().open(template.format(**path), method=method, json=body, headers=who(op, heads))
    assert r.status_code < 500 and r.get_json().get("error") != "bad_request", r.get_json()
    if A.ACTIONS[op].socket:
        sio = app.extensions["qms"].socketio.test_client(app, auth={"room": "supervisors", "token": heads["token"]})
        ack = sio.emit("action", {"op": op, **path, **body}, callback=True)
        sio.disconnect()
        assert ack.get("error") != "bad_request", ack


@pytest.mark.parametrize("data", [None, [], "next", {"counter": "1"}, {"op": "login", "username": "super"},
                                  {"op": "device_status", "kind": "printer"}, {"op": 5}, {"op": "nope"},
                                  {"op": "finish"}, {"op": "transfer", "service": "passport"}])
def test_socket_refuses_what_is_not_an_action(app, heads, data):
    sio = app.extensions["qms"].socketio.test_client(app, auth={"room": "supervisors", "token": heads["token"]})
    before = fingerprint(app)
    ack = sio.emit("action", data, callback=True)
    sio.disconnect()
    assert ack["ok"] is False and ack["error"] == "bad_request", ack
    assert fingerprint(app) == before


# ------------------------------------------------------------------ the reported case
@pytest.mark.parametrize("cap", ["abc", -5, 1.5, True, "12"])
def test_a_bad_daily_cap_over_a_socket_is_refused_and_public_reads_stay_up(tmp_path, cap):
    """As reported, on the shipped config.yaml: {"op":"set_service","service":"moi_truong","daily_cap":"abc"} was
    saved over a supervisor's socket, and then the public reads answered 500 until the cap was reset."""
    config = load_config(ROOT / "config.yaml")
    app = create_app(config, db_path=str(tmp_path / "cap.sqlite3"), clock=Clock(), async_mode="threading",
                     start_background=False)
    try:
        c = app.test_client()
        token = c.post("/api/v1/login", json={"username": "supervisor", "password": "demo-supervisor"}).get_json()["token"]
        sio = app.extensions["qms"].socketio.test_client(app, auth={"room": "supervisors", "token": token})
        before = fingerprint(app)
        ack = sio.emit("action", {"op": "set_service", "service": "moi_truong", "daily_cap": cap}, callback=True)
        assert ack["ok"] is False and ack["error"] == "bad_request" and "daily_cap" in ack["message"], ack
        assert fingerprint(app) == before
        for path in ("/api/v1/services", "/api/v1/displays/hall-a", "/api/v1/procedures"):
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code)
        services = {s["id"]: s for s in c.get("/api/v1/services").get_json()["services"]}
        assert "moi_truong" in services
        ok = sio.emit("action", {"op": "set_service", "service": "moi_truong", "daily_cap": 40}, callback=True)
        assert ok["ok"] is True, ok
        sio.disconnect()
    finally:
        app.extensions["qms"].store.close()
