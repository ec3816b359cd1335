"""docs/security.md covers the roles, the secrets and the commands that check and clear them; the demo
passwords the deploy check knows are all those config.yaml ships."""
from __future__ import annotations

from pathlib import Path

import yaml

from queue_server.accounts import ROLES
from queue_server.deploy_check import DEMO_PASSWORDS

ROOT = Path(__file__).parent.parent
DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def test_every_password_the_demo_ships_is_a_known_demo_password():
    demo = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    assert {s["password"] for s in demo["staff"]} <= DEMO_PASSWORDS


def test_security_doc_names_each_role_secret_and_command():
    for role in (*ROLES, "kiosk token", "display token", "agent token", "anyone (no token)"):
        assert role in DOC, role
    for secret in ("server.secret_key", "staff[].password", "devices.kiosks/displays/agents[].token",
                   "qms device-token", "ticket_token", "server.token_hours"):
        assert f"`{secret}`" in DOC, secret
    for command in ("qms check-deploy", "qms user passwd", "qms user reset-from-config", "qms reload"):
        assert command in DOC, command
    for setting in ("rating.tablet_token_required", "rating.anonymous_per_minute", "login_throttle",
                    "server.allowed_origins"):
        assert f"`{setting}`" in DOC, setting


def test_the_product_hashes_passwords_with_scrypt(tmp_path):
    """The tests' own processes hash cheaply (tests/conftest.py); the product, in a process of its own, uses
    werkzeug's scrypt."""
    import subprocess
    import sys

    script = ("import sys; from queue_server.config import load_config; from queue_server.store import Store; "
              "from queue_server.accounts import Accounts; from queue_server.store import accounts as rows; "
              "s = Store(sys.argv[1], load_config('tests/fixtures/centre.yaml')); a = Accounts(s, s.config); "
              "a.seed_from_config(); print(rows.active_password_hashes(s)[0][1].split(':')[0]); s.close()")
    r = subprocess.run([sys.executable, "-c", script, str(tmp_path / "q.sqlite3")], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "scrypt"
