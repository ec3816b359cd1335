"""A mutation run you can repeat: plant plausible bugs one at a time and see which the tests catch.

    python -m tests.mutants            # every mutant (make mutants)
    python -m tests.mutants streak     # only mutants whose name contains "streak"
    python -m tests.mutants --list     # the list, and whether each snippet is still found
    python -m tests.mutants --tests=tests/test_rule_gaps.py go_last   # which of these one test file catches

Each mutant is (name, file, original snippet, mutated snippet, test files). The tree is copied once to a
temporary folder; each mutant is applied to the copy, the relevant tests run there (stopping at the first
failure), and the file is restored before the next. The working tree is never touched. A mutant is killed
when its tests fail, and survives when they pass. The score is killed / total.

When a real bug is found, add it here as a mutant (with the test that now catches it). When a file moves,
change its path below; a snippet no longer found is reported as "stale", never silently skipped.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RULES = "queue_server/core/rules.py"
RATING = "queue_server/core/rating.py"
TICKETS = "queue_server/store/tickets.py"
COUNTER_OPS = "queue_server/store/counter_ops.py"
ISSUING = "queue_server/store/issuing.py"
TICKET_READS = "queue_server/store/ticket_reads.py"
REPORT_MATH = "queue_server/core/report_math.py"
KEEPER = "queue_server/day_keeper.py"
BOOKINGS = "queue_server/store/bookings.py"
BOOKING_RULES = "queue_server/core/booking.py"
BOOKING_UPKEEP = "queue_server/store/booking_upkeep.py"
SCHEMA_MORE = "queue_server/store/schema_more.py"

# The tests a mutant of each area runs, quickest first (the run stops at the first failure).
GAPS = ("tests/test_rule_gaps.py", "tests/test_rule_gaps_more.py")
ENGINE_TESTS = ("tests/test_engine.py", *GAPS, "tests/test_store.py", "tests/test_store_machine.py")
RATING_TESTS = (*GAPS, "tests/test_ratings.py")
STORE_TESTS = (*GAPS, "tests/test_store.py", "tests/test_store_machine.py")
REPORT_TESTS = ("tests/test_rule_gaps.py", "tests/test_reports.py")
KEEPER_TESTS = ("tests/test_day_keeper.py", "tests/test_day_close_rule.py")
BOOKING_TESTS = ("tests/test_booking_rules.py", "tests/test_booking_store.py", "tests/test_booking_api.py")


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    original: str
    mutated: str
    tests: tuple[str, ...]


MUTANTS = [
    # ---------------------------------------------------------------- queue rules (core/rules.py)
    Mutant("streak kept when a counter closes", RULES,
           "priority_streak=0 if state == CounterState.CLOSED else counter.priority_streak",
           "priority_streak=counter.priority_streak", ENGINE_TESTS),
    Mutant("streak kept by the end-of-day close", RULES,
           "staff_id=None, priority_streak=0)\n               for c in counters)",
           "staff_id=None)\n               for c in counters)", ENGINE_TESTS),
    Mutant("streak not reset by a normal call", RULES,
           "streak = counter.priority_streak + 1 if ticket.priority else 0",
           "streak = counter.priority_streak + 1 if ticket.priority else counter.priority_streak", ENGINE_TESTS),
    Mutant("streak reset by a resume", RULES,
           "if resuming:\n        streak = counter.priority_streak", "if resuming:\n        streak = 0", ENGINE_TESTS),
    Mutant("priority bound off by one", RULES,
           "counter.priority_streak < max_consecutive_priority",
           "counter.priority_streak <= max_consecutive_priority", ENGINE_TESTS),
    Mutant("queue order by id, not queued_ms", RULES,
           "return (t.queued_ms, t.id or 0)", "return (t.id or 0, t.queued_ms)", ENGINE_TESTS),
    Mutant("cap off by one", RULES, "issued_today + reserved >= cap:", "issued_today + reserved > cap:", ENGINE_TESTS),
    Mutant("cap refuses a booking's check-in", RULES, "if cap is not None and not booked and", "if cap is not None and",
           (*ENGINE_TESTS, *BOOKING_TESTS)),
    Mutant("cap keeps no place for the bookings to come", RULES, "issued_today + reserved >= cap:",
           "issued_today >= cap:", (*ENGINE_TESTS, *BOOKING_TESTS)),
    Mutant("cap override ignored", RULES,
           "cap = rules.cap_override if rules.cap_override is not None else rules.daily_cap",
           "cap = rules.daily_cap", ENGINE_TESTS),
    Mutant("manual open bypasses the cap", RULES,
           "    if cap is not None and not booked and issued_today + reserved >= cap:\n        return ServiceStatus(False, "
           "\"full\", **facts)\n    if rules.manual == \"open\" or rules.always_open:\n",
           "    if rules.manual == \"open\":\n        return ServiceStatus(True, **facts)\n"
           "    if cap is not None and not booked and issued_today + reserved >= cap:\n        return ServiceStatus(False, "
           "\"full\", **facts)\n    if rules.always_open:\n", ENGINE_TESTS),
    Mutant("window end included", RULES, "if start <= t < end:", "if start <= t <= end:", ENGINE_TESTS),
    Mutant("window start excluded", RULES, "if start <= t < end:", "if start < t < end:", ENGINE_TESTS),
    Mutant("holidays ignored", RULES,
           "if now_local.weekday() not in rules.weekdays or today in rules.holidays:",
           "if now_local.weekday() not in rules.weekdays:", ENGINE_TESTS),
    Mutant("repeat window boundary included", RULES,
           "now_ms - current.called_ms < window_ms", "now_ms - current.called_ms <= window_ms", ENGINE_TESTS),
    Mutant("a serving ticket repeats within the window", RULES,
           "return current.status == Status.CALLED and current.called_ms is not None and",
           "return current.called_ms is not None and", ENGINE_TESTS),
    Mutant("a client that believes nothing is current presses anew", RULES,
           "return current.id != expect_current",
           "return expect_current is not None and current.id != expect_current", ENGINE_TESTS),
    Mutant("plain transfer keeps the go_last time", RULES,
           "queued_ms=now_ms if go_last else ticket.issued_ms", "queued_ms=now_ms if go_last else ticket.queued_ms",
           ENGINE_TESTS),
    Mutant("finish by next leaves the start empty", RULES,
           "started_ms=current.started_ms if current.started_ms is not None else current.called_ms)",
           "started_ms=current.started_ms)", ENGINE_TESTS),
    Mutant("finish by next takes the call as start even when started", RULES,
           "started_ms=current.started_ms if current.started_ms is not None else current.called_ms)",
           "started_ms=current.called_ms)", ENGINE_TESTS),
    Mutant("a ticket sent to another counter is called anywhere", RULES,
           "return ticket.target_counter_id == counter.id",
           "return ticket.target_counter_id == counter.id or ticket.service_id in counter.services", ENGINE_TESTS),
    Mutant("a no-show keeps the counter busy", RULES,
           "c = replace(counter, current_ticket_id=None)\n    return Outcome(tickets=(t,), counters=(c,), "
           "events=((\"ticket.no_show\"",
           "c = counter\n    return Outcome(tickets=(t,), counters=(c,), events=((\"ticket.no_show\"", ENGINE_TESTS),
    Mutant("cancel of a called ticket", RULES,
           "def cancel(ticket: Ticket, now_ms: int) -> Outcome:\n    if ticket.status != Status.WAITING:",
           "def cancel(ticket: Ticket, now_ms: int) -> Outcome:\n    if ticket.status in FINAL:", ENGINE_TESTS),
    Mutant("close day leaves parked tickets", RULES,
           "for t in active if t.status in ACTIVE)", "for t in active if t.status in ACTIVE - {Status.PARKED})",
           ENGINE_TESTS),
    Mutant("range exhausted one too late", RULES, "if index >= rng.size:", "if index > rng.size:", ENGINE_TESTS),
    Mutant("wrapped number held by an active ticket", RULES,
           "if number in set(active_numbers):", "if number in set(active_numbers[:1]):", ENGINE_TESTS),

    # ---------------------------------------------------------------- booked tickets in the calling order
    *[Mutant(f"booked: {name}", path, original, mutated,
             ("tests/test_booked_calling.py", "tests/test_booked_machine.py", "tests/test_booked_calling_api.py"))
      for name, path, original, mutated in [
          ("walk-in streak bound off by one", "queue_server/core/booked_order.py",
           "counter.walk_in_streak >= walk_ins_per_booked", "counter.walk_in_streak > walk_ins_per_booked"),
          ("an early check-in counted as due", "queue_server/core/booked_order.py",
           "return ticket.slot_start_ms is not None and ticket.slot_start_ms <= now_ms",
           "return ticket.slot_start_ms is not None"),
          ("a walk-in call leaves the streak", "queue_server/core/booked_order.py",
           "return 0 if is_booked(ticket) else counter.walk_in_streak + 1",
           "return 0 if is_booked(ticket) else counter.walk_in_streak"),
          ("a booked call keeps the streak", "queue_server/core/booked_order.py",
           "return 0 if is_booked(ticket) else", "return counter.walk_in_streak if is_booked(ticket) else"),
          ("a due ticket waits though no walk-in does", "queue_server/core/booked_order.py",
           "if due and (not walk_ins or ", "if due and ("),
          ("early check-ins in the walk-ins' line", "queue_server/core/booked_order.py",
           "return walk_ins or list(normal)", "return list(normal)"),
          ("a ticket sent by name moves the streak", "queue_server/core/booked_order.py",
           "if ticket.priority or ticket.target_counter_id == counter.id:", "if ticket.priority:"),
          ("closing keeps the walk-in streak", RULES,
           "walk_in_streak=0 if state == CounterState.CLOSED else counter.walk_in_streak",
           "walk_in_streak=counter.walk_in_streak"),
          ("the store misses the early check-ins' head", COUNTER_OPS,
           ', ("priority = 0 AND slot_start_ms > ?", (now,)))', ")"),
      ]],

    # ---------------------------------------------------------------- rating rules (core/rating.py)
    Mutant("near-finish limit excluded", RATING,
           "abs(pressed_ms - c.finished_ms) <= t.near_finish_ms", "abs(pressed_ms - c.finished_ms) < t.near_finish_ms",
           RATING_TESTS),
    Mutant("near-finish only before the press", RATING,
           "abs(pressed_ms - c.finished_ms) <= t.near_finish_ms", "pressed_ms - c.finished_ms <= t.near_finish_ms",
           RATING_TESTS),
    Mutant("rating window boundary excluded", RATING,
           "pressed_ms - window_ms <= c.finished_ms <= pressed_ms", "pressed_ms - window_ms < c.finished_ms <= pressed_ms",
           RATING_TESTS),
    Mutant("many presses one late", RATING,
           "if c.presses + 1 >= t.presses_per_ticket:", "if c.presses >= t.presses_per_ticket:", RATING_TESTS),
    Mutant("a merely called ticket beats the finished repeat", RATING,
           "if cur is not None and _serving_at(cur, pressed_ms) and not cur.rated:",
           "if cur is not None and not cur.rated:", RATING_TESTS),
    Mutant("a ticket called after the press counts", RATING,
           "c.status in (\"called\", \"serving\", \"done\") and c.called_ms <= pressed_ms",
           "c.status in (\"called\", \"serving\", \"done\")", RATING_TESTS),
    Mutant("a named ticket rated twice", RATING,
           "return _decide(REPEAT if c.rated else ATTRIBUTED, c, pressed_ms, t)\n    return None",
           "return _decide(ATTRIBUTED, c, pressed_ms, t)\n    return None", RATING_TESTS),
    Mutant("a level outside the scale", RATING,
           "return level if level in values else None", "return level", RATING_TESTS),
    Mutant("ratings-at-finish share boundary", RATING,
           "tally.near_finish / tally.counted >= rules.near_finish_share",
           "tally.near_finish / tally.counted > rules.near_finish_share", RATING_TESTS),

    # ---------------------------------------------------------------- the store (store/tickets.py and its mixins)
    Mutant("store: queue heads by id", COUNTER_OPS,
           "AND target_counter_id IS NULL AND {kind} ORDER BY queued_ms, id LIMIT 1",
           "AND target_counter_id IS NULL AND {kind} ORDER BY id LIMIT 1", STORE_TESTS),
    Mutant("store: cap counts tickets now in the service", TICKETS,
           "SELECT COUNT(*) FROM events WHERE day = ? AND type = 'ticket.issued' AND service_id = ?",
           "SELECT COUNT(*) FROM tickets WHERE day = ? AND service_id = ?", STORE_TESTS),
    Mutant("store: repeat window in seconds", COUNTER_OPS,
           "int(q.repeat_press_seconds * 1000)", "int(q.repeat_press_seconds)",
           STORE_TESTS),
    Mutant("store: stale close takes today's tickets", COUNTER_OPS,
           "rows = c.execute(\"SELECT * FROM tickets WHERE day < ? AND status",
           "rows = c.execute(\"SELECT * FROM tickets WHERE day <= ? AND status", STORE_TESTS + KEEPER_TESTS),
    Mutant("store: stale close marks the day closed", COUNTER_OPS,
           "if before_day is None:  # closing leftovers", "if True:  # closing leftovers", STORE_TESTS + KEEPER_TESTS),
    Mutant("store: counters left open yesterday stay open", COUNTER_OPS,
           "or (r[\"state\"] != \"closed\" and self.day_of_ms(r[\"updated_ms\"]) < before_day)]",
           "]", STORE_TESTS + KEEPER_TESTS),
    Mutant("store: a priority group without priority", ISSUING,
           "raise DomainError(\"priority_group_unknown\", group=priority_group)\n            priority = True",
           "raise DomainError(\"priority_group_unknown\", group=priority_group)", STORE_TESTS),
    Mutant("store: wrap forgets parked numbers", ISSUING,
           "AND status IN ('waiting','called','serving','parked')\",\n                    (day, seq_key))",
           "AND status IN ('waiting','called','serving')\",\n                    (day, seq_key))", STORE_TESTS),
    Mutant("store: position forgets priority tickets ahead", TICKET_READS,
           "AND (priority=1 OR queued_ms < ? OR", "AND (queued_ms < ? OR", STORE_TESTS),
    Mutant("store: yesterday's transfers called today", COUNTER_OPS,
           "WHERE day = ? AND status = 'waiting' AND target_counter_id = ?",
           "WHERE day <= ? AND status = 'waiting' AND target_counter_id = ?", STORE_TESTS),

    # ---------------------------------------------------------------- reports and the day keeper
    Mutant("reports: serving counted from the start only", REPORT_MATH,
           "cur._segment_from, cur._started = ts, False\n                cur.outcome = \"called\"",
           "cur._started = False\n                cur.outcome = \"called\"", REPORT_TESTS),
    Mutant("keeper: closes a second after the hour", KEEPER,
           "return now.time() >= close_at and open_before_close()", "return now.time() > close_at and open_before_close()",
           KEEPER_TESTS),
    Mutant("keeper: yesterday's leftovers closed without a push", KEEPER,
           "if stale.events:\n        ctx.push.publish(stale)", "if not stale.events:\n        ctx.push.publish(stale)",
           KEEPER_TESTS),
    Mutant("keeper: closes again and again", KEEPER,
           "if always_open or closed_today:", "if always_open:", KEEPER_TESTS),
    Mutant("keeper: closes a day first used after the hour", KEEPER,
           "return now.time() >= close_at and open_before_close()", "return now.time() >= close_at", KEEPER_TESTS),
    Mutant("keeper: closes a demo day at the hour", KEEPER,
           "if always_open or closed_today:", "if closed_today:", KEEPER_TESTS),
    # ---------------------------------------------------------------- online bookings (docs/booking.md)
    Mutant("booking: a pending hold takes no place", BOOKINGS,
           "(state = 'pending_otp' AND otp_expires_ms > :now)", "(state = 'pending_otp' AND 0)", BOOKING_TESTS),
    Mutant("booking: one place too many", BOOKING_RULES,
           "if taken >= capacity or start_ms <= now_ms:", "if taken > capacity or start_ms <= now_ms:", BOOKING_TESTS),
    Mutant("booking: a code accepted at its expiry", BOOKING_RULES,
           "if now_ms >= expires_ms:", "if now_ms > expires_ms:", BOOKING_TESTS),
    Mutant("booking: wrong codes never drop the booking", BOOKING_RULES,
           "    attempts += 1\n    if attempts >= max_attempts:\n        return OtpVerdict(False, attempts, \"otp_attempts\")\n",
           "    attempts += 1\n", BOOKING_TESTS),
    Mutant("booking: cancelled by another identity", BOOKINGS,
           "        row = _by_code(c, code)\n        if row is None or row[\"id_hash\"] is None or not hmac.compare_digest(",
           "        row = _by_code(c, code)\n        if row is None or row[\"id_hash\"] is None or hmac.compare_digest(",
           BOOKING_TESTS),
    Mutant("booking: two tickets for one booking", SCHEMA_MORE,
           "AND EXISTS (SELECT 1 FROM bookings WHERE id = NEW.booking_id AND state <> 'confirmed')", "AND 0",
           BOOKING_TESTS),
    Mutant("booking: the no-show block counts a day too many", BOOKING_RULES,
           "first = day - timedelta(days=within_days - 1)", "first = day - timedelta(days=within_days)", BOOKING_TESTS),
    Mutant("booking: check-in open at the window's end", BOOKING_RULES,
           "return \"open\" if now < self.closes else \"late\"", "return \"open\" if now <= self.closes else \"late\"",
           BOOKING_TESTS),
    Mutant("booking: the keeper ends a booking at its slot's start", BOOKING_UPKEEP,
           "grace_ms = cfg.arrive_after_minutes * 60_000", "grace_ms = 0", BOOKING_TESTS),
    Mutant("booking: the phone's limits ignored", BOOKING_RULES,
           "(\"phone_service_day\", held.phone_service_day, limits.per_phone_per_service_per_day),",
           "(\"phone_service_day\", 0, limits.per_phone_per_service_per_day),", BOOKING_TESTS),
]


def _copy_tree(dest: Path) -> None:
    shutil.copytree(ROOT, dest, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", ".hypothesis", "test-artifacts", "__pycache__", "var", "*.egg-info"))


def _run_tests(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, float, str]:
    # A failing state machine need not shrink its example here: that it fails is all a mutant run asks.
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1", "QMS_HYPOTHESIS_SHRINK": "0"}
    t0 = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                           cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - t0, "timeout"
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("FAILED") or ln.startswith("ERROR")]
    return p.returncode, time.monotonic() - t0, (lines[0][:150] if lines else p.stdout.strip().splitlines()[-1][:150]
                                                 if p.stdout.strip() else "")


def check_snippets(mutants=MUTANTS, root: Path = ROOT) -> list[str]:
    """Mutants whose original snippet is not found exactly once (a moved or rewritten line)."""
    stale = []
    for m in mutants:
        text = (root / m.file).read_text(encoding="utf-8") if (root / m.file).exists() else ""
        if text.count(m.original) != 1:
            stale.append(m.name)
    return stale


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still removes its copy
    listing = "--list" in argv
    only = next((a.split("=", 1)[1] for a in argv if a.startswith("--tests=")), None)
    words = [a for a in argv if not a.startswith("--")]
    chosen = [m for m in MUTANTS if not words or any(w in m.name for w in words)]
    if only:
        chosen = [Mutant(m.name, m.file, m.original, m.mutated, tuple(only.split(","))) for m in chosen]
    stale = set(check_snippets(chosen))
    if listing:
        for m in chosen:
            print(f"{'STALE ' if m.name in stale else ''}{m.name}  ({m.file})")
        return 0
    with tempfile.TemporaryDirectory(prefix="qms-mutants-") as tmp:
        tree = Path(tmp) / "tree"
        _copy_tree(tree)
        probe = subprocess.run([sys.executable, "-c", "import queue_server; print(queue_server.__file__)"],
                               cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True)
        if not probe.stdout.strip().startswith(str(tree)):
            print(f"the copy does not import its own queue_server: {probe.stdout or probe.stderr}")
            return 2
        every_test = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        code, took, detail = _run_tests(tree, every_test, timeout=1800)
        if code != 0:
            print(f"the unmutated tree fails its tests ({detail}): fix that first")
            return 2
        print(f"baseline: {len(every_test)} test files pass in {took:.0f} s; {len(chosen)} mutants\n")
        killed, survived, results = 0, [], []
        for m in chosen:
            if m.name in stale:
                print(f"STALE     {m.name}: snippet not found once in {m.file}")
                results.append("stale")
                continue
            path = tree / m.file
            original = path.read_text(encoding="utf-8")
            try:
                path.write_text(original.replace(m.original, m.mutated, 1), encoding="utf-8")
                code, took, detail = _run_tests(tree, m.tests, timeout=max(600.0, took * 3))
            finally:
                path.write_text(original, encoding="utf-8")
            if code == 0:
                survived.append(m)
                print(f"SURVIVED  {m.name} ({took:.0f} s)")
            else:
                killed += 1
                print(f"killed    {m.name} ({took:.0f} s): {detail}")
            sys.stdout.flush()
        total = len(chosen) - len(stale)
        print(f"\nscore: {killed}/{total} killed ({100 * killed / max(total, 1):.0f}%)"
              + (f"; {len(stale)} stale" if stale else ""))
        for m in survived:
            print(f"  survived: {m.name} [{m.file}]")
        return 0 if not survived and not stale else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
