"""The scripted bad day (`python -m bench faults`): one simulated hour of a centre's traffic, compressed into a
few minutes, over two server processes sharing a real redis-server and one SQLite file, with a TCP receipt
printer, a keypad on a pty and its agent, three hall displays on Socket.IO and a kiosk. During the hour:

- the printer hangs (accepts, never reads), then is unplugged (connection refused), then comes back;
- redis-server is killed, then started again on its port;
- a hall display loses its network (its socket is dropped; it reconnects with its last sequence number);
- the keypad is unplugged and plugged back;
- server process B is killed with SIGKILL and started again (its displays reconnect, its counters retry).

At the end, from the database and the clients' own logs: every call reached every display owed it (live or by
catch-up) and none was announced twice; every ticket the kiosk was told of exists, with no duplicate number;
every press the keypad saw acknowledged is counted once; every slip that failed was offered again and printed.
`bad_day(tmp, wall_seconds, display_off)` returns (figures, problems); tests/test_bad_day.py runs a short one.
"""
from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))  # the suite's real-part helpers: server processes, redis, ptys

from server_util import KIOSK, RedisServer, ServerProcess  # noqa: E402
from keypad_util import keypad_config  # noqa: E402

from .fault_parts import Boards, Display, Keypad, Kiosk, PortPrinter  # noqa: E402

HOUR = 3600.0
TICKETS_PER_HOUR = 120
PRESSES_PER_HOUR = 40
COUNTERS = {"1": "A", "6": "A", "7": "B", "8": "B"}  # counter -> the process its staff's browser talks to
LATE_S = 2.0  # a call that reached a display more than this after it was made is "late"
# the faults, as (start, end) fractions of the hour
PRINTER_HANGS, PRINTER_UNPLUGGED, PRINTER_BACK = 0.10, 0.20, 0.30
REDIS_KILLED, REDIS_BACK = 0.25, 0.40
DISPLAY_OFF = 0.45
KEYPAD_UNPLUGGED, KEYPAD_BACK = 0.55, 0.65
B_KILLED, B_BACK = 0.70, 0.78


def centre(tmp: Path, redis_url: str, printer_port: int, keypad_port: Path, led_line: Path) -> Path:
    keypads = [{"id": "kp-6", "counter": "6", "decoder": "qms-line", "device_id": "K06", "debounce_ms": 0,
                "port": str(keypad_port)}]
    path = keypad_config(tmp, keypads, extra_counters=3)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["server"]["message_queue"] = redis_url
    data["devices"]["printers"] = [{"id": "p-1", "backend": "network", "host": "127.0.0.1", "port": printer_port,
                                    "timeout_seconds": 1, "retries": 1, "check_seconds": 1}]
    data["devices"]["kiosks"] = [{"id": "kiosk-1", "token": "test-kiosk-token-1", "printer": "p-1"}]
    data["devices"]["led_boards"] = [{"id": f"led-{c}", "counter": c, "port": str(led_line), "unit_id": int(c),
                                      "run_in": "agent", "timeout_seconds": 0.3, "retries": 1} for c in COUNTERS]
    data["devices"]["timeouts"] = {"serial_reconnect_max_seconds": 1, "led_poll_seconds": 0.2}
    data["devices"]["displays"] = [{"id": "hall", "name": "Bảng hành lang"}, {"id": "hall-a", "zone": "A"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def keypad_agent(url: str, tmp: Path):
    from feedback_buttons.agent.delivery import HttpTransport, http_status_sender
    from feedback_buttons.agent.keypads import KeypadAgent, KeypadSpec

    token = "test-agent-token-1"
    listed = requests.get(url + "/api/v1/keypads", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    agent = KeypadAgent([KeypadSpec.from_dict(k) for k in listed["keypads"]], buttons={"1": 3, "2": 2, "3": 1},
                        level_values=[3, 2, 1], transport=HttpTransport(url, token),
                        status_send=http_status_sender(url, token), outbox_dir=tmp / "keypad-outbox",
                        agent_id="agent-1", backoff_first=0.1, backoff_max=0.5, read_timeout=0.05,
                        refresh_seconds=0.5)
    agent.start()
    return agent


class Day:
    def __init__(self, tmp: Path, wall_seconds: float, display_off: float):
        self.tmp, self.wall, self.display_off = tmp, wall_seconds, display_off
        self.redis = RedisServer(tmp).start()
        self.printer = PortPrinter("ok")
        self.keypad = Keypad(tmp / "tty-kp6", "K06")
        self.boards = Boards(tmp, {c: int(c) for c in COUNTERS})
        cfg = centre(tmp, self.redis.url, self.printer.port, tmp / "tty-kp6", self.boards.link)
        db = tmp / "centre.sqlite3"
        self.db = db
        self.servers = {"A": ServerProcess(cfg, db, "eventlet", log=tmp / "a.log").start(),
                        "B": ServerProcess(cfg, db, "eventlet", log=tmp / "b.log").start()}
        a, b = self.servers["A"].url, self.servers["B"].url
        self.sup = {k: s.login("super", "test-super") for k, s in self.servers.items()}
        for counter, via in COUNTERS.items():
            r = self.servers[via].post(f"/api/v1/counters/{counter}/open", headers=self.sup[via])
            assert r.status_code == 200, r.text
        self.displays = [Display("hall-a@A", a, "display:hall-a"), Display("hall-a@B", b, "display:hall-a"),
                         Display("hall@B", b, "display:hall")]
        for d in self.displays:
            assert d.connect(), d.name
        self.kiosk = Kiosk(a, "kiosk-1", "test-kiosk-token-1")
        self.agent = keypad_agent(a, tmp)
        self.boards.start_agent(a, "test-agent-token-1")
        self.issued: list[dict] = []  # tickets the kiosk was answered with
        self.refused = 0  # kiosk requests that got no answer
        self.current = {c: -1 for c in COUNTERS}
        self.calls: list[dict] = []
        self.call_failures = 0
        self.marks: dict[str, float] = {}

    # ------------------------------------------------------------ traffic
    def issue(self) -> None:
        try:
            r = self.servers["A"].post("/api/v1/tickets", {"service": "cccd"}, KIOSK)
        except requests.RequestException:
            self.refused += 1
            return
        if r.status_code == 201:
            self.issued.append(r.json())
        else:
            self.refused += 1

    def call_next(self, counter: str) -> None:
        via = COUNTERS[counter]
        try:
            r = requests.post(f"{self.servers[via].url}/api/v1/counters/{counter}/next",
                              json={"current": self.current[counter]}, headers=self.sup[via], timeout=3)
        except requests.RequestException:
            self.call_failures += 1  # the server is down: the staff press again later (the same `current`)
            return
        if r.status_code == 200 and r.json().get("ticket"):
            t = r.json()["ticket"]
            self.current[counter] = t["id"]
            self.calls.append({"counter": counter, "code": t["code"], "id": t["id"], "answered": time.time()})

    # ------------------------------------------------------------ faults
    def fault(self, name: str) -> None:
        self.marks[name] = time.monotonic()
        if name == "printer hangs":
            self.printer.mode = "no_read"
        elif name == "printer unplugged":
            self.printer.close()
        elif name == "printer back":
            self.printer = PortPrinter("ok", self.printer.port)
        elif name == "redis killed":
            self.redis.kill()
        elif name == "redis back":
            self.redis.start()
        elif name == "display loses network":
            self.displays[2].lose_network(self.display_off)
        elif name == "keypad unplugged":
            self.keypad.unplug()
        elif name == "keypad back":
            self.keypad.plug()
        elif name == "B killed":
            self.servers["B"].kill9()
        elif name == "B back":
            self.servers["B"].start()
            self.sup["B"] = self.servers["B"].login("super", "test-super")

    def run(self) -> None:
        faults = sorted([(PRINTER_HANGS, "printer hangs"), (PRINTER_UNPLUGGED, "printer unplugged"),
                         (PRINTER_BACK, "printer back"), (REDIS_KILLED, "redis killed"), (REDIS_BACK, "redis back"),
                         (DISPLAY_OFF, "display loses network"), (KEYPAD_UNPLUGGED, "keypad unplugged"),
                         (KEYPAD_BACK, "keypad back"), (B_KILLED, "B killed"), (B_BACK, "B back")])
        scale = HOUR / self.wall  # simulated seconds per wall second
        every = {"ticket": HOUR / TICKETS_PER_HOUR / scale, "press": HOUR / PRESSES_PER_HOUR / scale,
                 "next": HOUR / (TICKETS_PER_HOUR / len(COUNTERS)) / scale * 1.1}
        due = {"ticket": 0.0, "press": every["press"] / 2, **{c: i * every["next"] / 4 for i, c in enumerate(COUNTERS)}}
        start = self.started = time.monotonic()
        while (now := time.monotonic() - start) < self.wall:
            while faults and faults[0][0] * self.wall <= now:
                self.fault(faults.pop(0)[1])
            if now >= due["ticket"]:
                self.issue()
                due["ticket"] += every["ticket"]
            if now >= due["press"]:
                self.keypad.press(("B1", "B2", "B3")[self.keypad.seq % 3])
                due["press"] += every["press"]
            for c in COUNTERS:
                if now >= due[c]:
                    self.call_next(c)
                    due[c] += every["next"]
            self.keypad.tick()
            for d in self.displays:
                d.tick()
            if now >= PRINTER_BACK * self.wall:
                self.kiosk.reprint_failed()
            time.sleep(0.05)

    def drain(self, timeout: float = 30) -> None:
        """After the hour: the clients finish what they owe (reconnects, acknowledgements, reprints)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.keypad.tick()
            for d in self.displays:
                d.tick()
            self.kiosk.reprint_failed()
            settled = (not self.keypad.pending and len(self.agent.outbox) == 0 and not self.kiosk.outstanding()
                       and all(d.connected for d in self.displays)
                       and all(set(self.owed(d)) <= set(d.calls) for d in self.displays)
                       and not self.board_check()[0])
            if settled:
                return
            time.sleep(0.5)

    # ------------------------------------------------------------ the reckoning
    def query(self, sql: str, args=()) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def db_calls(self) -> dict[int, float]:
        """seq -> when it was made (wall seconds), for every call in the log."""
        return {seq: ts / 1000 for seq, ts in self.query("SELECT id, ts_ms FROM events WHERE type = 'ticket.called'")}

    def owed(self, d: Display) -> list[int]:
        return [s for s in self.db_calls() if d.first_seq is not None and s > d.first_seq]

    def board_check(self) -> tuple[list[str], list[float]]:
        """Each call shown on its counter's board after it was made, and each board showing its counter's
        current ticket at the end: (problems, how long after each call its board showed it)."""
        problems, lateness = [], []
        rows = self.query("SELECT e.counter_id, e.ts_ms, t.code FROM events e JOIN tickets t ON t.id = e.ticket_id "
                          "WHERE e.type = 'ticket.called' ORDER BY e.id")
        current = dict(self.query("SELECT c.id, t.code FROM counters c JOIN tickets t ON t.id = c.current_ticket_id"))
        for counter in COUNTERS:
            shown = self.boards.shown(counter)
            for _, ts, code in (r for r in rows if r[0] == counter):
                after = [at for value, at in shown if value == int(code) and at >= ts / 1000 - 0.05]
                if after:
                    lateness.append(after[0] - ts / 1000)
                else:
                    problems.append(f"the board of counter {counter} never showed {code}")
            if counter in current and (not shown or shown[-1][0] != int(current[counter])):
                problems.append(f"the board of counter {counter} ends on {shown[-1:]}, not {current[counter]}")
        return problems, lateness

    def reckon(self) -> tuple[dict, list[str]]:
        problems, board_lateness = self.board_check()
        made = self.db_calls()
        lateness: list[float] = []
        caught_up = 0  # (display, call) pairs that first arrived as a catch-up (replayed), not live
        for d in self.displays:
            with d.lock:
                got = {s: list(v) for s, v in d.calls.items()}
            missing = [s for s in self.owed(d) if s not in got]
            if missing:
                problems.append(f"{d.name} never got calls {missing}")
            twice = [s for s, v in got.items() if sum(1 for _, replayed in v if not replayed) > 1]
            if twice:
                problems.append(f"{d.name} announced calls {twice} more than once")
            if d.snapshots_after_start:
                problems.append(f"{d.name} was sent {d.snapshots_after_start} fresh snapshots instead of its catch-up")
            lateness += [min(at for at, _ in got[s]) - made[s] for s in self.owed(d) if s in got]
            caught_up += sum(1 for s in self.owed(d) if s in got and min(got[s])[1])
        tickets = self.query("SELECT id, code, day FROM tickets")
        ids = {i for i, _, _ in tickets}
        lost = [t["code"] for t in self.issued if t["id"] not in ids]
        if lost:
            problems.append(f"acknowledged tickets missing from the database: {lost}")
        codes = [(day, code) for _, code, day in tickets]
        if len(codes) != len(set(codes)):
            problems.append("a ticket number was given twice")
        ratings = self.query("SELECT id FROM ratings WHERE source = 'keypad:kp-6'")
        if self.keypad.pending or len(ratings) != len(self.keypad.acked):
            problems.append(f"keypad: {len(self.keypad.acked)} presses acknowledged, {len(ratings)} counted, "
                            f"{len(self.keypad.pending)} never acknowledged")
        jobs = self.query("SELECT ticket_id, state, reprint FROM print_jobs ORDER BY id")
        failed_tickets = {t for t, state, _ in jobs if state == "failed"}
        printed_tickets = {t for t, state, _ in jobs if state == "printed"}
        not_told = sorted(failed_tickets - set(self.kiosk.failed))
        if not_told:
            problems.append(f"slips failed without the kiosk hearing of it: {not_told}")
        status = dict(self.query("SELECT id, status FROM tickets"))
        # a slip whose ticket was called before it could be printed again is no longer needed; the reprint is
        # refused ("the ticket is called") and that is the right answer
        moot = {t for t in failed_tickets - printed_tickets
                if "the ticket is" in self.kiosk.refused.get(t, "") and status.get(t) != "waiting"}
        not_again = sorted(failed_tickets - printed_tickets - moot)
        if not_again:
            problems.append(f"failed slips never printed again: {not_again} (refused: "
                            f"{ {t: self.kiosk.refused.get(t) for t in not_again} }, answers {self.kiosk.answers})")
        late = [x for x in lateness if x > LATE_S]
        figures = {
            "wall_seconds": self.wall, "tickets_acknowledged": len(self.issued), "tickets_refused": self.refused,
            "calls": len(made), "call_presses_unanswered": self.call_failures,
            "display_deliveries": len(lateness), "deliveries_late": len(late),
            "late_median_s": statistics.median(late) if late else 0.0, "late_max_s": max(late) if late else 0.0,
            "delivery_p95_s": sorted(lateness)[int(0.95 * (len(lateness) - 1))] if lateness else 0.0,
            "deliveries_caught_up": caught_up,
            "display_reconnects": sum(d.reconnects for d in self.displays),
            "board_deliveries": len(board_lateness),
            "board_deliveries_late": sum(1 for x in board_lateness if x > LATE_S),
            "board_max_s": max(board_lateness, default=0.0),
            "print_jobs": len(jobs), "print_jobs_failed": sum(1 for _, s, _ in jobs if s == "failed"),
            "slips_failed": len(failed_tickets), "slips_recovered": len(failed_tickets & printed_tickets),
            "slips_moot_called_before_printer_back": len(moot),
            "reprints_asked": sum(self.kiosk.reprints.values()),
            "keypad_presses": self.keypad.seq, "keypad_frames_sent": self.keypad.sent,
            "keypad_retransmits": self.keypad.retransmits, "ratings_counted": len(ratings),
            "problems": len(problems),
        }
        return figures, problems

    def close(self) -> None:
        for part in [self.agent.stop, self.boards.close, self.kiosk.close, *[d.close for d in self.displays], self.keypad.close,
                     self.printer.close, *[s.stop for s in self.servers.values()], self.redis.stop]:
            try:
                part()
            except Exception:  # noqa: BLE001 - closing down: the other parts still close
                pass


def bad_day(tmp: Path, wall_seconds: float, display_off: float) -> tuple[dict, list[str]]:
    day = Day(tmp, wall_seconds, display_off)
    try:
        day.run()
        day.drain()
        return day.reckon()
    finally:
        day.close()


def run(seconds: float = 3.0) -> dict:
    """The bench section: a simulated hour in 4 minutes, the display off its network for a real 30 s."""
    with tempfile.TemporaryDirectory(prefix="bad-day-") as tmp:
        figures, problems = bad_day(Path(tmp), wall_seconds=240, display_off=30)
    for p in problems:
        print("  PROBLEM:", p)
    return figures
