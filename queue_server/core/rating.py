"""Which ticket a rating belongs to, and which patterns look suspicious. Pure: plain data in, plain data out.

A press at a counter is attributed by the server's clock of the press (received - age), against the tickets
that counter had around that moment:

  finished  the ticket the counter finished most recently within rating.window_seconds before the press
  current   the ticket that was at the counter (called or being served) at the press

  1. finished, if it has no rating yet: the citizen who just left rates (the keypad does not wait for the
     officer to press "finish" - a press while being served counts too, rule 2 or 4);
  2. else current, if it was being served (started) at the press and has no rating yet;
  3. else finished again, as a repeat (a second press by the citizen who just left);
  4. else current, if it has no rating yet (officers who never press "start");
  5. else current, as a repeat;
  6. no ticket at all: unattributed (recorded, never counted).
A ticket has at most one counted (attributed) rating; every later press is recorded as a repeat.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

ATTRIBUTED, REPEAT, UNATTRIBUTED = "attributed", "repeat", "unattributed"
DELAYED_MS = 120_000  # a rating delivered this long after the press came out of an agent's buffer


@dataclass(frozen=True)
class Candidate:
    """A ticket the counter had near the press: its times (ms) and what is already recorded for it."""

    ticket_id: int
    status: str  # called | serving | done (now; times tell what it was at the press)
    called_ms: int
    started_ms: int | None = None
    finished_ms: int | None = None
    rated: bool = False  # has a counted rating
    presses: int = 0  # ratings recorded for it so far (counted + repeats)


@dataclass(frozen=True)
class Decision:
    status: str  # attributed | repeat | unattributed
    ticket_id: int | None = None
    flags: tuple[str, ...] = ()
    presses: int = 0  # presses recorded for the ticket before this one


@dataclass(frozen=True)
class Thresholds:
    window_ms: int = 60_000
    near_finish_ms: int = 1000
    presses_per_ticket: int = 3


def query_bounds(pressed_ms: int, window_ms: int) -> tuple[int, int]:
    """Tickets worth loading: called at or before the press, and not finished before press - window."""
    return pressed_ms, pressed_ms - window_ms


def _finished(pressed_ms: int, cands: Iterable[Candidate], window_ms: int) -> Candidate | None:
    done = [c for c in cands if c.status == "done" and c.finished_ms is not None
            and pressed_ms - window_ms <= c.finished_ms <= pressed_ms]
    return max(done, key=lambda c: (c.finished_ms, c.ticket_id), default=None)


def _current(pressed_ms: int, cands: Iterable[Candidate]) -> Candidate | None:
    at = [c for c in cands if c.status in ("called", "serving", "done") and c.called_ms <= pressed_ms
          and (c.finished_ms is None or c.finished_ms > pressed_ms)]
    return max(at, key=lambda c: (c.called_ms, c.ticket_id), default=None)


def _serving_at(c: Candidate, pressed_ms: int) -> bool:
    return c.started_ms is not None and c.started_ms <= pressed_ms


def _decide(status: str, c: Candidate, pressed_ms: int, t: Thresholds) -> Decision:
    flags = []
    if status == ATTRIBUTED and c.finished_ms is not None and abs(pressed_ms - c.finished_ms) <= t.near_finish_ms:
        flags.append("near_finish")
    if c.presses + 1 >= t.presses_per_ticket:
        flags.append("many_presses")
    return Decision(status, c.ticket_id, tuple(flags), c.presses)


def attribute(pressed_ms: int, candidates: Iterable[Candidate], t: Thresholds = Thresholds()) -> Decision:
    """Rules 1-6 of the module docstring."""
    cands = list(candidates)
    fin = _finished(pressed_ms, cands, t.window_ms)
    cur = _current(pressed_ms, cands)
    if fin is not None and not fin.rated:
        return _decide(ATTRIBUTED, fin, pressed_ms, t)
    if cur is not None and _serving_at(cur, pressed_ms) and not cur.rated:
        return _decide(ATTRIBUTED, cur, pressed_ms, t)
    if fin is not None:
        return _decide(REPEAT, fin, pressed_ms, t)
    if cur is not None:
        return _decide(REPEAT if cur.rated else ATTRIBUTED, cur, pressed_ms, t)
    return Decision(UNATTRIBUTED)


def attribute_to(ticket_id: int, pressed_ms: int, candidates: Iterable[Candidate],
                 t: Thresholds = Thresholds()) -> Decision | None:
    """The rating page names the ticket it was armed for: it counts only if that ticket was finished at this
    counter within the window (or was at the counter) at the press. None: it was not."""
    cands = list(candidates)
    fin = _finished(pressed_ms, cands, t.window_ms)
    cur = _current(pressed_ms, cands)
    for c in (fin, cur):
        if c is not None and c.ticket_id == ticket_id:
            return _decide(REPEAT if c.rated else ATTRIBUTED, c, pressed_ms, t)
    return None


def level_for(buttons: Mapping[str, int], level_values: Iterable[int], *, button: str | None = None,
              level: int | None = None) -> int | None:
    """The level a press gives: through rating.buttons (or, when that map is empty, button N is the level
    whose value is N), or a level sent directly. None: not a level of the scale."""
    values = set(level_values)
    if level is not None:
        return level if level in values else None
    if button is None:
        return None
    if buttons:
        return buttons.get(str(button))
    try:
        n = int(button)
    except ValueError:
        return None
    return n if n in values else None


def valid_buttons(buttons: Mapping[str, int], level_values: Iterable[int]) -> set[str]:
    return set(buttons) if buttons else {str(v) for v in level_values}


def delivery_flags(age_ms: int) -> tuple[str, ...]:
    return ("delayed",) if age_ms >= DELAYED_MS else ()


# ------------------------------------------------------------------ a day's figures and flags
@dataclass(frozen=True)
class FlagRules:
    near_finish_share: float = 0.8
    min_ratings: int = 5
    presses_per_ticket: int = 3
    silent_keypad_tickets: int = 10


@dataclass
class _Tally:
    counted: int = 0
    positive: int = 0
    repeats: int = 0
    unattributed: int = 0
    near_finish: int = 0
    levels: dict = field(default_factory=dict)

    def add(self, r: Mapping, positive: bool) -> None:
        if r["status"] == ATTRIBUTED:
            self.counted += 1
            self.positive += positive
            self.levels[r["level"]] = self.levels.get(r["level"], 0) + 1
            self.near_finish += "near_finish" in r["flags"]
        elif r["status"] == REPEAT:
            self.repeats += 1
        else:
            self.unattributed += 1

    def out(self) -> dict:
        return {"counted": self.counted, "positive": self.positive, "repeats": self.repeats,
                "unattributed": self.unattributed, "near_finish": self.near_finish,
                "satisfied_rate": round(self.positive / self.counted, 4) if self.counted else None,
                "levels": {str(k): v for k, v in sorted(self.levels.items(), reverse=True)}}


def summarize(ratings: list[Mapping], *, positive_levels: set[int], finished: Mapping[str, int],
              keypads: list[tuple[str, str]], rules: FlagRules = FlagRules()) -> dict:
    """Figures of one day and the suspicious patterns in it.

    ratings: rows with id, ticket_id, counter_id, staff_id, service_id, level, status, flags (list), source.
    finished: tickets finished per counter that day. keypads: (keypad id, counter id) of the configured keypads.
    """
    total = _Tally()
    by: dict[str, dict] = {"counter_id": {}, "staff_id": {}, "service_id": {}}
    presses: dict[int, list[Mapping]] = {}
    by_source: dict[str, int] = {}
    for r in ratings:
        pos = r["level"] in positive_levels
        total.add(r, pos)
        for key, table in by.items():
            if r.get(key) is not None:
                table.setdefault(r[key], _Tally()).add(r, pos)
        if r["ticket_id"] is not None:
            presses.setdefault(r["ticket_id"], []).append(r)
        by_source[r["source"]] = by_source.get(r["source"], 0) + 1
    flags: list[dict] = []
    counters = []
    for cid in sorted(set(by["counter_id"]) | set(finished), key=lambda x: (len(x), x)):
        tally = by["counter_id"].get(cid, _Tally())
        row = {"counter": cid, **tally.out(), "finished": finished.get(cid, 0),
               "rated_share": round(tally.counted / finished[cid], 4) if finished.get(cid) else None, "flags": []}
        if tally.counted >= rules.min_ratings and tally.near_finish / tally.counted >= rules.near_finish_share:
            row["flags"].append("ratings_at_finish")
            flags.append({"flag": "ratings_at_finish", "counter": cid,
                          "detail": f"{tally.near_finish} of {tally.counted} ratings came within a second of the finish"})
        counters.append(row)
    for tid, rows in sorted(presses.items()):
        if len(rows) >= rules.presses_per_ticket:
            cid = rows[0]["counter_id"]
            flags.append({"flag": "many_presses", "counter": cid, "ticket": tid,
                          "detail": f"{len(rows)} presses for one ticket"})
            for row in counters:
                if row["counter"] == cid and "many_presses" not in row["flags"]:
                    row["flags"].append("many_presses")
    keypad_rows = []
    for kid, cid in keypads:
        n = by_source.get(f"keypad:{kid}", 0)
        row = {"keypad": kid, "counter": cid, "presses": n, "flags": []}
        if n == 0 and finished.get(cid, 0) >= rules.silent_keypad_tickets:
            row["flags"].append("keypad_silent")
            flags.append({"flag": "keypad_silent", "counter": cid, "keypad": kid,
                          "detail": f"no press while the counter finished {finished[cid]} tickets"})
        keypad_rows.append(row)
    return {"total": len(ratings), **total.out(), "counters": counters,
            "officers": [{"staff_id": k, **v.out()} for k, v in sorted(by["staff_id"].items())],
            "services": [{"service": k, **v.out()} for k, v in sorted(by["service_id"].items())],
            "keypads": keypad_rows, "flags": flags}


def reason_refusal(*, level: int, recorded_reason: str | None, source: str, received_ms: int, now_ms: int,
                   positive_levels: set[int], window_ms: int, anonymous: bool) -> tuple[str, str] | None:
    """Why the reason given for a rating is refused, as (error code, reason); None when it may be recorded.
    A reason is asked once, for a low rating, within the rating window; the public rating page (anonymous)
    may give one only for a rating made on a rating page."""
    if recorded_reason is not None:
        return "rating_reason_refused", "a reason is already recorded"
    if level in positive_levels:
        return "rating_reason_refused", "reasons are asked for low ratings only"
    if anonymous and not source.startswith("tablet:"):
        return "forbidden", "the rating page may give reasons only for its own ratings"
    if now_ms - received_ms > window_ms:
        return "rating_reason_refused", "too late"
    return None
