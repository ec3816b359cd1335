"""The store owns all SQL: no module outside queue_server/store/ runs SQL text, holds the store's connection or
writer, opens sqlite3 itself, or calls a private helper of the store (issue 10, point 2).

Read from the source (AST), so a new module is checked the day it is added. Tests and benchmarks aside.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from queue_server.store import Store

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("queue_server", "displays", "ticket_printer", "feedback_buttons")
STORE_PACKAGE = "queue_server/store/"

SQL = re.compile(r"""\bSELECT\b[\s\S]+\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b
                     |\bCREATE\s+(UNIQUE\s+)?(TABLE|INDEX|TRIGGER|VIEW)\b|\bDROP\s+(TABLE|INDEX)\b|\bPRAGMA\s+\w+
                     |\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b|^\s*(COMMIT|ROLLBACK)\s*$""", re.X | re.I)
EXECUTE_ALWAYS = {"executemany", "executescript"}
STORE_HANDLES = {"conn", "writer"}
OTHER_WRITERS = {"csv"}  # csv.writer is not the store's writer
STORE_PRIVATE = frozenset(n for n in vars(Store) if n.startswith("_") and not n.startswith("__"))


def modules() -> list[Path]:
    out = []
    for pkg in PACKAGES:
        out += sorted((ROOT / pkg).rglob("*.py"))
    return [p for p in out if ".venv" not in p.parts]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _text_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                ids.add(id(first.value))
    return ids


def _names_store(node: ast.AST) -> bool:
    """`store`, `self.store`, `ctx().store`, `c.store`: an expression that is the Store."""
    return (isinstance(node, ast.Name) and node.id == "store") or (isinstance(node, ast.Attribute) and node.attr == "store")


def offences(source: str, name: str = "<module>") -> list[str]:
    """What a module does that only the store may do, one line per offence."""
    tree = ast.parse(source, name)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [f"{line}: imports {a.name}" for a in node.names if a.name.split(".")[0] == "sqlite3"]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if mod.split(".")[0] == "sqlite3" or mod == "queue_server.store.db":
                found.append(f"{line}: imports from {mod}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            first = node.args[0] if node.args else None
            if attr in EXECUTE_ALWAYS or (attr == "execute" and first is not None and (
                    _text_of(first) is not None or isinstance(first, ast.BinOp))):
                found.append(f"{line}: runs .{attr}(...)")
        elif isinstance(node, ast.Attribute):
            if node.attr in STORE_HANDLES and not (isinstance(node.value, ast.Name) and node.value.id in OTHER_WRITERS):
                found.append(f"{line}: touches .{node.attr}")
            elif node.attr in STORE_PRIVATE and not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                found.append(f"{line}: calls the store's private {node.attr}")
            elif node.attr.startswith("_") and not node.attr.startswith("__") and _names_store(node.value):
                found.append(f"{line}: calls the store's private {node.attr}")
        if id(node) not in docs:
            text = _text_of(node) if isinstance(node, (ast.Constant, ast.JoinedStr)) else None
            if text and SQL.search(text):
                found.append(f"{line}: SQL text {text.strip()[:50]!r}")
    return sorted(set(found), key=lambda s: int(s.split(":")[0]))


def test_no_module_outside_the_store_runs_sql_or_holds_its_connection():
    bad = {}
    for path in modules():
        name = rel(path)
        if name.startswith(STORE_PACKAGE):
            continue
        got = offences(path.read_text(encoding="utf-8"), name)
        if got:
            bad[name] = got
    assert not bad, "SQL or store internals outside queue_server/store/:\n" + "\n".join(
        f"  {m}:{o}" for m, lines in sorted(bad.items()) for o in lines)


@pytest.mark.parametrize("source, what", [
    ('def f(c):\n    c.execute("SELECT id FROM tickets WHERE day = ?", (1,))\n', "runs .execute"),
    ('def f(c, t):\n    c.executemany(t, [])\n', "runs .executemany"),
    ('Q = "UPDATE print_jobs SET state = ?"\n', "SQL text"),
    ('def f(t):\n    return f"DELETE FROM {t} WHERE day = ?"\n', "SQL text"),
    ('def f(store):\n    return store.conn\n', "touches .conn"),
    ('def f(self):\n    with self.store.writer.transaction():\n        pass\n', "touches .writer"),
    ('import sqlite3\n', "imports sqlite3"),
    ('from queue_server.store.db import Writer\n', "imports from queue_server.store.db"),
    ('def f(store, c):\n    store._log(c, "x")\n', "private _log"),
    ('def f(ctx):\n    return ctx().store._service_status(1, 2)\n', "private _service_status"),
    ('def f(self):\n    return self.store._anything\n', "private _anything"),
])
def test_the_check_sees_each_kind_of_offence(source, what):
    assert any(what in o for o in offences(source)), offences(source)


@pytest.mark.parametrize("source", [
    'import csv\ndef f(buf):\n    return csv.writer(buf)\n',
    'def f(tpool, fn):\n    return tpool.execute(fn, 1)\n',
    'def f():\n    """SELECT the ticket FROM the queue: a docstring, not SQL."""\n',
    'LABEL = "Chọn dịch vụ"\n',
    'def f(self):\n    return self._counter\n',
])
def test_the_check_leaves_ordinary_code_alone(source):
    assert offences(source) == []
