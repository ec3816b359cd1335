"""Print jobs on the server: a durable job per slip, printed by the server or handed to a printer agent.

When a kiosk issues a ticket (Commands.after_issue, called after the issue has committed and been
published), a job row is written to `print_jobs` for the kiosk's printer (devices.kiosks[].printer) in its own
short transaction. The ticket never depends on the slip: a failed job leaves the ticket as it is, and the
kiosk keeps the number on screen with an "In lại" (reprint) button, which makes a new job marked reprint.

Where a job runs:
  the server itself  printers reachable from the server machine (preview, network, serial, usb, cups, file):
                     one background green thread per printer drains that printer's queue, one slip at a time;
                     nothing blocks a request and nothing prints inside a transaction. Each slip's deadline
                     counts from its creation; a printer known down fails later slips at once; a status check
                     gives way to a slip (ticket_printer/agent/print_gate.py, local_printing.py).
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
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from queue_server.core.errors import DomainError
from queue_server.store import event_log
from queue_server.store import print_jobs as job_rows

from ticket_printer.server.agent_link import AGENT_KINDS, OPEN_STATES, AgentLink, PrintJobMessage  # noqa: F401
from ticket_printer.server.local_printing import NO_AGENT, PROBE, LocalPrinting, job_file_name, prepare  # noqa: F401
from ticket_printer.agent.escpos_job import PrinterState
from ticket_printer.agent.print_gate import PrinterGate
from ticket_printer.agent.printers import PrinterSettings
from ticket_printer.shared.slip import SlipData, local_time

log = logging.getLogger(__name__)

STATES = ("queued", "printing", "printed", "failed")
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
    printer_down: bool  # failed because the printer is known down: a reprint waits until it is back
    other_kiosks: list  # a failed slip: [{id, name}] of the other kiosks whose printer is not known down
    event = "print.status"


class PrintJobs(LocalPrinting, AgentLink):
    """Print jobs: made here, printed by the server (LocalPrinting) or by a kiosk's agent (AgentLink)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.socketio = ctx.socketio
        self.queues: dict[str, deque[int]] = {}
        self.busy: set[str] = set()
        self.gates: dict[str, PrinterGate] = {}  # printer id -> its slips' deadlines and its verdict
        self.probing: dict[str, object] = {}  # printer id -> the backend of its status check in progress
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
                 estimated: dict | None) -> SlipData:
        """`estimated`: the ticket's wait (read_models.wait_of): its minutes and its sentence are printed."""
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
            waiting_ahead=waiting_ahead, estimated_wait_minutes=(estimated or {}).get("minutes"),
            wait_text=((estimated or {}).get("text") or {}).get("en" if en else "vi", ""), priority=bool(ticket["priority"]),
            priority_label=label, reprint=reprint, printed_ms=self.store.now_ms() if reprint else None,
            booked_slot=local_time(ticket["slot_start_ms"], c.timezone)[0] if ticket.get("slot_start_ms") else "")

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
                          waiting_ahead=out.get("waiting_ahead"), estimated=out.get("wait"))
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
        actor = event_log.first_actor(self.store, ticket_id, "ticket.issued")
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
        done = job_rows.reprints(self.store, ticket_id)
        if done >= printer.max_reprints:
            raise DomainError("reprint_not_allowed", code=ticket["code"],
                              reason=f"it has been reprinted {done} times already (at most {printer.max_reprints})")
        if lang not in ("vi", "en"):
            lang = job_rows.last_lang(self.store, ticket_id) or self.request_lang()
        wait = self.ctx.read.wait_of(ticket)
        ahead = wait["ahead"] if wait["ahead"] is not None else self.store.position(ticket)
        job = self.create(ticket, kiosk, reprint=True, lang=lang, waiting_ahead=ahead, estimated=wait)
        return self.view(job)

    def create(self, ticket: dict, kiosk_id: str, *, reprint: bool, lang: str, waiting_ahead: int | None,
               estimated: dict | None) -> dict:
        """Write the job (its own transaction, after the ticket's), tell the kiosk, start it."""
        printer = self.printer_of(kiosk_id)
        slip = self.slip_for(ticket, lang=lang, reprint=reprint, waiting_ahead=waiting_ahead, estimated=estimated)
        job = job_rows.create(self.store, ticket_id=ticket["id"], kiosk=kiosk_id, printer=printer.id, reprint=reprint,
                              via_agent=printer.via_agent, lang=lang,
                              slip_json=json.dumps(slip.to_dict(), ensure_ascii=False))
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
        self.queue_local(job)

    # ------------------------------------------------------------ rows and states
    def job(self, job_id: int) -> dict:
        job = job_rows.get(self.store, job_id)
        if job is None:
            raise DomainError("print_job_unknown", job=job_id)
        return job

    def view(self, job: dict) -> dict:
        return {"id": job["id"], "ticket_id": job["ticket_id"], "code": job["code"], "kiosk": job["kiosk"],
                "printer": job["printer"], "state": job["state"], "reason": job["reason"], "detail": job["detail"],
                "reprint": bool(job["reprint"]), "attempts": job["attempts"], "via_agent": bool(job["via_agent"]),
                "lang": job["lang"], "created_ms": job["created_ms"], "updated_ms": job["updated_ms"]}

    def jobs_of(self, ticket_id: int) -> list[dict]:
        return [self.view(j) for j in job_rows.of_ticket(self.store, ticket_id)]

    def recent(self, state: str | None = None, limit: int = 100) -> list[dict]:
        day_start = self.store.now_ms() - 24 * 3600_000
        return [self.view(j) for j in job_rows.recent(self.store, day_start, state, limit)]

    def set_state(self, job_id: int, state: str, *, reason: str = "", detail: str = "", attempts: int | None = None,
                  allowed_from: tuple[str, ...] = OPEN_STATES) -> dict | None:
        """Move a job to `state` if it is in one of `allowed_from`; push the change. None when nothing changed."""
        job = job_rows.set_state(self.store, job_id, state, reason=reason, detail=detail[:300], attempts=attempts,
                                 allowed_from=allowed_from)
        if job is None:
            return None
        self.publish(job)
        return job

    def publish(self, job: dict) -> None:
        vi, en = REASONS.get(job["reason"], ("", "")) if job["reason"] else ("", "")
        status = PrintStatus(job["id"], job["ticket_id"], job["code"], job["kiosk"], job["printer"], job["state"],
                             job["reason"], job["detail"], vi, en, bool(job["reprint"]), job["attempts"],
                             bool(job["via_agent"]), job["updated_ms"], *self.alternatives(job))
        self.ctx.push.send_rooms(status, [f"kiosk:{job['kiosk']}", "supervisors"])

    def alternatives(self, job: dict) -> tuple[bool, list]:
        """For a failed slip: is its printer known down, and which other kiosks have a printer that is not."""
        if job["state"] != "failed":
            return False, []
        down = job["reason"] == "agent_offline" or self.printer_down(job["printer"])
        others = [{"id": k.id, "name": k.name} for k in self.config.devices.kiosks
                  if k.id != job["kiosk"] and k.printer and k.printer != job["printer"] and not self.printer_down(k.printer)]
        return down, others

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

    # ------------------------------------------------------------ start-up
    def start(self) -> None:
        """Recover, draw a slip once for each printer profile (see warm_up), then watch the printers."""
        self.recover()
        self.warm_up()
        self.socketio.start_background_task(self.watch)

    def recover(self) -> None:
        """Jobs left open by a stopped server: the server's own are failed (the kiosk offers a reprint; a slip is
        never printed minutes late); an agent's still in time wait for their agent, the rest are failed."""
        now = self.store.now_ms()
        for row in job_rows.open_jobs(self.store):
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
