"""Printer agents on kiosk PCs: the room printer:<kiosk id>, jobs sent as `print.job`, their `print.result`, and
the deadline of a job an agent has not finished. Part of PrintJobs (ticket_printer/server/jobs.py)."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

from queue_server.core.errors import DomainError
from queue_server.store import print_jobs as job_rows

from ticket_printer.server.local_printing import job_file_name
from ticket_printer.agent.escpos_job import PrinterState
from ticket_printer.agent.printers import PrinterSettings

log = logging.getLogger(__name__)

OPEN_STATES = ("queued", "printing")
AGENT_KINDS = ("printer", "any")


@dataclass
class PrintJobMessage:
    job_id: int
    ticket_id: int
    kiosk: str
    reprint: bool
    name: str  # file stem for a preview
    slip: dict  # ticket_printer.shared.slip.SlipData
    printer: dict  # ticket_printer.agent.printers.PrinterSettings
    created_ms: int
    event = "print.job"


class AgentLink:
    """Jobs handed to printer agents (a mixin of PrintJobs: uses its config lookups, job, set_state, push)."""

    # ------------------------------------------------------------ printer agents (room printer:<kiosk id>)
    def authorize(self, p, kiosk_id: str) -> None:
        """Who may join printer:<kiosk id>: an agent that owns the kiosk's printer (kind printer or any) or that
        kiosk's own token."""
        if p.kind == "anonymous":
            raise DomainError("unauthenticated")
        k = self.kiosk(kiosk_id)
        if k is None:
            raise DomainError("kiosk_unknown", kiosk=kiosk_id)
        if p.kind == "device" and p.device_kind == "kiosk" and p.device_id == kiosk_id:
            pass
        elif p.kind == "device" and p.device_kind == "agent":
            printer = self.printer_of(kiosk_id)  # the agent must own it (DevicesConfig.agent_devices)
            if printer is not None and ("printer", printer.id) not in self.config.devices.agent_devices(p.device_id):
                kind = self.config.devices.agent_kind(p.device_id)
                raise DomainError("forbidden", reason=f"agent {p.device_id} is a {kind} agent, not a printer agent")
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
        for job in job_rows.open_for_agent(self.store, kiosk_id):
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
