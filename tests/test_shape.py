"""The shape the code keeps (docs/architecture.md): the core is plain Python that imports nothing of ours but
itself and no I/O library; modules stay small enough to read (about 400 lines)."""
from __future__ import annotations

from pathlib import Path

from codescan import imports_of

ROOT = Path(__file__).resolve().parent.parent
OURS = ("queue_server", "displays", "ticket_printer", "feedback_buttons", "device_kit")
NO_IO = ("sqlite3", "sqlite_utils", "flask", "flask_socketio", "socketio", "socket", "requests", "serial", "eventlet",
         "gevent", "redis", "subprocess", "threading", "escpos", "PIL", "openpyxl", "yaml")
MAX_LINES = 420  # "about 400": a module past this is split


def test_the_core_imports_only_itself_and_no_io():
    bad = {}
    for path in sorted((ROOT / "queue_server" / "core").glob("*.py")):
        wrong = {m for m in imports_of(path)
                 if (m.split(".")[0] in OURS and not m.startswith("queue_server.core")) or m.split(".")[0] in NO_IO}
        if wrong:
            bad[path.name] = sorted(wrong)
    assert bad == {}


def test_the_check_sees_a_store_import_in_a_function(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from queue_server.store import Store\n    import sqlite3\n")
    assert imports_of(f) == {"queue_server.store", "sqlite3"}


def test_modules_stay_about_400_lines():
    sizes = {}
    for top in OURS:
        for path in (ROOT / top).rglob("*.py"):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > MAX_LINES:
                sizes[str(path.relative_to(ROOT))] = n
    assert sizes == {}
