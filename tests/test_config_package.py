"""The config package keeps its public face: every name the tree imports from queue_server.config resolves,
and each of its modules stays small enough to read in one sitting."""
from __future__ import annotations

import ast

import pytest
from pathlib import Path

import queue_server.config as config

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("queue_server", "displays", "ticket_printer", "feedback_buttons", "tests", "bench", "scripts")


def imported_names() -> set[tuple[str, str]]:
    """(file, name) for every `from queue_server.config import name` in the project's Python files."""
    found = set()
    for top in SOURCES:
        for path in (ROOT / top).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "queue_server.config":
                    found.update((str(path.relative_to(ROOT)), a.name) for a in node.names)
    return found


def test_every_imported_name_resolves():
    names = imported_names()
    assert {"CentreConfig", "ConfigError", "load_config", "parse_config", "LedBoard", "documented_keys"} <= {n for _, n in names}
    missing = sorted((f, n) for f, n in names if not hasattr(config, n))
    assert not missing, f"names imported from queue_server.config that it no longer gives: {missing}"


def test_public_names_are_exported():
    assert set(config.__all__) == {n for n in config.__all__ if hasattr(config, n)}
    for name in ("Display", "Keypad", "CounterConfig", "Service", "Voice", "Rating", "Server", "Queue", "DevicesConfig"):
        assert name in config.__all__ and getattr(config, name).__module__.startswith("queue_server.config.")


def test_modules_stay_small():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in (ROOT / "queue_server" / "config").glob("*.py")}
    assert len(sizes) >= 5
    assert all(n <= 400 for n in sizes.values()), sizes


def test_lookups_are_built_once_and_a_changed_copy_builds_its_own():
    cfg = config.load_config(ROOT / "config.yaml")
    assert cfg.services() is cfg.services()
    assert set(cfg.counter_ids()) == {c.id for c in cfg.counters}
    first = cfg.counters[0]
    assert cfg.counter(first.id) is first
    fewer = cfg.model_copy(update={"counters": cfg.counters[:1]})
    assert set(fewer.counter_ids()) == {first.id} and len(cfg.counter_ids()) == len(cfg.counters)
    with pytest.raises(KeyError):
        fewer.counter(cfg.counters[1].id)
    with pytest.raises(TypeError):
        cfg.services()["x"] = None  # read-only: a caller cannot change the shared lookup
