"""Slips printed by the server itself (preview, network, serial, usb, cups, file printers): one background task
per printer drains that printer's queue, one slip at a time, and idle printers are probed now and then. Part of
PrintJobs (ticket_printer/server/jobs.py); nothing here prints inside a transaction or blocks a request."""
from __future__ import annotations

import json
import logging
import time
from collections import deque

from queue_server.store import devices as device_rows

from ticket_printer.agent.escpos_job import PrinterState, build_job
from ticket_printer.agent.printers import backend_for, png_bytes
from ticket_printer.shared.slip import SlipData, render

log = logging.getLogger(__name__)

NO_AGENT = "no printer agent connected"
PROBE = "probe"  # a queue item: check the idle printer's state (not a job)


class LocalPrinting:
    """The server's own printing (a mixin of PrintJobs: uses its config lookups, queues, set_state, report_printer)."""

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
        row = device_rows.state_of(self.store, "printer", printer_id)
        if row is None:
            return
        if row["state"] == "missing" or row["detail"].startswith(NO_AGENT):  # its agent is back: ready again
            self.report_printer(printer_id, PrinterState.ONLINE.value, "")
        else:
            self.report_printer(printer_id, row["state"], row["detail"])


def prepare(slip: SlipData, profile: str, with_png: bool) -> tuple:
    """Draw the slip and build the whole job (and the preview's PNG): pure CPU work, no I/O."""
    image = render(slip)
    return image, build_job(image, profile), (png_bytes(image) if with_png else None)


def job_file_name(job: dict) -> str:
    """The file stem of a job's preview: job000042_1001 (job ids are unique in one database)."""
    return f"job{job['id']:06d}_{job['code']}{'_reprint' if job['reprint'] else ''}"
