"""A socket's credentials are checked again: a revoked device token, an expired token, a signed-out token and a
disabled account are each refused on a socket opened before the change, and the socket is disconnected — at once
when the change is made through this server, on its next action or the idle re-check when another process (the
CLI, a second server on the same database) made it or the token simply expired."""
from __future__ import annotations

import time

import pytest

from conftest import Clock
from server_util import server_config
from queue_server.accounts import Accounts
from queue_server.store import Store
from queue_server.web.app import create_app


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(tmp_path, clock):
    cfg = server_config(tmp_path)  # agent-1 drives counter 3's LED board: it may join counter:3
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "\ndevices:\n", "\ndevices:\n  led_boards:\n  - {id: led-3, counter: '3', port: 'fake://led-boards', agent: agent-1}\n",
        1), encoding="utf-8")
    app = create_app(cfg, db_path=str(tmp_path / "cred.sqlite3"), clock=clock,
                     async_mode="threading", start_background=False)
    yield app
    slips_printed(app)
    app.extensions["qms"].sockets.drain()  # a refused socket's delayed disconnect reports through the store
    app.extensions["qms"].store.close()


def slips_printed(app) -> None:
    """A kiosk's ticket prints a slip in the background: let it end. (In this threading mode that thread reads
    on the server's one connection; a read still going when another process writes holds the snapshot from
    before the write, and this thread's next read, on the same connection, would see that snapshot too.)"""
    printing = app.extensions["qms_printing"]
    deadline = time.monotonic() + 10
    while printing.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not printing.busy


@pytest.fixture
def other_process(app, clock):
    """Accounts on a second connection to the same database, as the `qms` CLI or a second server holds it:
    its changes reach this server's sockets only through the re-check."""
    ctx = app.extensions["qms"]
    store = Store(ctx.store.path, ctx.config, clock=clock)
    yield Accounts(store, ctx.config)
    store.close()


def login(app, username: str, password: str) -> str:
    r = app.test_client().post("/api/v1/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def connect(app, room: str, token: str):
    sio = app.extensions["qms"].socketio.test_client(app, auth={"room": room, "token": token})
    assert sio.is_connected()
    return sio


def issue(sio) -> dict:
    return sio.emit("action", {"op": "issue", "service": "cccd"}, callback=True)


def wait_disconnected(sio, seconds: float = 5) -> bool:
    """A refused action's socket is disconnected just after its answer went out."""
    deadline = time.monotonic() + seconds
    while sio.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not sio.is_connected()


def tickets(app) -> int:
    return app.extensions["qms"].store.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]


def kiosk_token(app) -> tuple[str, str]:
    admin = login(app, "admin", "test-admin")
    r = app.test_client().post("/api/v1/admin/device-tokens", json={"kind": "kiosk", "device_id": "kiosk-1"},
                               headers=bearer(admin))
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"], r.get_json()["id"]


def refused(app, sio) -> None:
    """The socket's next action is refused as unauthenticated, nothing is issued, and the socket is dropped."""
    before = tickets(app)
    ack = issue(sio)
    assert ack["ok"] is False and ack["error"] == "unauthenticated", ack
    assert tickets(app) == before
    assert wait_disconnected(sio)


def refused_on_connect(app, room: str, token: str) -> None:
    sio = app.extensions["qms"].socketio.test_client(app, auth={"room": room, "token": token})
    assert not sio.is_connected()


# ------------------------------------------------------------------ a change made through this server: at once
def test_revoking_a_device_token_disconnects_its_kiosk_socket_at_once(app):
    token, token_id = kiosk_token(app)
    sio = connect(app, "kiosk:kiosk-1", token)
    assert issue(sio)["ok"] is True
    admin = login(app, "admin", "test-admin")
    r = app.test_client().post(f"/api/v1/admin/device-tokens/{token_id}/revoke", headers=bearer(admin))
    assert r.status_code == 200
    assert not sio.is_connected()
    refused_on_connect(app, "kiosk:kiosk-1", token)


def test_signing_out_disconnects_the_sockets_of_that_token_only(app):
    token = login(app, "canbo1", "test-staff")
    other = login(app, "canbo1", "test-staff")
    sio, keeps = connect(app, "counter:1", token), connect(app, "counter:1", other)
    assert app.test_client().post("/api/v1/logout", headers=bearer(token)).status_code == 200
    assert not sio.is_connected()
    assert keeps.is_connected() and issue(keeps)["ok"] is True
    refused_on_connect(app, "counter:1", token)


def test_disabling_an_account_disconnects_its_sockets_at_once(app):
    token = login(app, "canbo1", "test-staff")
    sio = connect(app, "counter:1", token)
    admin = login(app, "admin", "test-admin")
    r = app.test_client().patch("/api/v1/admin/staff/canbo1", json={"active": False}, headers=bearer(admin))
    assert r.status_code == 200, r.get_json()
    assert not sio.is_connected()
    refused_on_connect(app, "counter:1", token)


def test_a_new_password_ends_the_sockets_of_the_old_sessions(app):
    token = login(app, "canbo1", "test-staff")
    sio = connect(app, "counter:1", token)
    admin = login(app, "admin", "test-admin")
    r = app.test_client().post("/api/v1/admin/staff/canbo1/password", json={"password": "moi-mat-khau"},
                               headers=bearer(admin))
    assert r.status_code == 200, r.get_json()
    assert not sio.is_connected()


def test_losing_a_counter_drops_the_socket_in_its_room_but_not_elsewhere(app):
    token = login(app, "canbo1", "test-staff")
    at_1, at_2 = connect(app, "counter:1", token), connect(app, "counter:2", token)
    admin = login(app, "admin", "test-admin")
    r = app.test_client().patch("/api/v1/admin/staff/canbo1", json={"counters": ["2"]}, headers=bearer(admin))
    assert r.status_code == 200, r.get_json()
    assert not at_1.is_connected()
    assert at_2.is_connected()
    ack = at_2.emit("action", {"op": "open", "counter": "1"}, callback=True)
    assert ack["ok"] is False and ack["error"] == "forbidden", ack  # the fresh principal: counter 1 is no longer hers
    assert at_2.emit("action", {"op": "open", "counter": "2"}, callback=True)["ok"] is True


# ------------------------------------------------------------------ another process, or time: next action, idle re-check
def test_a_device_token_revoked_by_another_process_is_refused_on_the_open_socket(app, other_process):
    token, token_id = kiosk_token(app)
    sio = connect(app, "kiosk:kiosk-1", token)
    assert issue(sio)["ok"] is True
    slips_printed(app)
    other_process.revoke_device_token(token_id)
    assert sio.is_connected()  # this server was not told
    refused(app, sio)


def test_a_sign_out_in_another_process_is_refused_on_the_open_socket(app, other_process):
    token = login(app, "super", "test-super")
    sio = connect(app, "supervisors", token)
    assert issue(sio)["ok"] is True
    other_process.logout(token)
    refused(app, sio)


def test_an_account_disabled_by_another_process_is_refused_on_the_open_socket(app, other_process):
    token = login(app, "super", "test-super")
    sio = connect(app, "supervisors", token)
    other_process.update_user("super", active=False)
    refused(app, sio)


def test_an_expired_token_is_refused_on_the_open_socket(app, clock):
    token = login(app, "super", "test-super")
    sio = connect(app, "supervisors", token)
    hours = app.extensions["qms"].config.server.token_hours
    clock.advance(hours=hours - 0.01)
    assert issue(sio)["ok"] is True  # still inside its lifetime
    clock.advance(hours=0.02)
    refused(app, sio)
    refused_on_connect(app, "supervisors", token)


def test_the_idle_recheck_drops_what_no_longer_holds_and_keeps_the_rest(app, clock, other_process):
    """What the background tick runs every RECHECK_SECONDS: an idle socket does not wait for its next action."""
    sockets = app.extensions["qms"].sockets
    dev_token, token_id = kiosk_token(app)
    revoked = connect(app, "kiosk:kiosk-1", dev_token)
    expiring = connect(app, "supervisors", login(app, "super", "test-super"))
    disabled = connect(app, "counter:3", login(app, "canbo3", "test-staff"))
    staying = connect(app, "counter:1", login(app, "canbo1", "test-staff"))
    anonymous = app.extensions["qms"].socketio.test_client(app, auth={"room": "display:hall-a"})
    config_agent = connect(app, "counter:3", "test-agent-token-1")
    assert sockets.recheck_all() == 0
    other_process.revoke_device_token(token_id)
    other_process.update_user("canbo3", active=False)
    assert all(s.is_connected() for s in (revoked, disabled))
    assert sockets.recheck_all() == 2
    assert not revoked.is_connected() and not disabled.is_connected()
    assert expiring.is_connected() and staying.is_connected()
    clock.advance(hours=app.extensions["qms"].config.server.token_hours + 1)
    assert sockets.recheck_all() == 2  # both staff sign-ins expired
    assert not expiring.is_connected() and not staying.is_connected()
    assert anonymous.is_connected() and config_agent.is_connected()


def test_a_dropped_device_is_reported_offline(app):
    token, token_id = kiosk_token(app)
    connect(app, "kiosk:kiosk-1", token)
    states = {(d["kind"], d["device_id"]): d for d in app.extensions["qms"].devices.states()}
    assert states[("kiosk", "kiosk-1")]["state"] == "online"
    admin = login(app, "admin", "test-admin")
    app.test_client().post(f"/api/v1/admin/device-tokens/{token_id}/revoke", headers=bearer(admin))
    states = {(d["kind"], d["device_id"]): d for d in app.extensions["qms"].devices.states()}
    assert states[("kiosk", "kiosk-1")]["state"] == "offline"


def test_the_background_task_runs_the_recheck(app, other_process, monkeypatch):
    from queue_server.web import sockets as sockets_module

    assert sockets_module.RECHECK_SECONDS <= 60  # idle sockets are checked at least once a minute
    monkeypatch.setattr(sockets_module, "RECHECK_SECONDS", 0.01)
    token = login(app, "super", "test-super")
    sio = connect(app, "supervisors", token)
    other_process.logout(token)
    app.extensions["qms"].sockets.keep_checking(rounds=1)
    assert not sio.is_connected()
