"""The booking rush bench (`python -m bench booking`, bench/booking.py) in small: its whole code path against one
real server process (a small crowd, small slots), and its database check shown able to fail on a file with an
over-full slot, an identity over its limit, a lost and an unseen confirmation."""
from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bench import booking as rush_bench
from queue_server.config import load_config
from queue_server.core.citizen_card import check_cccd


@pytest.fixture(scope="module")
def small_rush(tmp_path_factory):
    """60 attempts from one client process, 2 places a slot: popular slots fill, the hoarder hits its limit."""
    tmp = tmp_path_factory.mktemp("rush")
    figures = rush_bench.rush(tmp, servers=1, attempts=60, processes=1, threads=4, window_s=1.0, capacity=2,
                             lead_s=1.0)
    booking = load_config(tmp / "rush.yaml").booking.model_dump()
    return tmp, figures, booking


def test_the_crowd_is_made_of_valid_identities_with_a_hoarder():
    work = rush_bench.plan(200, {"a": ["08:00", "08:30"], "b": ["08:00", "09:00"]}, date(2026, 11, 25), send_s=10)
    people = {(cccd, phone) for _, cccd, phone, _, _ in work}
    for cccd, phone in people:
        check_cccd(cccd, date(2026, 11, 25))  # raises on a bad structure
        assert len(phone) == 10 and phone[:2] in rush_bench.PHONE_PREFIXES
    tries = sorted((sum(1 for w in work if w[1] == c) for c, _ in people), reverse=True)
    assert tries[0] == rush_bench.HOARDER_TRIES and tries[-1] == 1
    assert [w[0] for w in work] == sorted(w[0] for w in work) and work[-1][0] < 10  # a steady rate over 10 s


def test_a_small_rush_runs_end_to_end_and_its_check_passes(small_rush):
    _, f, _ = small_rush
    assert f["attempts_made"] == 60 and f["attempts_unstarted"] == 0
    assert f["confirmed_seen"] >= 5 and f["db_confirmed"] == f["confirmed_seen"]
    assert "create 409 slot_full" in f["answers"] and "create 409 booking_limit" in f["answers"], f["answers"]
    assert "otp_not_found" not in f["answers"] and f["answers_5xx"] == 0
    held = int(re.search(r"create 202 x(\d+)", f["answers"]).group(1))
    assert f["create_n"] == 60 and f["confirm_n"] == held and f["create_p99_ms"] > 0  # every hold confirmed
    assert f["db_slots_over_capacity"] == f["db_identities_over_limit"] == f["db_lost_confirmations"] == 0
    assert f["db_unseen_confirmations"] == 0 and f["db_check_ok"] is True


def test_the_database_check_fails_on_a_broken_file(small_rush, tmp_path):
    tmp, _, booking = small_rush
    db = tmp_path / "broken.sqlite3"
    conn = sqlite3.connect(db)
    with sqlite3.connect(tmp / "rush-1.sqlite3") as src:  # the file with its write-ahead log
        src.backup(conn)
    codes = {c for (c,) in conn.execute("SELECT code FROM bookings WHERE state = 'confirmed'")}
    assert rush_bench.check_database(db, booking, codes)["db_check_ok"] is True  # the copy itself is sound
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM bookings WHERE state = 'confirmed' LIMIT 1").fetchone())
    extra = []
    for k in range(booking["capacity"][row["service_id"]]):  # the slot gets `capacity` more confirmed places
        new = {**row, "id": None, "ref": f"over-full-{k:04d}", "code": f"ZZZZZZ{k:02d}",
               "id_hash": f"other-id-{k}", "phone_hash": f"other-phone-{k}"}
        conn.execute(f"INSERT INTO bookings ({', '.join(new)}) VALUES ({', '.join('?' * len(new))})", list(new.values()))
        extra.append(new["code"])
    conn.commit()
    got = rush_bench.check_database(db, booking, codes | set(extra))
    assert (got["db_slots_over_capacity"], got["db_identities_over_limit"], got["db_check_ok"]) == (1, 0, False)

    conn.execute("UPDATE bookings SET id_hash = 'one-citizen' WHERE code IN (?, ?)", extra[:2])
    conn.commit()
    got = rush_bench.check_database(db, booking, codes | set(extra))
    assert booking["per_id_per_service_per_day"] == 1
    assert got["db_identities_over_limit"] == 1  # 2 bookings of one CCCD in one service on one day

    got = rush_bench.check_database(db, booking, (codes | set(extra) | {"NEVERSEEN"}) - {extra[0]})
    assert (got["db_lost_confirmations"], got["db_unseen_confirmations"]) == (1, 1)
    conn.close()
