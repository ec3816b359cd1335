"""Demo secrets, wherever they hide (issue: hardening, item 1).

A centre that ran the demo once and then switched to a production config.yaml kept the demo accounts' first
passwords in the database: `admin`/`demo-admin` still signed in on a public address. Now an account the file
owns follows its password in the file; a public start and a reload on a public server refuse every demo value
left (in the file and in the database), naming each with its fix; `qms user reset-from-config` and
`qms user passwd` clear them; `qms check-deploy` lists them all.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml
from inproc import InProcessServer
from server_util import ROOT, server_config

from queue_server.accounts import Accounts
from queue_server.cli.commands import main as qms_main
from queue_server.cli.serve import public_refusals
from queue_server.config import load_config
from queue_server.store import Store

DEMO = ROOT / "config.yaml"


def production_config(tmp_path, *, drop=("canbo6",), **centre) -> tuple:
    """The demo centre made ready for production by hand: demo false, a new key, new passwords and tokens,
    the demo-only always_open off, and an account the production file no longer lists."""
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["centre"].update({"demo": False, "public_url": "https://hcc.example.gov.vn", **centre})
    data["server"]["secret_key"] = "k" * 48
    data["queue"]["always_open"] = False
    data["staff"] = [{**s, "password": f"prod-{s['username']}-pw"} for s in data["staff"] if s["username"] not in drop]
    for kind in ("kiosks", "displays", "agents"):
        for d in data["devices"][kind]:
            if d.get("token"):
                d["token"] = f"prod-{d['id']}-0123456789abcdef"
    data["rating"].pop("tablet_token_required", None)
    path = tmp_path / "production.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, load_config(path)


@pytest.fixture(scope="module", autouse=True)
def cheap_hashes():
    """Passwords hashed cheaply (pbkdf2, 1000 rounds) in this process: what is tested is which password each
    account has, and scrypt's 0.1 s per hash and per check would make these tests slow. Checks stay real."""
    import queue_server.accounts as accounts_module
    from werkzeug.security import generate_password_hash

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(accounts_module, "generate_password_hash",
                   lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"))
        yield


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory, cheap_hashes):
    """A database the demo centre ran on once (its accounts seeded with the demo passwords)."""
    path = tmp_path_factory.mktemp("demo") / "qms.sqlite3"
    store = Store(path, load_config(DEMO))
    Accounts(store, store.config).seed_from_config()
    store.close()
    return path


@pytest.fixture
def ran_the_demo(tmp_path, demo_database):
    db = tmp_path / "qms.sqlite3"
    shutil.copy(demo_database, db)
    return db


def sign_in(store, config, username, password) -> bool:
    from queue_server.core.errors import DomainError

    try:
        return Accounts(store, config).login(username, password) is not None
    except DomainError:
        return False


def test_a_public_start_after_the_demo_names_the_demo_account_left_in_the_database(tmp_path, ran_the_demo):
    prod_path, _ = production_config(tmp_path)
    # 192.0.2.10 is a documentation address: a server that did not refuse would fail to bind it instead
    r = subprocess.run([sys.executable, "-m", "queue_server.cli", "serve", "--config", str(prod_path), "--db",
                        str(ran_the_demo), "--host", "192.0.2.10", "--port", "1"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "refusing to listen on 192.0.2.10" in r.stderr
    assert "account 'canbo6' in the database still signs in with a demo password" in r.stderr
    assert "qms user passwd canbo6" in r.stderr
    assert "admin" not in r.stderr.replace("admin page", "")  # the accounts the file lists took its passwords


def test_the_stored_hash_follows_the_file_and_the_old_password_stops_working(tmp_path, ran_the_demo):
    _, prod = production_config(tmp_path)
    store = Store(ran_the_demo, prod)
    try:
        old = load_config(DEMO)
        token, _ = Accounts(store, old).login("admin", "demo-admin")
        Accounts(store, prod).seed_from_config()
        assert not sign_in(store, prod, "admin", "demo-admin")
        assert sign_in(store, prod, "admin", "prod-admin-pw")
        assert Accounts(store, prod).principal_for(token) is None  # the old password's session ended
        # an account changed by hand (qms user passwd) is the database's: the file no longer overwrites it
        Accounts(store, prod).set_password("canbo1", "chosen-by-canbo1")
        Accounts(store, prod).seed_from_config()
        assert sign_in(store, prod, "canbo1", "chosen-by-canbo1")
    finally:
        store.close()


def test_passwd_and_reset_from_config_clear_the_offenders(tmp_path, ran_the_demo, capsys):
    prod_path, prod = production_config(tmp_path)
    assert [x.split(":")[0] for x in public_refusals(prod, str(ran_the_demo))] == [
        "account 'canbo6' in the database still signs in with a demo password"]
    assert qms_main(["user", "passwd", "canbo6", "--password", "a-new-one-for-canbo6", "--config", str(prod_path),
                     "--db", str(ran_the_demo)]) == 0
    assert public_refusals(prod, str(ran_the_demo)) == []
    # an admin set a demo password by hand: named, then `reset-from-config` gives the file's password back
    assert qms_main(["user", "passwd", "supervisor", "--password", "demo-staff", "--config", str(prod_path),
                     "--db", str(ran_the_demo)]) == 0
    assert [x.split(":")[0] for x in public_refusals(prod, str(ran_the_demo))] == [
        "account 'supervisor' in the database still signs in with a demo password"]
    assert qms_main(["user", "reset-from-config", "supervisor", "--config", str(prod_path),
                     "--db", str(ran_the_demo)]) == 0
    assert public_refusals(prod, str(ran_the_demo)) == []
    store = Store(ran_the_demo, prod)
    assert sign_in(store, prod, "supervisor", "prod-supervisor-pw")
    store.close()
    assert qms_main(["user", "reset-from-config", "nobody", "--config", str(prod_path), "--db", str(ran_the_demo)]) == 2
    assert "'nobody' is not in the config file's staff section" in capsys.readouterr().err


def test_every_demo_value_in_the_file_is_named_by_its_key(tmp_path):
    store = Store(tmp_path / "q.sqlite3", load_config(DEMO))
    try:
        got = public_refusals(load_config(DEMO), str(tmp_path / "q.sqlite3"))
    finally:
        store.close()
    whats = [x.split(":")[0] for x in got]
    assert "centre.demo is true" in whats and "server.secret_key is the demo value" in whats
    assert "staff[0] (admin) has a demo password in the config file" in whats
    assert "devices.kiosks[0] (kiosk-1) token is a demo value" in whats
    assert "devices.agents[2] (agent-keypad) token is a demo value" in whats


def test_a_reload_on_a_public_server_refuses_demo_values_and_keeps_the_running_config(tmp_path, clock):
    path = server_config(tmp_path, now=clock())
    srv = InProcessServer(path, tmp_path / "qms.sqlite3", clock)
    try:
        srv.app.config["QMS_LISTEN_HOST"] = "0.0.0.0"  # as `qms serve --host 0.0.0.0` records it
        admin = srv.login("admin", "test-admin")
        running = srv.ctx.config.config_hash()
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["centre"]["demo"] = True
        data["devices"]["kiosks"][0]["token"] = "demo-kiosk-1-token"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        r = srv.post("/api/v1/admin/reload", {}, admin)
        assert r.status_code == 422 and r.json()["error"] == "config_invalid"
        keys = [p["key"] for p in r.json()["problems"]]
        assert keys == ["centre.demo is true", "devices.kiosks[0] (kiosk-1) token is a demo value"], keys
        assert "(the server listens on 0.0.0.0)" in r.json()["problems"][0]["message"]
        assert srv.ctx.config.config_hash() == running
        assert srv.ctx.accounts.principal_for("demo-kiosk-1-token") is None
        srv.app.config["QMS_LISTEN_HOST"] = "127.0.0.1"  # the same file on loopback: a demo may reload it
        assert srv.post("/api/v1/admin/reload", {}, admin).status_code == 200
    finally:
        srv.close()


def test_check_deploy_lists_each_finding_with_its_fix(tmp_path, ran_the_demo, capsys):
    assert qms_main(["check-deploy", "--config", str(DEMO), "--db", str(tmp_path / "fresh.sqlite3")]) == 1
    out = capsys.readouterr().out
    assert "ERROR    centre.demo is true\n         fix: set it to false" in out
    assert "queue.always_open is true" in out and "centre.public_url is http://127.0.0.1:5000 (not https)" in out
    prod_path, _ = production_config(tmp_path)
    assert qms_main(["check-deploy", "--config", str(prod_path), "--db", str(ran_the_demo), "--host", "0.0.0.0"]) == 1
    out = capsys.readouterr().out
    assert "account 'canbo6' in the database still signs in with a demo password" in out
    assert "server.host 0.0.0.0 is reachable without the TLS proxy" in out
    qms_main(["user", "passwd", "canbo6", "--password", "a-new-one-for-canbo6", "--config", str(prod_path),
              "--db", str(ran_the_demo)])
    capsys.readouterr()
    assert qms_main(["check-deploy", "--config", str(prod_path), "--db", str(ran_the_demo)]) == 0
    assert "0 error(s)" in capsys.readouterr().out
