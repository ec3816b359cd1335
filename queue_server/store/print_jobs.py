"""Print jobs of ticket slips (ticket_printer/server/jobs.py runs them). A job is written after its ticket's issue has
committed, in its own transaction; a failed job never touches its ticket. Every job read carries its ticket's
code."""
from __future__ import annotations

_JOB = "SELECT j.*, t.code FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id"


def create(store, *, ticket_id: int, kiosk: str, printer: str, reprint: bool, via_agent: bool, lang: str,
           slip_json: str) -> dict:
    """A queued job. Returns it as written."""
    now = store.now_ms()
    with store.writer.transaction() as c:
        cur = c.execute("""INSERT INTO print_jobs (ticket_id, kiosk, printer, state, reprint, via_agent, lang, slip,
                           created_ms, updated_ms) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)""",
                        (ticket_id, kiosk, printer, int(reprint), int(via_agent), lang, slip_json, now, now))
        return dict(c.execute(f"{_JOB} WHERE j.id = ?", (cur.lastrowid,)).fetchone())


def set_state(store, job_id: int, state: str, *, reason: str, detail: str, attempts: int | None,
              allowed_from: tuple[str, ...]) -> dict | None:
    """Move a job to `state` if it is in one of `allowed_from`. Returns the job as changed, None if it was not."""
    now = store.now_ms()
    with store.writer.transaction() as c:
        cur = c.execute(f"""UPDATE print_jobs SET state = ?, reason = ?, detail = ?, updated_ms = ?,
                            attempts = COALESCE(?, attempts) WHERE id = ? AND state IN
                            ({','.join('?' * len(allowed_from))})""",
                        (state, reason, detail, now, attempts, job_id, *allowed_from))
        if cur.rowcount != 1:
            return None
        return dict(c.execute(f"{_JOB} WHERE j.id = ?", (job_id,)).fetchone())


def get(store, job_id: int) -> dict | None:
    row = store.conn.execute(f"{_JOB} WHERE j.id = ?", (job_id,)).fetchone()
    return dict(row) if row else None


def of_ticket(store, ticket_id: int) -> list[dict]:
    return [dict(r) for r in store.conn.execute(f"{_JOB} WHERE j.ticket_id = ? ORDER BY j.id", (ticket_id,))]


def recent(store, since_ms: int, state: str | None = None, limit: int = 100) -> list[dict]:
    """Jobs made since `since_ms` (in one state, if given), newest first."""
    q, args = f"{_JOB} WHERE j.created_ms >= ?", [since_ms]
    if state:
        q += " AND j.state = ?"
        args.append(state)
    return [dict(r) for r in store.conn.execute(q + " ORDER BY j.id DESC LIMIT ?", (*args, limit))]


def reprints(store, ticket_id: int) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM print_jobs WHERE ticket_id = ? AND reprint = 1",
                              (ticket_id,)).fetchone()[0]


def last_lang(store, ticket_id: int) -> str | None:
    """The language of the ticket's latest slip."""
    row = store.conn.execute("SELECT lang FROM print_jobs WHERE ticket_id = ? ORDER BY id DESC LIMIT 1",
                             (ticket_id,)).fetchone()
    return row["lang"] if row else None


def open_for_agent(store, kiosk: str) -> list[dict]:
    """Jobs of a kiosk's printer agent not finished yet, oldest first."""
    return [dict(r) for r in store.conn.execute(
        f"{_JOB} WHERE j.kiosk = ? AND j.via_agent = 1 AND j.state IN ('queued', 'printing') ORDER BY j.id", (kiosk,))]


def open_jobs(store) -> list[dict]:
    """Every job not finished (queued or printing): id, via_agent, printer, created_ms."""
    return [dict(r) for r in store.conn.execute(
        "SELECT id, via_agent, printer, created_ms FROM print_jobs WHERE state IN ('queued', 'printing')")]
