"""One form of address: every page, script and server message calls the citizen "công dân". Neither "quý khách"
nor the second-person "bạn" appears in a template, a page script, a message catalogue (the core's refusal
messages, the slip's labels, every module of the server and the device parts) or the demo config.

An officer is not addressed as "bạn" either: a message to staff is written without a pronoun."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("queue_server", "ticket_printer", "feedback_buttons", "displays", "device_kit")
SUFFIXES = {".html", ".js", ".py", ".css", ".yaml", ".yml"}
# "quý khách" in any case; "bạn" as a whole word (not inside another word)
FORBIDDEN = re.compile(r"quý\s+khách|(?<!\w)bạn(?!\w)", re.IGNORECASE)


def scanned_files() -> list[Path]:
    files = [ROOT / "config.yaml", ROOT / "tests" / "fixtures" / "centre.yaml"]
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*"):
            if path.suffix in SUFFIXES and path.is_file() and "vendor" not in path.parts:
                files.append(path)
    return files


def offending_lines(text: str) -> list[tuple[int, str]]:
    text = unicodedata.normalize("NFC", text)
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1) if FORBIDDEN.search(line)]


def test_the_pattern_finds_both_forms_and_nothing_else():
    assert offending_lines("Cảm ơn quý khách") and offending_lines("Cảm ơn Quý Khách")
    assert offending_lines("Số của bạn: 5") and offending_lines("BẠN sắp được gọi")
    # decomposed tone marks (as some editors save them) are found too
    assert offending_lines(unicodedata.normalize("NFD", "Mời bạn đến"))
    assert not offending_lines("Mời công dân đến quầy") and not offending_lines("bạnh") and not offending_lines("abạn")


def test_no_page_script_or_message_says_quy_khach_or_ban():
    files = scanned_files()
    assert len(files) > 100 and any(p.name == "errors.py" for p in files) and any(p.name == "rate.js" for p in files)
    found = []
    for path in files:
        for line_no, line in offending_lines(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(ROOT)}:{line_no}: {line[:120]}")
    assert not found, "use “công dân” (or no pronoun for staff):\n" + "\n".join(found)
