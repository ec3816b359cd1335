"""After a write: the answer and the push come from what the write returned, and the store leaves the
queue's rules to the core."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from queue_server.web.app import create_app
from tests.conftest import Clock
from tests.server_util import server_config

ROOT = Path(__file__).parent.parent


def test_next_reads_neither_counter_nor_ticket_back_after_commit(tmp_path):
    clock = Clock()
    app = create_app(server_config(tmp_path, extra_counters=0), db_path=str(tmp_path / "q.sqlite3"),
                     async_mode="threading", clock=clock, start_background=False)
    ctx = app.extensions["qms"]
    try:
        client = app.test_client()
        staff = {"Authorization": "Bearer " + client.post("/api/v1/login", json={"username": "canbo1", "password": "test-staff"}).json["token"]}
        watchers = [ctx.socketio.test_client(app, auth={"room": room, "token": staff["Authorization"][7:]})
                    for room in ("counter:1", "display:hall-a")]
        client.post("/api/v1/counters/1/open", headers=staff)
        client.post("/api/v1/tickets", json={"service": "cccd"}, headers=staff)
        client.post("/api/v1/tickets", json={"service": "cccd"}, headers=staff)
        assert client.post("/api/v1/counters/1/next", headers=staff).status_code == 200
        clock.advance(30)  # past the repeated-press window
        statements: list[str] = []
        ctx.store.conn.set_trace_callback(statements.append)
        try:
            r = client.post("/api/v1/counters/1/next", headers=staff)  # finishes 1001, calls 1002
        finally:
            ctx.store.conn.set_trace_callback(None)
        assert r.status_code == 200 and r.json["ticket"]["code"] == "1002"
        assert r.json["counter"]["current"]["code"] == "1002" and r.json["counter"]["staff_name"]
        commit = max(i for i, s in enumerate(statements) if s.strip().upper() == "COMMIT")
        after = [s for s in statements[commit + 1:]
                 if re.search(r"FROM\s+(counters|tickets)\s+WHERE\s+id\s*=", s, re.I)]
        assert after == [], "the counter and the ticket the write returned are not read again"
        got = watchers[0].get_received()
        assert any(m["name"] == "counter.updated" and (m["args"][0]["counter"]["current"] or {}).get("code") == "1002"
                   for m in got)
    finally:
        ctx.store.close()


def _codes(path: Path) -> set[str]:
    """Refusal codes a module raises: DomainError("code", ...)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DomainError" and node.args
                and isinstance(node.args[0], ast.Constant)):
            out.add(node.args[0].value)
    return out


def test_the_store_does_not_check_again_a_rule_the_core_checks():
    core = set().union(*(_codes(p) for p in (ROOT / "queue_server" / "core").glob("*.py")))
    store = {p.name: _codes(p) & core for p in (ROOT / "queue_server" / "store").glob("*.py")}
    assert {k: v for k, v in store.items() if v} == {}, "the store asks the core (queue_server/core) for these"
    assert "counter_not_open" in core and "nothing_waiting" in core


SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b[^\"']*\b(FROM|INTO|SET|WHERE)\b|\.conn\b|\.execute\(")


def test_read_models_and_push_run_no_sql():
    """They ask the store (store/ticket_reads.py, store/display_notices.py)."""
    files = [ROOT / "queue_server" / "read_models.py", *sorted((ROOT / "queue_server" / "push").glob("*.py"))]
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {m.group(0)}" for m in SQL.finditer(text)]
    assert found == []
