"""Names that say what things are: no two classes of the server share a name (the queue's Counter in the core
and a counter's settings in the config once did; so did the device registry and the devices' settings).
Agents install alone on a kiosk PC, each with its own few names, so they are checked one agent at a time."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEVICE_PACKAGES = ("displays", "ticket_printer", "feedback_buttons")


def class_names(files) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = defaultdict(list)
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                seen[node.name].append(str(path.relative_to(ROOT)))
    return {name: where for name, where in seen.items() if len(where) > 1}


def server_files():
    yield from (ROOT / "queue_server").rglob("*.py")
    for pkg in DEVICE_PACKAGES:
        for part in ("server", "shared"):
            yield from (ROOT / pkg / part).rglob("*.py")


def test_no_two_server_classes_share_a_name():
    assert class_names(server_files()) == {}


def test_no_two_classes_of_one_agent_share_a_name():
    for pkg in DEVICE_PACKAGES:
        files = [*(ROOT / pkg / "agent").rglob("*.py"), *(ROOT / pkg / "shared").rglob("*.py"),
                 *(ROOT / "device_kit").rglob("*.py")]
        assert class_names(files) == {}, pkg


def test_the_check_finds_a_shared_name(tmp_path, monkeypatch):
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    (tmp_path / "a.py").write_text("class Counter:\n    pass\n")
    (tmp_path / "b.py").write_text("def f():\n    class Counter:\n        pass\n")
    assert class_names([tmp_path / "a.py", tmp_path / "b.py"]) == {"Counter": ["a.py", "b.py"]}
