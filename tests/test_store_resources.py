"""The store's resource modules (accounts, devices, notices, print jobs, procedures, ratings, meta, queue reads):
each write is one transaction that returns what it changed, logs its event (or the admin's audit event) in that
same transaction, and changes nothing when it is refused.

The clock is the fixture's (Wednesday 2026-11-25 09:00 local); nothing here depends on the hour it runs.
"""
from __future__ import annotations

import json

import pytest
from werkzeug.security import check_password_hash

from queue_server.accounts import Accounts, token_digest
from queue_server.core import rating as R
from queue_server.core.errors import DomainError
from queue_server.store import accounts as account_rows
from queue_server.store import devices as device_rows
from queue_server.store import display_notices, meta, print_jobs, procedures, queue_reads
from queue_server.store import ratings as rating_rows
from queue_server.store.event_log import Audit
from storecheck import dump

ADMIN = Audit("admin.staff_created", 7, "staff:admin", {"username": "moi"})


def events(store, etype: str | None = None) -> list[dict]:
    return [e for e in store.events_since(0) if etype is None or e["type"] == etype]


def tables(store, *names: str) -> dict:
    return {t: [tuple(r) for r in store.conn.execute(f"SELECT * FROM {t}")] for t in names}


# ------------------------------------------------------------------ accounts
def test_a_new_account_and_its_audit_event_are_one_write(store):
    sid = account_rows.add_staff(store, username="moi", full_name="Lê Thị Mới", role="staff", password_hash="h",
                                 counters=["1"], audit=ADMIN)
    got = events(store, "admin.staff_created")
    assert [(e["data"], e["seq"]) for e in got] == [({"username": "moi", "id": sid}, store.last_seq())]
    assert account_rows.staff_by_username(store, "moi")["full_name"] == "Lê Thị Mới"

    before = dump(store.conn), tables(store, "staff")
    with pytest.raises(account_rows.AccountError, match="exists already"):
        account_rows.add_staff(store, username="moi", full_name="", role="staff", password_hash="h", counters=[],
                               audit=ADMIN)
    assert (dump(store.conn), tables(store, "staff")) == before  # no second row, no audit event


def test_an_account_change_refused_changes_nothing(store):
    Accounts(store).seed_from_config()
    before = dump(store.conn), tables(store, "staff", "auth_tokens")
    with pytest.raises(account_rows.AccountError):
        account_rows.update_staff(store, "canbo1", {"password_hash": "x"}, end_sessions=True,
                                  audit=Audit("admin.staff_updated", 7, "staff:admin"))
    with pytest.raises(account_rows.AccountError, match="no user"):
        account_rows.update_staff(store, "nobody", {"full_name": "X"}, end_sessions=True,
                                  audit=Audit("admin.staff_updated", 7, "staff:admin"))
    assert (dump(store.conn), tables(store, "staff", "auth_tokens")) == before


def test_disabling_ends_sessions_and_a_new_password_replaces_the_hash(store):
    accounts = Accounts(store)
    accounts.seed_from_config()
    token, _ = accounts.login("canbo1", "test-staff")
    assert accounts.principal_for(token).username == "canbo1"
    accounts.update_user("canbo1", active=False)
    assert accounts.principal_for(token) is None
    accounts.update_user("canbo1", active=True)
    token, _ = accounts.login("canbo1", "test-staff")
    accounts.set_password("canbo1", "mật-khẩu-mới")
    assert accounts.principal_for(token) is None
    assert check_password_hash(account_rows.staff_by_username(store, "canbo1")["password_hash"], "mật-khẩu-mới")


def test_a_device_token_is_stored_as_its_digest_and_revoked_once(store):
    accounts = Accounts(store)
    audit = Audit("admin.device_token_created", 7, "staff:admin", {"kind": "kiosk", "device": "kiosk-1", "note": ""})
    token = accounts.add_device_token("kiosk", "kiosk-1", audit=audit)
    digest = token_digest(token)
    assert [r["token_hash"] for r in account_rows.device_tokens(store)] == [digest]
    assert events(store, "admin.device_token_created")[0]["data"]["token_id"] == digest[:12]
    assert accounts.principal_for(token).device_id == "kiosk-1"
    assert accounts.revoke_device_token(digest) == {"kind": "kiosk", "device_id": "kiosk-1"}
    assert accounts.principal_for(token) is None
    with pytest.raises(account_rows.AccountError):
        account_rows.revoke_device_token(store, "0" * 64)


# ------------------------------------------------------------------ devices
def test_a_device_report_logs_a_change_only(store, clock):
    first = device_rows.report(store, "printer", "printer-1", "online", "", actor="printing")
    assert first.changed and first.seq == store.last_seq()
    clock.advance(5)
    beat = device_rows.report(store, "printer", "printer-1", "online", "", actor="printing")
    assert (beat.changed, beat.seq, beat.changed_ms, beat.last_seen_ms) == (False, None, first.changed_ms,
                                                                             first.last_seen_ms + 5000)
    assert len(events(store, "device.state")) == 1
    seq = device_rows.mark_missing(store, "printer", "printer-1", "not heard from", store.now_ms())
    assert events(store, "device.state")[-1]["seq"] == seq
    assert device_rows.state_of(store, "printer", "printer-1")["state"] == "missing"
    assert device_rows.state_of(store, "printer", "nothing") is None


# ------------------------------------------------------------------ notices
def test_a_notice_is_set_and_cleared_with_its_audit_event(store):
    audit = Audit("admin.notice_set", 7, "staff:admin", {"display": "*", "text": "Nghỉ trưa"})
    seq = display_notices.set_notice(store, "*", "Nghỉ trưa 11:30", "", staff_id=7, audit=audit)
    assert seq == store.last_seq()
    assert display_notices.all_notices(store)["*"]["text"] == "Nghỉ trưa 11:30"
    assert display_notices.notices_for(store, "hall-a") == {"*": ("Nghỉ trưa 11:30", "")}
    display_notices.set_notice(store, "*", "", "", staff_id=7, audit=audit)
    assert display_notices.all_notices(store) == {}
    assert len(events(store, "admin.notice_set")) == 2


# ------------------------------------------------------------------ print jobs
def test_a_print_job_moves_only_from_the_states_allowed(open_store):
    store = open_store
    ticket = store.issue("cccd").ticket
    job = print_jobs.create(store, ticket_id=ticket["id"], kiosk="kiosk-1", printer="printer-1", reprint=False,
                            via_agent=False, lang="vi", slip_json="{}")
    assert (job["state"], job["code"], job["attempts"]) == ("queued", ticket["code"], 0)
    moved = print_jobs.set_state(store, job["id"], "printing", reason="", detail="", attempts=1,
                                 allowed_from=("queued",))
    assert (moved["state"], moved["attempts"]) == ("printing", 1)
    before = tables(store, "print_jobs")
    assert print_jobs.set_state(store, job["id"], "printing", reason="x", detail="y", attempts=2,
                                allowed_from=("queued",)) is None
    assert tables(store, "print_jobs") == before
    assert [j["id"] for j in print_jobs.open_for_agent(store, "kiosk-1")] == []  # not an agent's job
    assert [j["id"] for j in print_jobs.open_jobs(store)] == [job["id"]]
    assert print_jobs.last_lang(store, ticket["id"]) == "vi" and print_jobs.reprints(store, ticket["id"]) == 0


# ------------------------------------------------------------------ procedures
def test_a_catalogue_import_replaces_everything_once(store):
    row = ("1.001193", "Đăng ký khai sinh", "Birth registration", "Hộ tịch", "justice", "civil", "", "", "", "")
    got = procedures.replace_all(store, [row], data={"source": "a.csv", "services": 1}, actor="cli")
    assert got == {"count": 1, "replaced": 0, "source": "a.csv", "services": 1, "seq": store.last_seq()}
    version = procedures.version(store)
    assert json.loads(version)["seq"] == got["seq"]
    before = dump(store.conn), tables(store, "procedures")
    assert procedures.replace_all(store, [], data={}, actor="system", only_if_empty=True) is None
    assert (dump(store.conn), tables(store, "procedures")) == before
    assert procedures.all_rows(store)[0]["name"] == "Đăng ký khai sinh"
    procedures.replace_all(store, [row, (*row[:0], "1.2", *row[1:])], data={}, actor="cli")
    assert procedures.count(store) == 2 and procedures.version(store) != version


# ------------------------------------------------------------------ ratings
def _finished(store, clock) -> dict:
    t = store.issue("cccd").ticket
    store.call_next("1")
    clock.advance(60)
    store.finish(t["id"], "1")
    return t


def test_a_rating_is_written_once_and_a_refusal_writes_nothing(open_store, clock):
    store = open_store
    t = _finished(store, clock)
    press = rating_rows.Press("r-1", "1", 3, "3", "keypad:kp-1", 0, "agent:a", ("late",))
    seen = []

    def decide(pressed, cands):
        seen.append([c.ticket_id for c in cands])
        return R.attribute(pressed, cands)

    row, created, seq = rating_rows.record(store, press, window_ms=120_000, max_presses=5, decide=decide)
    assert created and seq == store.last_seq() and row["ticket_id"] == t["id"] and seen == [[t["id"]]]
    assert json.loads(row["flags"])[-1] == "late" and row["service_id"] == "cccd"
    again, created, seq = rating_rows.record(store, press, window_ms=120_000, max_presses=5, decide=decide)
    assert (created, seq, again["id"]) == (False, None, "r-1") and len(seen) == 1

    def refuse(pressed, cands):
        raise DomainError("nothing_to_rate", counter=1)

    before = dump(store.conn), tables(store, "ratings")
    with pytest.raises(DomainError):
        rating_rows.record(store, rating_rows.Press("r-2", "1", 1, "1", "tablet:1", 0, None), window_ms=120_000,
                           max_presses=5, decide=refuse)
    assert (dump(store.conn), tables(store, "ratings")) == before


# ------------------------------------------------------------------ meta, queue reads
def test_the_last_close_day_is_read_from_meta(open_store):
    store = open_store
    assert meta.last_close_day(store) is None
    store.issue("cccd")
    store.close_day(actor="schedule")
    assert meta.last_close_day(store) == store.today() == "2026-11-25"
    assert meta.health(store) == {"integrity": "ok", "journal_mode": "wal"}


def test_one_service_state_is_the_one_all_services_report(store):
    store.set_service_state("passport", manual="closed")
    every = store.service_statuses()
    for sid in ("cccd", "passport"):
        assert queue_reads.service_status(store, sid) == every[sid]
    assert queue_reads.service_overrides(store)["passport"][0] == "closed"
    store.issue("cccd")
    assert queue_reads.active_tickets_by_service(store) == {"cccd": 1}
