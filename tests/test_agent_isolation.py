"""Agents stand apart from the server: nothing an agent imports (its own modules, the shared ones, the device
kit) reaches queue_server, and the `agent` extra installs none of the server's packages."""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"queue_server", "displays", "ticket_printer", "feedback_buttons", "device_kit"}
SERVER_PACKAGES = {"eventlet", "gevent", "redis", "openpyxl", "flask", "flask-socketio", "sqlite-utils"}
# What an agent PC runs: the commands, and every module of the agent packages and of the kit.
ENTRY_POINTS = ["displays.led", "displays.agent.__main__", "feedback_buttons.__main__", "ticket_printer.__main__",
                "ticket_printer.agent.dispenser"]
AGENT_DIRS = ["displays/agent", "ticket_printer/agent", "feedback_buttons/agent", "device_kit"]


def module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(name: str) -> set[str]:
    """Every module of ours that importing `name` runs: its imports anywhere in the file (functions too),
    `from package import module` as the module, and the packages above each (their __init__ runs)."""
    path = module_file(name)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names if module_file(f"{target}.{a.name}"))
    out = set()
    for mod in found:
        if mod.split(".")[0] not in OURS:
            continue
        parts = mod.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


def closure(start: list[str]) -> dict[str, str]:
    """Each module of ours reached from `start`, with the module that first imported it."""
    seen: dict[str, str] = {s: "" for s in start}
    todo = list(start)
    while todo:
        name = todo.pop()
        if module_file(name) is None:
            continue  # queue_server's own files are not followed: reaching it is the failure
        for dep in imports_of(name):
            if dep not in seen:
                seen[dep] = name
                todo.append(dep)
    return seen


def agent_modules() -> list[str]:
    names = []
    for d in AGENT_DIRS:
        names += [module_name(p) for p in sorted((ROOT / d).rglob("*.py"))]
    return names


def test_the_agent_packages_and_commands_exist():
    mods = agent_modules()
    assert {"displays.agent.driver", "ticket_printer.agent.printers", "ticket_printer.agent.dispenser",
            "feedback_buttons.agent.keypads", "device_kit.backoff", "device_kit.ports"} <= set(mods), mods
    assert all(module_file(e) for e in ENTRY_POINTS), [e for e in ENTRY_POINTS if not module_file(e)]


@pytest.mark.parametrize("start", ENTRY_POINTS + AGENT_DIRS)
def test_no_agent_module_imports_queue_server(start):
    roots = [start] if "/" not in start else [m for m in agent_modules() if m.startswith(start.replace("/", "."))]
    assert roots and all(module_file(r) for r in roots), f"no module at {start}"
    reached = closure(roots)
    bad = sorted(m for m in reached if m.split(".")[0] == "queue_server")
    chains = []
    for m in bad:
        chain = [m]
        while reached.get(chain[-1]):
            chain.append(reached[chain[-1]])
        chains.append(" <- ".join(chain))
    assert not bad, "agent code reaches the server: " + "; ".join(chains)


def test_the_walk_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    """The check itself: a late import of the server inside a function is found."""
    pkg = tmp_path / "displays"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "late.py").write_text("def f():\n    from queue_server.config import LedBoard\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert "queue_server.config" in closure(["displays.late"])


def requirement_names(reqs: list[str], extras: dict[str, list[str]], project: str) -> set[str]:
    names: set[str] = set()
    for req in reqs:
        head = req.split(";")[0].strip()
        name = head.split("[")[0]
        for sep in "<>=!~ ":
            name = name.split(sep)[0]
        name = name.strip().lower().replace("_", "-")
        if name == project:  # qms[server]: the extra's own requirements
            for extra in head[head.index("[") + 1:head.index("]")].split(","):
                names |= requirement_names(extras[extra.strip()], extras, project)
        else:
            names.add(name)
    return names


def test_the_agent_extra_installs_no_server_package():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = meta["optional-dependencies"]
    agent = requirement_names(meta["dependencies"] + extras["agent"], extras, meta["name"])
    assert {"pyserial", "python-socketio", "requests", "python-escpos"} <= agent, agent
    assert not agent & SERVER_PACKAGES, f"the agent extra pulls in {sorted(agent & SERVER_PACKAGES)}"
    server = requirement_names(extras["server"], extras, meta["name"])
    assert {"flask", "flask-socketio", "eventlet", "gevent", "redis", "openpyxl", "pydantic"} <= server
    assert server <= requirement_names(extras["test"], extras, meta["name"]), "the test extra installs the server"


BLOCK = """
import importlib.abc, runpy, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is not installed on an agent PC")
sys.meta_path.insert(0, Block())
sys.argv = [{module!r}, "--help"]
runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("module", ["displays.led", "feedback_buttons", "ticket_printer", "ticket_printer.agent.dispenser"])
def test_each_agent_command_starts_without_the_server_packages(module):
    blocked = ["queue_server", "flask", "flask_socketio", "eventlet", "gevent", "redis", "openpyxl", "sqlite_utils",
               "pydantic"]
    r = subprocess.run([sys.executable, "-c", BLOCK.format(blocked=blocked, module=module)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "usage:" in r.stdout, r.stderr[-2000:]
