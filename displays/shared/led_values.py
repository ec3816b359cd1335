"""What an LED board above a counter shows, and the register values that make it show it. Pure.

The board shows the counter's current ticket; nothing (blank) when the counter is open without a ticket or
closed; "----" (break_value) while the counter is on break. Encodings (devices.led_boards[].encoding):
  number  the digits of the code as an unsigned integer (A001 -> 1; letters dropped), 1 register
          (0-65535) or 2 (32 bits, high word first)
  bcd     the digits as packed BCD, 4 per register (1005 -> 0x1005), right-aligned, unused nibbles 0
  ascii   the code as text, 2 characters per register (high byte first), right-aligned, space-padded;
          blank is spaces, break is dashes ("----" with 2 registers)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ENCODINGS = ("number", "bcd", "ascii")


@dataclass(frozen=True)
class Shown:
    kind: str  # code | blank | break
    code: str = ""

    def __str__(self) -> str:
        return self.code if self.kind == "code" else self.kind


BLANK = Shown("blank")
BREAK = Shown("break")


def shown_for(state: str | None, code: str | None) -> Shown:
    """What a board shows for a counter in `state` (open/break/closed) holding ticket `code` (or None)."""
    if state == "break":
        return BREAK
    if state == "open" and code:
        return Shown("code", code)
    return BLANK


def shown_for_counter(counter: dict | None) -> Shown:
    """From a counter state as the server pushes it (counter.updated, the counter snapshot)."""
    if not counter:
        return BLANK
    current = counter.get("current") or {}
    code = current.get("code") if current.get("status") in ("called", "serving") else None
    return shown_for(counter.get("state"), code)


def register_values(shown: Shown, encoding: str = "number", registers: int = 1, blank_value: int = 0xFFFF,
                    break_value: int = 0xFFFF) -> list[int]:
    """The values to write from the board's first register. Raises ValueError when the code does not fit."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")
    if encoding == "ascii":
        width = 2 * registers
        if shown.kind == "code":
            text = shown.code
            if len(text) > width or not text.isascii() or not text.isprintable():
                raise ValueError(f"{text!r} does not fit in {registers} register(s) of 2 ASCII characters")
        else:
            text = "-" * width if shown.kind == "break" else ""
        raw = text.rjust(width).encode("ascii")
        return [raw[i] << 8 | raw[i + 1] for i in range(0, width, 2)]
    if registers not in (1, 2):
        raise ValueError(f"encoding {encoding} uses 1 or 2 registers")
    if shown.kind != "code":
        return [break_value if shown.kind == "break" else blank_value] * registers
    digits = "".join(re.findall(r"[0-9]", shown.code))
    if not digits:
        raise ValueError(f"code {shown.code!r} has no digits to show")
    if encoding == "number":
        n = int(digits)
        if n >= 1 << (16 * registers):
            raise ValueError(f"{n} does not fit in {registers} register(s)")
        return [n] if registers == 1 else [n >> 16, n & 0xFFFF]
    digits = digits.lstrip("0") or "0"
    if len(digits) > 4 * registers:
        raise ValueError(f"{shown.code!r} has more than {4 * registers} digits")
    n = int(digits.rjust(4 * registers, "0"), 16)
    return [n] if registers == 1 else [n >> 16, n & 0xFFFF]
