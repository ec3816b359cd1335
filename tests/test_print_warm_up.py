"""A server with local printers draws and builds a slip once before it serves, so the libraries' first imports
(python-escpos' capabilities, Pillow's PNG writer) never happen on the native thread that draws slips under
eventlet: racing an import on the hub, that thread waited on a green lock and the hub died ("Cannot switch to a
different thread"), hanging every later request (seen on a fresh machine, where the first import is slow)."""
from __future__ import annotations

import json
import subprocess
import sys

from server_util import ROOT, server_config

PROBE = """
import json, sys
import queue_server.accounts as accounts
from werkzeug.security import generate_password_hash
accounts.generate_password_hash = lambda p: generate_password_hash(p, method="pbkdf2:sha256:1000")  # cheap seeding
from queue_server.web.app import create_app
before = {m for m in ("escpos.printer", "escpos.capabilities", "PIL.PngImagePlugin") if m in sys.modules}
create_app(sys.argv[1], db_path=sys.argv[2], async_mode="threading")
after = {m for m in ("escpos.printer", "escpos.capabilities", "PIL.PngImagePlugin") if m in sys.modules}
print(json.dumps({"before": sorted(before), "after": sorted(after)}))
sys.stdout.flush()
import os; os._exit(0)
"""


def test_a_server_with_local_printers_imports_what_slips_need_before_it_serves(tmp_path):
    cfg = server_config(tmp_path)
    out = subprocess.run([sys.executable, "-c", PROBE, str(cfg), str(tmp_path / "qms.sqlite3")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["before"] == []  # nothing printed yet: the imports are the start's own
    assert got["after"] == ["PIL.PngImagePlugin", "escpos.capabilities", "escpos.printer"], got
