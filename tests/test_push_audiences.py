"""Push per audience: a public display never sees staff or priority groups, live or on catch-up; catch-up
replays what the live path sent; staff and supervisors still see names; voice only where it is played."""
from __future__ import annotations

import copy

import pytest
import yaml

from queue_server.web.app import create_app
from tests.conftest import Clock
from tests.server_util import server_config

PRIVATE_KEYS = {"staff_id", "staff_name", "priority_group", "staff", "username", "full_name", "token", "actor"}
STAFF_NAME = "Nguyễn Văn An"  # canbo1 in the test centre
GROUP = ("disabled", "Người khuyết tật")


def leaks(obj, path="$"):
    """Every place in a payload where a staff name, staff id or priority group shows."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in PRIVATE_KEYS and v not in (None, "", [], {}):
                found.append(f"{path}.{k}={v!r}")
            found += leaks(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            found += leaks(v, f"{path}[{i}]")
    elif isinstance(obj, str) and (obj == STAFF_NAME or obj in GROUP):
        found.append(f"{path}={obj!r}")
    return found


def has_key(obj, key) -> bool:
    if isinstance(obj, dict):
        return key in obj or any(has_key(v, key) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(has_key(v, key) for v in obj)
    return False


def contains(obj, value) -> bool:
    if isinstance(obj, dict):
        return any(contains(v, value) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(contains(v, value) for v in obj)
    return obj == value


@pytest.fixture
def centre(tmp_path):
    clock = Clock()
    app = create_app(server_config(tmp_path, extra_counters=0), db_path=str(tmp_path / "q.sqlite3"),
                     async_mode="threading", clock=clock, start_background=False)
    ctx = app.extensions["qms"]
    client = app.test_client()

    def login(user, password="test-staff"):
        return {"Authorization": "Bearer " + client.post("/api/v1/login", json={"username": user, "password": password}).json["token"]}

    yield app, ctx, client, clock, login
    ctx.store.close()


def events_of(sio_client, names=None):
    out = []
    for m in sio_client.get_received():
        if names is None or m["name"] in names:
            out.append((m["name"], m["args"][0]))
    return out


def a_busy_morning(client, clock, staff, sup):
    """A priority ticket of a group and plain ones, called, recalled, served, parked, resumed, transferred."""
    def ok(path, who, **body):
        clock.advance(5)
        r = client.post("/api/v1" + path, json=body or None, headers=who)
        assert r.status_code in (200, 201), (path, r.json)
        return r.json

    ok("/counters/1/open", staff)
    ok("/counters/2/open", sup)
    pri = ok("/tickets", staff, service="cccd", priority_group=GROUP[0])
    plain = [ok("/tickets", staff, service="cccd") for _ in range(4)]
    t = ok("/counters/1/next", staff)["ticket"]
    assert t["id"] == pri["id"]
    for op in ("recall", "start", "finish"):
        ok(f"/tickets/{t['id']}/{op}", staff)
    t = ok("/counters/1/next", staff)["ticket"]
    ok(f"/tickets/{t['id']}/park", staff)
    t2 = ok("/counters/1/next", staff)["ticket"]
    ok(f"/tickets/{t2['id']}/transfer", staff, to_counter="2")
    t3 = ok("/counters/2/next", sup)["ticket"]
    ok(f"/tickets/{t3['id']}/no-show", sup)
    ok(f"/tickets/{t['id']}/resume", staff, counter="1")
    ok("/counters/1/next", staff)
    ok("/counters/1/break", staff)
    ok("/counters/1/open", staff)
    return pri, plain


def test_an_anonymous_display_never_sees_staff_or_priority_groups_live_or_on_catch_up(centre):
    app, ctx, client, clock, login = centre
    staff, sup = login("canbo1"), login("super", "test-super")
    live = ctx.socketio.test_client(app, auth={"room": "display:hall-a"})
    later = ctx.socketio.test_client(app, auth={"room": "display:hall-a"})
    snap = [d for n, d in events_of(later) if n == "snapshot"][0]
    later.disconnect()
    events_of(live)  # the greeting

    a_busy_morning(client, clock, staff, sup)
    received = events_of(live)
    names = [n for n, _ in received]
    assert "ticket.called" in names and "counter.updated" in names and "ticket.updated" in names
    for name, data in received:
        assert leaks(data) == [], (name, leaks(data))

    again = ctx.socketio.test_client(app, auth={"room": "display:hall-a", "last_seq": snap["seq"]})
    replay = [(n, d) for n, d in events_of(again) if n != "hello"]
    assert replay, "the missed events are replayed"
    for name, data in replay:
        assert leaks(data) == [], (name, leaks(data))
        assert data.get("replayed") is True, name


def test_catch_up_replays_exactly_what_a_live_display_received(centre):
    app, ctx, client, clock, login = centre
    staff, sup = login("canbo1"), login("super", "test-super")
    live = ctx.socketio.test_client(app, auth={"room": "display:hall-a"})
    first = [d for n, d in events_of(live) if n == "snapshot"][0]
    a_busy_morning(client, clock, staff, sup)
    sent = [(n, d) for n, d in events_of(live) if n != "queue.updated"]  # queue counts are coalesced, not logged

    again = ctx.socketio.test_client(app, auth={"room": "display:hall-a", "last_seq": first["seq"]})
    replay = [(n, d) for n, d in events_of(again) if n != "hello"]

    def unmarked(pairs):
        out = []
        for n, d in pairs:
            d = copy.deepcopy(d)
            d.pop("replayed", None)
            d.pop("prev", None)  # the live link between messages of a room (a replay has none)
            out.append((n, d))
        return out

    assert [n for n, _ in replay] == [n for n, _ in sent]
    assert unmarked(replay) == unmarked(sent)
    assert "ticket.issued" not in [n for n, _ in replay], "the live path never sends issued tickets to displays"


def test_supervisors_and_staff_see_names_and_groups_voice_only_on_displays(centre):
    app, ctx, client, clock, login = centre
    staff, sup = login("canbo1"), login("super", "test-super")
    supervisors = ctx.socketio.test_client(app, auth={"room": "supervisors", "token": sup["Authorization"][7:]})
    counter = ctx.socketio.test_client(app, auth={"room": "counter:1", "token": staff["Authorization"][7:]})
    display = ctx.socketio.test_client(app, auth={"room": "display:hall-a"})
    for c in (supervisors, counter, display):
        events_of(c)
    pri, _ = a_busy_morning(client, clock, staff, sup)

    seen = events_of(supervisors)
    assert contains(seen, STAFF_NAME) and contains(seen, GROUP[0]), "supervisors see everything"
    assert "ticket.issued" in [n for n, _ in seen]
    at_counter = events_of(counter)
    assert contains(at_counter, STAFF_NAME), "staff see names"
    shown = events_of(display)

    def calls(pairs):
        return [d for n, d in pairs if n == "ticket.called"]

    assert calls(shown) and all(c["call"]["voice"] for c in calls(shown)), "displays play the call"
    for who in (seen, at_counter):
        assert calls(who) and not any(has_key(c, "voice") for c in calls(who)), "no clip list where none is played"


def test_a_phone_sees_its_own_ticket_public_view(centre):
    app, ctx, client, clock, login = centre
    staff = login("canbo1")
    client.post("/api/v1/counters/1/open", headers=staff)
    pri = client.post("/api/v1/tickets", json={"service": "cccd", "priority_group": GROUP[0]}, headers=staff).json
    phone = ctx.socketio.test_client(app, auth={"room": "ticket:" + pri["token"]})
    events_of(phone)
    client.post("/api/v1/counters/1/next", headers=staff)
    assert client.post(f"/api/v1/tickets/{pri['id']}/finish", headers=staff).status_code == 200
    got = events_of(phone, {"ticket.called", "ticket.updated"})
    assert [n for n, _ in got] == ["ticket.called", "ticket.updated"]
    for name, data in got:
        assert data["ticket"]["id"] == pri["id"] and data["ticket"]["code"] == pri["code"]
        assert leaks(data) == [], (name, leaks(data))
        assert not has_key(data, "voice")


def test_display_feed_has_no_staff_fields(centre):
    app, ctx, client, clock, login = centre
    staff = login("canbo1")
    client.post("/api/v1/counters/1/open", headers=staff)
    client.post("/api/v1/tickets", json={"service": "cccd", "priority_group": GROUP[0]}, headers=staff)
    client.post("/api/v1/counters/1/next", headers=staff)
    feed = client.get("/api/v1/displays/hall-a").json
    assert feed["state"]["counters"] and feed["state"]["recent_calls"]
    assert leaks(feed) == []
    current = next(c for c in feed["state"]["counters"] if c["id"] == "1")["current"]
    assert current["code"] and current["service"] == "cccd"


def test_a_display_setting_shows_staff_names_and_priority_groups(tmp_path):
    path = server_config(tmp_path, extra_counters=0)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["displays"].append({"id": "plate-1", "kind": "counter", "counter": "1",
                                        "show_extra": ["staff_name", "priority_group"]})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    app = create_app(path, db_path=str(tmp_path / "q.sqlite3"), async_mode="threading", clock=Clock(),
                     start_background=False)
    ctx = app.extensions["qms"]
    try:
        client = app.test_client()
        staff = {"Authorization": "Bearer " + client.post("/api/v1/login", json={"username": "canbo1", "password": "test-staff"}).json["token"]}
        plate = ctx.socketio.test_client(app, auth={"room": "display:plate-1"})
        hall = ctx.socketio.test_client(app, auth={"room": "display:hall-a"})
        events_of(plate), events_of(hall)
        client.post("/api/v1/counters/1/open", headers=staff)
        client.post("/api/v1/tickets", json={"service": "cccd", "priority_group": GROUP[0]}, headers=staff)
        client.post("/api/v1/counters/1/next", headers=staff)
        on_plate = events_of(plate)
        assert contains(on_plate, STAFF_NAME) and contains(on_plate, GROUP[0])
        assert not has_key(on_plate, "staff_id")
        assert leaks(events_of(hall)) == []
        feed = client.get("/api/v1/displays/plate-1").json
        assert contains(feed, STAFF_NAME) and contains(feed, GROUP[0])
    finally:
        ctx.store.close()
