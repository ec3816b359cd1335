"""Print jobs on the server: a durable job per slip, printed by the server or handed to a printer agent.

When a kiosk issues a ticket (Commands.after_issue, called after the issue has committed and been
published), a job row is written to `print_jobs` for the kiosk's printer (devices.kiosks[].printer) in its own
short transaction. The ticket never depends on the slip: a failed job leaves the ticket as it is, and the
kiosk keeps the number on screen with an "In lại" (reprint) button, which makes a new job marked reprint.

Where a job runs:
  the server itself  printers reachable from the server machine (preview, network, serial, usb, cups, file):
                     one background green thread per printer drains that printer's queue, one slip at a time;
                     nothing blocks a request and nothing prints inside a transaction.
  a printer agent    printers with via_agent: true hang on a kiosk PC. The agent joins the Socket.IO room
                     printer:<kiosk id>; each job goes to it as `print.job`; it answers `print.result`
                     (printing, then printed or failed). Jobs it has not finished are sent again when it
                     reconnects; it remembers the ids it has done, so a second delivery prints nothing. A job
                     not finished within agent_timeout_seconds is failed.

Every state change is pushed as `print.status` to kiosk:<id> (only that kiosk) and to supervisors; the printer's
state (online, paper_low, paper_out, offline, timeout, error) goes to ctx.devices.report, which supervisors see
as device.updated.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from queue_server.core.errors import DomainError

from ticket_printer.printers import PrinterSettings, PrinterState, backend_for, build_job, png_bytes
from ticket_printer.slip import SlipData, render

log = logging.getLogger(__name__)

NO_AGENT = "no printer agent connected"
PROBE = "probe"  # a queue item: check the idle printer's state (not a job)
STATES = ("queued", "printing", "printed", "failed")
OPEN_STATES = ("queued", "printing")
REASONS = {  # reason code -> (Vietnamese, English) for the kiosk screen
    "offline": ("Máy in không kết nối được", "The printer cannot be reached"),
    "timeout": ("Máy in không phản hồi", "The printer does not answer"),
    "paper_out": ("Máy in hết giấy", "The printer is out of paper"),
    "paper_low": ("Máy in sắp hết giấy", "The printer's paper is running out"),
    "error": ("Máy in gặp lỗi", "Printer error"),
    "agent_offline": ("Máy in của máy lấy số chưa kết nối", "The kiosk's printer is not connected"),
    "interrupted": ("Lệnh in bị gián đoạn", "The print job was interrupted"),
}
ACTIVE_TICKET = ("waiting", "called", "serving", "parked")
AGENT_KINDS = ("printer", "any")


@dataclass
class PrintStatus:
    job_id: int
    ticket_id: int
    code: str
    kiosk: str
    printer: str
    state: str  # queued | printing | printed | failed
    reason: str  # "" or a short code: offline, timeout, paper_out, paper_low, error, agent_offline, interrupted
    detail: str  # technical detail (English), for supervisors and logs
    message: str  # what the kiosk may show, Vietnamese
    message_en: str
    reprint: bool
    attempts: int
    via_agent: bool
    at_ms: int
    event = "print.status"


@dataclass
class PrintJobMessage:
    job_id: int
    ticket_id: int
    kiosk: str
    reprint: bool
    name: str  # file stem for a preview
    slip: dict  # ticket_printer.slip.SlipData
    printer: dict  # ticket_printer.printers.PrinterSettings
    created_ms: int
    event = "print.job"


class PrintJobs:
    def __init__(self, ctx):
        self.ctx = ctx
        self.socketio = ctx.socketio
        self.queues: dict[str, deque[int]] = {}
        self.busy: set[str] = set()
        self.lock = threading.Lock()
        self.render_lock = threading.Lock()

    @property
    def store(self):
        return self.ctx.store

    @property
    def config(self):
        return self.ctx.store.config

    # ------------------------------------------------------------ config lookups
    def kiosk(self, kiosk_id: str):
        return next((k for k in self.config.devices.kiosks if k.id == kiosk_id), None)

    def printer(self, printer_id: str | None):
        return next((p for p in self.config.devices.printers if p.id == printer_id), None)

    def settings(self, printer) -> PrinterSettings:
        """A printer's settings for this server: a relative output_dir is taken from the database's folder."""
        out = Path(printer.output_dir)
        if not out.is_absolute():
            out = Path(self.store.path).resolve().parent / out
        return PrinterSettings.from_config(printer, output_dir=str(out))

    def printer_of(self, kiosk_id: str):
        k = self.kiosk(kiosk_id)
        return self.printer(k.printer) if k is not None and k.printer else None

    # ------------------------------------------------------------ what a slip shows
    def slip_for(self, ticket: dict, *, lang: str, reprint: bool, waiting_ahead: int | None,
                 estimated: int | None) -> SlipData:
        cfg = self.config
        en = lang == "en"
        dept, svc = cfg.services()[ticket["service_id"]]
        label = ""
        if ticket["priority_group"]:
            group = next((g for g in cfg.priority.groups if g.id == ticket["priority_group"]), None)
            if group is not None:
                label = (group.name_en or group.name) if en else group.name
        c = cfg.centre
        return SlipData(
            centre=(c.name_en or c.name) if en else c.name, address=c.address,
            department=(dept.name_en or dept.name) if en else dept.name,
            service=(svc.name_en or svc.name) if en else svc.name,
            code=ticket["code"], issued_ms=ticket["issued_ms"], status_url=self.ctx.read.status_url(ticket),
            footer=c.slip_footer_en if en else c.slip_footer, timezone=c.timezone, lang="en" if en else "vi",
            waiting_ahead=waiting_ahead, estimated_wait_minutes=estimated, priority=bool(ticket["priority"]),
            priority_label=label, reprint=reprint, printed_ms=self.store.now_ms() if reprint else None)

    # ------------------------------------------------------------ making jobs
    def on_issued(self, p, result, out: dict) -> None:
        """Commands.after_issue: a kiosk with a printer issued a ticket (already committed)."""
        if p.kind != "device" or p.device_kind != "kiosk":
            return
        kiosk = self.kiosk(p.device_id)
        if kiosk is None or not kiosk.printer:
            out["print_job"] = None
            return
        job = self.create(result.ticket, kiosk.id, reprint=False, lang=self.request_lang(),
                          waiting_ahead=result.waiting_ahead, estimated=out.get("estimated_wait_minutes"))
        out["print_job"] = self.view(job)

    def request_lang(self) -> str:
        """The slip's language: the REST call's (?lang=, Accept-Language), or the lang its socket connected with."""
        from flask import has_request_context, request

        if not has_request_context():
            return "vi"
        sid = getattr(request, "sid", None)
        if sid is None:  # REST: ?lang=, else the Accept-Language the kiosk page sends with its language
            from queue_server.web.toolkit import lang

            return lang()
        client = self.ctx.sockets.clients.get(sid) if self.ctx.sockets else None
        return client["lang"] if client else "vi"

    def issuing_kiosk(self, ticket_id: int) -> str | None:
        row = self.store.conn.execute("SELECT actor FROM events WHERE ticket_id = ? AND type = 'ticket.issued' "
                                      "ORDER BY id LIMIT 1", (ticket_id,)).fetchone()
        actor = row["actor"] if row else None
        return actor.partition(":")[2] if actor and actor.startswith("kiosk:") else None

    def reprint(self, p, ticket_id: int, *, kiosk: str | None = None, lang: str | None = None) -> dict:
        """POST /tickets/<id>/reprint: by the kiosk that issued the ticket, or by staff (on a kiosk's printer)."""
        if p.kind == "anonymous":
            raise DomainError("unauthenticated")
        ticket = self.store.ticket(ticket_id)  # unknown -> 404 ticket_unknown
        issued_by = self.issuing_kiosk(ticket_id)
        if p.kind == "device":
            if p.device_kind != "kiosk" or p.device_id != issued_by:
                raise DomainError("forbidden", reason="only the kiosk that issued a ticket reprints it")
            if kiosk not in (None, p.device_id):
                raise DomainError("forbidden", reason="a kiosk prints on its own printer only")
            kiosk = p.device_id
        elif p.kind != "staff":
            raise DomainError("forbidden", reason="kiosks and staff only")
        kiosk = kiosk or issued_by
        if kiosk is None:
            raise DomainError("bad_request", detail="the ticket was not issued at a kiosk: name the kiosk to print on")
        k = self.kiosk(kiosk)
        if k is None:
            raise DomainError("kiosk_unknown", kiosk=kiosk)
        printer = self.printer(k.printer)
        if printer is None:
            raise DomainError("no_printer", kiosk=kiosk)
        if ticket["status"] not in ACTIVE_TICKET or ticket["day"] != self.store.today():
            raise DomainError("reprint_not_allowed", code=ticket["code"], reason=f"the ticket is {ticket['status']}")
        done = self.store.conn.execute("SELECT COUNT(*) FROM print_jobs WHERE ticket_id = ? AND reprint = 1",
                                       (ticket_id,)).fetchone()[0]
        if done >= printer.max_reprints:
            raise DomainError("reprint_not_allowed", code=ticket["code"],
                              reason=f"it has been reprinted {done} times already (at most {printer.max_reprints})")
        if lang not in ("vi", "en"):
            last = self.store.conn.execute("SELECT lang FROM print_jobs WHERE ticket_id = ? ORDER BY id DESC LIMIT 1",
                                           (ticket_id,)).fetchone()
            lang = last["lang"] if last else self.request_lang()
        ahead = self.store.position(ticket)
        job = self.create(ticket, kiosk, reprint=True, lang=lang, waiting_ahead=ahead,
                          estimated=self.ctx.read.estimated_wait(ticket["service_id"], ahead))
        return self.view(job)

    def create(self, ticket: dict, kiosk_id: str, *, reprint: bool, lang: str, waiting_ahead: int | None,
               estimated: int | None) -> dict:
        """Write the job (its own transaction, after the ticket's), tell the kiosk, start it."""
        printer = self.printer_of(kiosk_id)
        slip = self.slip_for(ticket, lang=lang, reprint=reprint, waiting_ahead=waiting_ahead, estimated=estimated)
        now = self.store.now_ms()
        with self.store.writer.transaction() as c:
            cur = c.execute("""INSERT INTO print_jobs (ticket_id, kiosk, printer, state, reprint, via_agent, lang, slip,
                               created_ms, updated_ms) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)""",
                            (ticket["id"], kiosk_id, printer.id, int(reprint), int(printer.via_agent), lang,
                             json.dumps(slip.to_dict(), ensure_ascii=False), now, now))
            job_id = cur.lastrowid
        job = self.job(job_id)
        self.publish(job)
        self.dispatch(job)
        return job

    def dispatch(self, job: dict) -> None:
        if job["via_agent"]:
            self.send_to_agent(job)
            printer = self.printer(job["printer"])
            wait = printer.agent_timeout_seconds if printer else 20
            self.socketio.start_background_task(self._agent_deadline, job["id"], wait)
            return
        with self.lock:
            self.queues.setdefault(job["printer"], deque()).append(job["id"])
            if job["printer"] in self.busy:
                return
            self.busy.add(job["printer"])
        self.socketio.start_background_task(self._drain, job["printer"])

    # ------------------------------------------------------------ rows and states
    def job(self, job_id: int) -> dict:
        row = self.store.conn.execute("SELECT j.*, t.code FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id "
                                      "WHERE j.id = ?", (job_id,)).fetchone()
        if row is None:
            raise DomainError("print_job_unknown", job=job_id)
        return dict(row)

    def view(self, job: dict) -> dict:
        return {"id": job["id"], "ticket_id": job["ticket_id"], "code": job["code"], "kiosk": job["kiosk"],
                "printer": job["printer"], "state": job["state"], "reason": job["reason"], "detail": job["detail"],
                "reprint": bool(job["reprint"]), "attempts": job["attempts"], "via_agent": bool(job["via_agent"]),
                "lang": job["lang"], "created_ms": job["created_ms"], "updated_ms": job["updated_ms"]}

    def jobs_of(self, ticket_id: int) -> list[dict]:
        rows = self.store.conn.execute("SELECT j.*, t.code FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id "
                                       "WHERE j.ticket_id = ? ORDER BY j.id", (ticket_id,)).fetchall()
        return [self.view(dict(r)) for r in rows]

    def recent(self, state: str | None = None, limit: int = 100) -> list[dict]:
        day_start = self.store.now_ms() - 24 * 3600_000
        q = "SELECT j.*, t.code FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id WHERE j.created_ms >= ?"
        args: list = [day_start]
        if state:
            q += " AND j.state = ?"
            args.append(state)
        rows = self.store.conn.execute(q + " ORDER BY j.id DESC LIMIT ?", (*args, limit)).fetchall()
        return [self.view(dict(r)) for r in rows]

    def set_state(self, job_id: int, state: str, *, reason: str = "", detail: str = "", attempts: int | None = None,
                  allowed_from: tuple[str, ...] = OPEN_STATES) -> dict | None:
        """Move a job to `state` if it is in one of `allowed_from`; push the change. None when nothing changed."""
        now = self.store.now_ms()
        with self.store.writer.transaction() as c:
            cur = c.execute(f"""UPDATE print_jobs SET state = ?, reason = ?, detail = ?, updated_ms = ?,
                                attempts = COALESCE(?, attempts) WHERE id = ? AND state IN
                                ({','.join('?' * len(allowed_from))})""",
                            (state, reason, detail[:300], now, attempts, job_id, *allowed_from))
            changed = cur.rowcount == 1
        if not changed:
            return None
        job = self.job(job_id)
        self.publish(job)
        return job

    def publish(self, job: dict) -> None:
        vi, en = REASONS.get(job["reason"], ("", "")) if job["reason"] else ("", "")
        status = PrintStatus(job["id"], job["ticket_id"], job["code"], job["kiosk"], job["printer"], job["state"],
                             job["reason"], job["detail"], vi, en, bool(job["reprint"]), job["attempts"],
                             bool(job["via_agent"]), job["updated_ms"])
        self.ctx.push.send_rooms(status, [f"kiosk:{job['kiosk']}", "supervisors"])

    def report_printer(self, printer_id: str, state: str, detail: str) -> None:
        """The printer's state for supervisors. A working printer reports no detail, so a run of good slips is
        one state (a heartbeat), not a change logged per slip."""
        if self.ctx.devices is None:
            return
        if state == PrinterState.ONLINE.value:
            detail = ""
        try:
            self.ctx.devices.report("printer", printer_id, state, detail, actor="printing")
        except Exception:  # noqa: BLE001 - a device report never stops printing
            log.exception("could not report printer %s", printer_id)

    # ------------------------------------------------------------ printing on the server
    def _drain(self, printer_id: str) -> None:
        try:
            while True:
                with self.lock:
                    queue = self.queues.get(printer_id)
                    if not queue:
                        self.busy.discard(printer_id)
                        return
                    job_id = queue.popleft()
                try:
                    if job_id == PROBE:
                        self.probe_local(printer_id)
                    else:
                        self.run_local(job_id)
                except Exception:  # noqa: BLE001 - one bad job must not stop the printer's queue
                    log.exception("print job %s on %s failed unexpectedly", job_id, printer_id)
                    if job_id != PROBE:
                        self.set_state(job_id, "failed", reason="error", detail="unexpected error; see the server log")
        finally:
            with self.lock:
                if not self.queues.get(printer_id):
                    self.busy.discard(printer_id)

    def run_local(self, job_id: int) -> dict | None:
        job = self.job(job_id)
        if job["state"] != "queued":
            return None
        printer = self.printer(job["printer"])
        if printer is None:
            return self.set_state(job_id, "failed", reason="error", detail=f"printer {job['printer']} is no longer in config")
        settings = self.settings(printer)
        slip = SlipData.from_dict(json.loads(job["slip"]))
        self.set_state(job_id, "printing", attempts=1)
        try:
            with self.render_lock:  # one slip drawn at a time: the cached fonts are not shared between threads
                image, data, png = self.offload(prepare, slip, settings.profile, settings.backend == "preview")
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown escpos profile
            detail = f"cannot build the job (profile {settings.profile!r}): {exc}"
            self.report_printer(printer.id, PrinterState.ERROR.value, detail)
            return self.set_state(job_id, "failed", reason="error", detail=detail)
        outcome = None
        for attempt in range(1, printer.retries + 2):
            if attempt > 1:
                self.set_state(job_id, "printing", attempts=attempt)
            outcome = backend_for(settings).send(data, image=image, name=job_file_name(job), png=png)
            log.info("print job %s on %s: %s %s (%.2f s)", job_id, printer.id, outcome.state.value, outcome.detail,
                     outcome.seconds)
            if outcome.ok:
                break
        self.report_printer(printer.id, outcome.state.value, outcome.detail)
        if outcome.ok:
            return self.set_state(job_id, "printed", reason="" if outcome.state == PrinterState.ONLINE else outcome.state.value,
                                  detail=outcome.detail)
        return self.set_state(job_id, "failed", reason=outcome.state.value, detail=outcome.detail)

    def offload(self, fn, *args):
        """Run CPU work (drawing a slip, ~30 ms) on a native thread so the server's hub keeps serving."""
        mode = self.socketio.async_mode
        if mode == "eventlet":
            from eventlet import tpool

            return tpool.execute(fn, *args)
        if mode == "gevent":
            import gevent

            return gevent.get_hub().threadpool.apply(fn, args)
        return fn(*args)

    # ------------------------------------------------------------ watching idle printers
    def watch(self) -> None:
        """Background: each printer is checked every check_seconds (a status query where the link can answer),
        so supervisors see a printer that went offline or ran out of paper before a slip fails."""
        due: dict[str, float] = {}
        while True:
            self.socketio.sleep(1)
            now = time.monotonic()
            for printer in list(self.config.devices.printers):
                if printer.id not in due:  # the first check one period after start
                    due[printer.id] = now + printer.check_seconds
                if now < due[printer.id]:
                    continue
                due[printer.id] = now + printer.check_seconds
                try:
                    self.check_printer(printer)
                except Exception:  # noqa: BLE001 - the watcher outlives any one printer
                    log.exception("checking printer %s failed", printer.id)

    def check_printer(self, printer) -> None:
        if printer.via_agent:
            kiosks = [k.id for k in self.config.devices.kiosks if k.printer == printer.id]
            if any(self.agent_sids(k) for k in kiosks):
                self.refresh_printer(printer.id)  # its agent is there: the last state it reported stands
            else:
                self.report_printer(printer.id, PrinterState.OFFLINE.value,
                                    f"{NO_AGENT} for kiosk {', '.join(kiosks) or '(none)'}")
            return
        with self.lock:  # a probe waits its turn behind the printer's jobs and never runs beside one
            if printer.id in self.busy:
                return
            self.queues.setdefault(printer.id, deque()).append(PROBE)
            self.busy.add(printer.id)
        self.socketio.start_background_task(self._drain, printer.id)

    def probe_local(self, printer_id: str) -> None:
        printer = self.printer(printer_id)
        if printer is None:
            return
        if printer.backend == "preview":
            self.report_printer(printer.id, PrinterState.ONLINE.value, "")
            return
        outcome = backend_for(self.settings(printer)).probe()
        if outcome is None:  # file, cups: nothing to ask; keep the last state seen
            self.refresh_printer(printer.id)
        else:
            self.report_printer(printer.id, outcome.state.value, outcome.detail)

    def refresh_printer(self, printer_id: str) -> None:
        """Say again the printer's last state (a heartbeat: no change is logged)."""
        row = self.store.conn.execute("SELECT state, detail FROM device_status WHERE kind = 'printer' AND device_id = ?",
                                      (printer_id,)).fetchone()
        if row is None:
            return
        if row["state"] == "missing" or row["detail"].startswith(NO_AGENT):  # its agent is back: ready again
            self.report_printer(printer_id, PrinterState.ONLINE.value, "")
        else:
            self.report_printer(printer_id, row["state"], row["detail"])

    # ------------------------------------------------------------ printer agents (room printer:<kiosk id>)
    def authorize(self, p, kiosk_id: str) -> None:
        """Who may join printer:<kiosk id>: an agent token (kind printer or any) or that kiosk's own token."""
        if p.kind == "anonymous":
            raise DomainError("unauthenticated")
        k = self.kiosk(kiosk_id)
        if k is None:
            raise DomainError("kiosk_unknown", kiosk=kiosk_id)
        if p.kind == "device" and p.device_kind == "kiosk" and p.device_id == kiosk_id:
            pass
        elif p.kind == "device" and p.device_kind == "agent":
            agent = next((a for a in self.config.devices.agents if a.id == p.device_id), None)
            if agent is not None and agent.kind not in AGENT_KINDS:
                raise DomainError("forbidden", reason=f"agent {agent.id} is a {agent.kind} agent, not a printer agent")
        else:
            raise DomainError("forbidden", reason="printer agents and the kiosk itself only")
        if self.printer_of(kiosk_id) is None:
            raise DomainError("no_printer", kiosk=kiosk_id)

    def agent_sids(self, kiosk_id: str) -> list[str]:
        room = f"printer:{kiosk_id}"
        clients = self.ctx.sockets.clients if self.ctx.sockets else {}
        return [sid for sid, c in list(clients.items()) if c["room"] == room]

    def message(self, job: dict) -> PrintJobMessage:
        printer = self.printer(job["printer"])
        settings = asdict(PrinterSettings.from_config(printer)) if printer else {"id": job["printer"]}
        return PrintJobMessage(job["id"], job["ticket_id"], job["kiosk"], bool(job["reprint"]), job_file_name(job),
                               json.loads(job["slip"]), settings, job["created_ms"])

    def send_to_agent(self, job: dict, sid: str | None = None) -> bool:
        sids = [sid] if sid else self.agent_sids(job["kiosk"])
        if not sids:
            self.set_state(job["id"], "queued", reason="agent_offline", allowed_from=("queued",),
                           detail=f"no printer agent is connected for kiosk {job['kiosk']}; waiting for it")
            return False
        self.ctx.push.send_to(sids[-1], self.message(job))  # one agent prints it: the newest connection
        return True

    def joined(self, sid: str, kiosk_id: str) -> None:
        """An agent joined printer:<kiosk id>: send it the jobs not yet done and still within their time."""
        printer = self.printer_of(kiosk_id)
        if printer is not None:
            self.refresh_printer(printer.id)
        now = self.store.now_ms()
        for row in self.store.conn.execute(
                "SELECT j.*, t.code FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id WHERE j.kiosk = ? "
                "AND j.via_agent = 1 AND j.state IN ('queued', 'printing') ORDER BY j.id", (kiosk_id,)).fetchall():
            job = dict(row)
            printer = self.printer(job["printer"])
            limit = (printer.agent_timeout_seconds if printer else 20) * 1000
            if now - job["created_ms"] <= limit:
                self.send_to_agent(job, sid)

    def on_result(self, client: dict | None, data) -> dict:
        """`print.result` from an agent: {job_id, state: printing|printed|failed, reason?, detail?, printer_state?}."""
        if client is None:
            raise DomainError("unauthenticated")
        if not isinstance(data, dict) or not isinstance(data.get("job_id"), int) or isinstance(data.get("job_id"), bool):
            raise DomainError("bad_request", detail="print.result needs job_id (a whole number)")
        state = data.get("state")
        if state not in ("printing", "printed", "failed"):
            raise DomainError("bad_request", detail="state must be printing, printed or failed")
        reason, detail = str(data.get("reason") or "")[:40], str(data.get("detail") or "")[:300]
        job = self.job(data["job_id"])
        if client["room"] != f"printer:{job['kiosk']}":
            raise DomainError("forbidden", reason=f"job {job['id']} belongs to kiosk {job['kiosk']}")
        if state == "printing":
            changed = self.set_state(job["id"], "printing", attempts=job["attempts"] + 1, allowed_from=("queued",))
        elif state == "printed":  # also after a timeout: the slip did come out after all
            changed = self.set_state(job["id"], "printed", reason=reason if reason == "paper_low" else "",
                                     detail=detail, allowed_from=("queued", "printing", "failed"))
        else:
            changed = self.set_state(job["id"], "failed", reason=reason or "error", detail=detail)
        printer_state = data.get("printer_state")
        if changed is not None and printer_state in {s.value for s in PrinterState}:
            self.report_printer(job["printer"], printer_state, detail)
        return {"job_id": job["id"], "state": (changed or self.job(job["id"]))["state"]}

    def _agent_deadline(self, job_id: int, seconds: float) -> None:
        self.socketio.sleep(seconds)
        try:
            job = self.job(job_id)
            if job["state"] not in OPEN_STATES:
                return
            if job["reason"] == "agent_offline" and job["state"] == "queued":
                reason, detail = "agent_offline", f"no printer agent for kiosk {job['kiosk']} within {seconds:g} s"
            else:
                reason, detail = "timeout", f"the printer agent did not report the slip printed within {seconds:g} s"
            if self.set_state(job_id, "failed", reason=reason, detail=detail) is not None:
                self.report_printer(job["printer"], "offline" if reason == "agent_offline" else "timeout", detail)
        except Exception:  # noqa: BLE001
            log.exception("print job %s deadline check failed", job_id)

    # ------------------------------------------------------------ start-up
    def start(self) -> None:
        """Recover, then watch the printers."""
        self.recover()
        self.socketio.start_background_task(self.watch)

    def recover(self) -> None:
        """Jobs left open by a stopped server: the server's own are failed (the kiosk offers a reprint; a slip is
        never printed minutes late); an agent's still in time wait for their agent, the rest are failed."""
        now = self.store.now_ms()
        for row in self.store.conn.execute("SELECT id, via_agent, printer, created_ms FROM print_jobs "
                                           "WHERE state IN ('queued', 'printing')").fetchall():
            printer = self.printer(row["printer"])
            left = (printer.agent_timeout_seconds if printer else 0) - (now - row["created_ms"]) / 1000
            if row["via_agent"] and left > 0:
                self.socketio.start_background_task(self._agent_deadline, row["id"], left)
                continue
            self.set_state(row["id"], "failed", reason="interrupted",
                           detail="the server stopped before the slip was printed")
        for printer in self.config.devices.printers:  # no hardware to wait for: ready from the start
            if printer.backend == "preview" and not printer.via_agent:
                self.report_printer(printer.id, PrinterState.ONLINE.value, "")


def prepare(slip: SlipData, profile: str, with_png: bool) -> tuple:
    """Draw the slip and build the whole job (and the preview's PNG): pure CPU work, no I/O."""
    image = render(slip)
    return image, build_job(image, profile), (png_bytes(image) if with_png else None)


def job_file_name(job: dict) -> str:
    """The file stem of a job's preview: job000042_1001 (job ids are unique in one database)."""
    return f"job{job['id']:06d}_{job['code']}{'_reprint' if job['reprint'] else ''}"
