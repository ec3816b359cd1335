"""`qms`, the one command-line entry point, run as a real process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from queue_server.accounts import Accounts
from queue_server.config import load_config
from queue_server.store import Store

ROOT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "centre.yaml"


def qms(*args, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queue_server.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, input=input, timeout=60)


def test_migrate_and_summary(tmp_path):
    db = tmp_path / "cli.sqlite3"
    r = qms("migrate", "--config", str(FIXTURE), "--db", str(db))
    assert r.returncode == 0 and "0001_core" in r.stdout
    r = qms("migrate", "--config", str(FIXTURE), "--db", str(db))
    assert r.returncode == 0 and "up to date" in r.stdout
    r = qms("summary", "--config", str(FIXTURE), "--db", str(db))
    assert r.returncode == 0
    assert "Trung tâm Kiểm thử" in r.stdout and "Hộ tịch: numbers A001-A999" in r.stdout


def test_user_add_passwd_and_device_token(tmp_path, capsys):
    """`qms user add/passwd` and `qms device-token`, through the command's own entry (`main`) in this process: the
    process entry itself is run by the other tests of this file."""
    from queue_server.cli.commands import main

    db = tmp_path / "cli.sqlite3"
    where = ["--config", str(FIXTURE), "--db", str(db)]

    def run(*args) -> tuple[int, str, str]:
        code = main([*args, *where])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, _, err = run("user", "add", "canbo9", "--password", "secret-9", "--role", "staff", "--counters", "1,2",
                       "--full-name", "Lê Thị Chín")
    assert code == 0, err
    code, _, err = run("user", "add", "canbo9", "--password", "secret-9")
    assert code == 2 and "exists already" in err
    code, _, err = run("user", "add", "canbo8", "--password", "x")
    assert code == 2 and "at least 6" in err
    code, _, err = run("user", "add", "canbo7", "--password", "secret-7", "--counters", "99")
    assert code == 2 and "unknown counter" in err
    assert run("user", "passwd", "canbo9", "--password", "secret-10")[0] == 0
    code, out, _ = run("device-token", "kiosk", "kiosk-9")
    assert code == 0
    token = out.strip()
    cfg = load_config(FIXTURE)
    store = Store(db, cfg)
    accounts = Accounts(store, cfg)
    assert accounts.login("canbo9", "secret-9") is None
    got = accounts.login("canbo9", "secret-10")
    assert got is not None and got[1].full_name == "Lê Thị Chín" and got[1].counters == ("1", "2")
    p = accounts.principal_for(token)
    assert p.kind == "device" and p.device_kind == "kiosk" and p.device_id == "kiosk-9"
    store.close()


def test_close_day(tmp_path):
    db = tmp_path / "cli.sqlite3"
    cfg_text = FIXTURE.read_text(encoding="utf-8").replace("  repeat_press_seconds: 0", "  repeat_press_seconds: 0\n  always_open: true")
    cfg = tmp_path / "open.yaml"
    cfg.write_text(cfg_text, encoding="utf-8")
    store = Store(db, load_config(cfg))
    store.issue("cccd")
    store.issue("civil")
    store.close()
    r = qms("close-day", "--config", str(cfg), "--db", str(db))
    assert r.returncode == 0 and "2 tickets marked unserved" in r.stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_serve_refuses_public_address_with_demo_secrets(host, tmp_path):
    r = qms("serve", "--config", "config.yaml", "--db", str(tmp_path / "x.sqlite3"), "--host", host, "--port", "1")
    assert r.returncode == 2
    assert f"refusing to listen on {host}" in r.stderr and "server.secret_key" in r.stderr


def test_serve_reports_a_bad_config(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(FIXTURE.read_text(encoding="utf-8").replace("  name_en: Test Centre", "  name_en: Test Centre\n  bogus: 1"),
                   encoding="utf-8")
    r = qms("serve", "--config", str(bad), "--db", str(tmp_path / "x.sqlite3"))
    assert r.returncode == 2 and "centre.bogus: unknown key" in r.stderr
