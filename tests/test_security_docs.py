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
