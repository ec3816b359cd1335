"""require(role): the one role check of the web toolkit, used by every blueprint and by the sockets."""
from __future__ import annotations

import pytest

from queue_server.accounts import ANONYMOUS, Principal
from queue_server.core.errors import DomainError
from queue_server.web.toolkit import require

WHO = {
    "anonymous": ANONYMOUS,
    "kiosk": Principal(kind="device", device_kind="kiosk", device_id="kiosk-1"),
    "display": Principal(kind="device", device_kind="display", device_id="hall-a"),
    "agent": Principal(kind="device", device_kind="agent", device_id="agent-1"),
    "staff": Principal(kind="staff", role="staff", staff_id=3, username="canbo1", counters=("1",)),
    "supervisor": Principal(kind="staff", role="supervisor", staff_id=2, username="super"),
    "admin": Principal(kind="staff", role="admin", staff_id=1, username="admin"),
}
# roles asked -> who passes
ALLOWED = {
    ("anonymous",): set(WHO),
    ("signed_in",): set(WHO) - {"anonymous"},
    ("device",): {"kiosk", "display", "agent"},
    ("kiosk",): {"kiosk"},
    ("agent",): {"agent"},
    ("display",): {"display"},
    ("staff",): {"staff", "supervisor", "admin"},
    ("supervisor",): {"supervisor", "admin"},
    ("admin",): {"admin"},
    ("device", "supervisor"): {"kiosk", "display", "agent", "supervisor", "admin"},
    ("staff", "kiosk"): {"kiosk", "staff", "supervisor", "admin"},
    ("supervisor", "agent"): {"agent", "supervisor", "admin"},
}


@pytest.mark.parametrize("roles", list(ALLOWED), ids="+".join)
@pytest.mark.parametrize("who", list(WHO))
def test_require(roles, who):
    p = WHO[who]
    if who in ALLOWED[roles]:
        assert require(*roles, p=p) is p
        return
    with pytest.raises(DomainError) as err:
        require(*roles, p=p)
    assert err.value.code == ("unauthenticated" if who == "anonymous" else "forbidden")


def test_the_forbidden_answer_names_who_may():
    with pytest.raises(DomainError) as err:
        require("device", "supervisor", p=WHO["staff"])
    assert err.value.params == {"reason": "devices and supervisors only"}
    with pytest.raises(DomainError) as err:
        require("staff", p=WHO["kiosk"])
    assert err.value.message("vi") == "Không có quyền: staff only."
    with pytest.raises(DomainError) as err:
        require("agent", p=WHO["staff"], reason="keypad ratings come from keypad agents")
    assert err.value.params == {"reason": "keypad ratings come from keypad agents"}


@pytest.mark.parametrize("roles", [(), ("superuser",), ("staff", "root")])
def test_an_unknown_role_is_a_programming_error(roles):
    with pytest.raises(ValueError):
        require(*roles, p=WHO["admin"])
