"""The documentation is tested: every config key is documented, and the rule pages name every status."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from queue_server.config import documented_keys
from queue_server.core.rules import Status

DOCS = Path(__file__).parent.parent / "docs"
BACKTICKED = re.compile(r"`([^`\n]+)`")


def backticked(path: Path) -> set[str]:
    """Every `...` span of a Markdown file (single-backtick code spans, also inside tables)."""
    return set(BACKTICKED.findall(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def config_doc_spans() -> set[str]:
    path = DOCS / "config.md"
    assert path.exists(), "docs/config.md is missing"
    return backticked(path)


@pytest.mark.parametrize("key", documented_keys())
def test_config_key_documented(config_doc_spans, key):
    assert key in config_doc_spans, f"config key `{key}` is not documented in docs/config.md (write it in backticks)"


@pytest.mark.parametrize("page", ["architecture.md", "rules.md"])
def test_page_exists_and_names_every_status(page):
    path = DOCS / page
    assert path.exists(), f"docs/{page} is missing"
    text = path.read_text(encoding="utf-8")
    missing = [s.value for s in Status if not re.search(rf"\b{re.escape(s.value)}\b", text)]
    assert not missing, f"docs/{page} does not mention the statuses {missing}"
