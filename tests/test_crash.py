"""A writer killed with SIGKILL in the middle of its work: the reopened store holds exactly what was committed.

The writer (storecheck.py run as a script) issues tickets and calls and finishes some, on a real clock with
services always open, in a zone where it is morning (so no run crosses the centre's midnight), and prints
`ID CODE` for each issue after the store call returned (after COMMIT). Once it has acknowledged a few hundred
tickets it is killed at a random moment. The file is then checked with plain SQL (integrity, every acknowledged
ticket present with its code, numbering gap-free and unique, the event log equal to the tickets), reopened by a
Store, and used again; this is repeated at three kill points on one file.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from queue_server.config import parse_config
from queue_server.store import Store
from server_util import morning_zone
from storecheck import check_invariants, config_text, dump

WRITER = Path(__file__).parent / "storecheck.py"
KILLS = 3


def run_and_kill(db: Path, cfg: Path, seed: int, at_least: int, rnd: random.Random) -> dict[int, str]:
    """Start the writer, read its acknowledgements, SIGKILL it after `at_least` of them; return id -> code."""
    proc = subprocess.Popen([sys.executable, str(WRITER), str(db), str(cfg), str(seed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    watchdog = threading.Timer(60, proc.kill)  # never leave a writer behind, even if the test breaks
    watchdog.start()
    acked: dict[int, str] = {}
    try:
        while len(acked) < at_least:
            line = proc.stdout.readline()
            if not line:
                proc.wait(timeout=10)
                pytest.fail(f"the writer stopped on its own (exit {proc.returncode}):\n{proc.stderr.read()}")
            tid, code = line.split()
            acked[int(tid)] = code
        time.sleep(rnd.uniform(0, 0.02))  # somewhere in the next operations
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        for line in proc.stdout.read().splitlines():  # acknowledged before the kill, still in the pipe
            tid, code = line.split()
            acked[int(tid)] = code
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    return acked


def check_committed(db: Path, config, acked: dict[int, str]) -> dict:
    """The file after the kill, read with plain SQL."""
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check_invariants(conn, config)
        rows = {r["id"]: r["code"] for r in conn.execute("SELECT id, code FROM tickets")}
        missing = {i: c for i, c in acked.items() if rows.get(i) != c}
        assert not missing, f"acknowledged tickets lost or changed after the kill: {missing}"
        # at most the one issue that committed before its acknowledgement could be printed
        assert len(rows) - len(acked) in (0, 1), (len(rows), len(acked))
        return dump(conn)
    finally:
        conn.close()


def committed_codes(db: Path) -> dict[int, str]:
    conn = sqlite3.connect(str(db))
    try:
        return dict(conn.execute("SELECT id, code FROM tickets"))
    finally:
        conn.close()


@pytest.mark.slow
def test_kill_writer_mid_load(tmp_path):
    cfg_path = tmp_path / "centre.yaml"
    cfg_path.write_text(config_text(queue={"always_open": True}, centre={"timezone": morning_zone()}), encoding="utf-8")
    config = parse_config(cfg_path.read_text(encoding="utf-8"), str(cfg_path))
    db = tmp_path / "qms.sqlite3"
    rnd = random.Random(20261125)
    acked: dict[int, str] = {}
    for round_ in range(KILLS):
        acked.update(run_and_kill(db, cfg_path, seed=round_, at_least=rnd.randint(200, 320), rnd=rnd))
        committed = check_committed(db, config, acked)
        # an issue that committed just before the kill, unacknowledged, is committed state from now on
        acked.update(committed_codes(db))

        # restarting yields exactly the committed state, and the store goes on from it
        store = Store(db, config)
        try:
            assert dump(store.conn) == committed
            assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            last = store.conn.execute("SELECT seq_key, day, MAX(seq_index) AS i FROM tickets "
                                      "WHERE seq_key = 'service:civil' AND day = ?", (store.today(),)).fetchone()
            t = store.issue("civil").ticket
            expected = 0 if last["i"] is None else last["i"] + 1
            assert (t["seq_index"], t["code"]) == (expected, f"A{expected + 1:03d}")
            acked[t["id"]] = t["code"]
            store.set_counter_state("5", "open")
            called = store.call_next("5").ticket
            store.finish(called["id"], "5")
            check_invariants(store.conn, config)
        finally:
            store.close()
    assert len(acked) >= KILLS * 200


def test_kill_inside_a_transaction(tmp_path):
    """Killed after a ticket row was updated but before its event and the COMMIT: none of it survives."""
    cfg_path = tmp_path / "centre.yaml"
    cfg_path.write_text(config_text(queue={"always_open": True}, centre={"timezone": morning_zone()}), encoding="utf-8")
    config = parse_config(cfg_path.read_text(encoding="utf-8"), str(cfg_path))
    db = tmp_path / "qms.sqlite3"
    proc = subprocess.Popen([sys.executable, str(WRITER), str(db), str(cfg_path), "0", "hold"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        lines = []
        while not lines or lines[-1] != "HOLDING":
            line = proc.stdout.readline()
            assert line, f"the writer stopped on its own:\n{proc.stderr.read()}"
            lines.append(line.strip())
        # the write lock is held: another connection cannot start writing
        other = sqlite3.connect(str(db), isolation_level=None, timeout=0.1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    acked = {int(i): c for i, c in (line.split() for line in lines[:-1])}
    assert len(acked) == 5
    committed = check_committed(db, config, acked)
    store = Store(db, config)
    try:
        assert dump(store.conn) == committed
        assert {t["status"] for t in store.tickets(day=None)} == {"waiting"}
        assert store.counter("1")["current_ticket_id"] is None
        assert store.call_next("1").ticket["code"] == "1001"  # the interrupted call never happened
        check_invariants(store.conn, config)
    finally:
        store.close()
