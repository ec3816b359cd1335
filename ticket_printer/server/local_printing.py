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
from ticket_printer.agent.print_gate import LEAST_ATTEMPT, PrinterGate
from ticket_printer.agent.printers import backend_for, png_bytes
from ticket_printer.shared.slip import SlipData, render

log = logging.getLogger(__name__)

NO_AGENT = "no printer agent connected"
PROBE = "probe"  # a queue item: check the idle printer's state (not a job)


CHECKABLE = ("network", "serial", "usb")  # links a status check (DLE EOT) can ask


class LocalPrinting:
    """The server's own printing (a mixin of PrintJobs: uses its config lookups, queues, gates, set_state,
    report_printer). Each printer has a PrinterGate: its slips' deadlines, counted from their creation, and the
    verdict of its last slip or status check."""

    # ------------------------------------------------------------ a printer's gate
    def gate(self, printer) -> PrinterGate:
        can_check = printer.backend in CHECKABLE and printer.status_query
        with self.lock:
            gate = self.gates.get(printer.id)
            if gate is None:
                gate = self.gates[printer.id] = PrinterGate(printer.id, timeout_seconds=printer.timeout_seconds,
                                                            retries=printer.retries, can_check=can_check)
            else:
                gate.configure(timeout_seconds=printer.timeout_seconds, retries=printer.retries, can_check=can_check)
        return gate

    def printer_down(self, printer_id: str) -> bool:
        """Known down: its last slip or check failed, or (an agent's printer) no agent is connected for it."""
        gate = self.gates.get(printer_id)
        if gate is not None and gate.down() is not None:
            return True
        printer = self.printer(printer_id)
        if printer is None or not printer.via_agent:
            return False
        return not any(self.agent_sids(k.id) for k in self.config.devices.kiosks if k.printer == printer_id)

    def queue_local(self, job: dict) -> None:
        """A new slip for a printer of this server: failed at once while its printer is known down (and a check
        asked for, so a reprint prints as soon as it is back), else queued behind the printer's other slips."""
        printer = self.printer(job["printer"])
        if printer is not None:
            gate = self.gate(printer)
            gate.admit(job["id"])
            verdict = gate.refuses()
            if verdict is not None:
                self.fail_down(job["id"], gate, verdict)
                self.check_soon(printer)
                return
        with self.lock:
            self.queues.setdefault(job["printer"], deque()).append(job["id"])
            checking = self.probing.get(job["printer"])
            if job["printer"] in self.busy:
                if checking is not None:  # a status check never holds a slip up: it gives way
                    checking.abort()
                return
            self.busy.add(job["printer"])
        self.socketio.start_background_task(self._drain, job["printer"])

    def fail_down(self, job_id: int, gate: PrinterGate, verdict) -> None:
        gate.done(job_id)
        self.set_state(job_id, "failed", reason=verdict.state.value, detail=gate.down_detail(verdict), attempts=0,
                       allowed_from=("queued",))

    def fail_waiting(self, printer_id: str) -> None:
        """The printer was just found down: every slip waiting for it fails now, with that reason."""
        gate = self.gates.get(printer_id)
        verdict = gate.down() if gate is not None else None
        if verdict is None:
            return
        with self.lock:
            queue = self.queues.get(printer_id) or deque()
            waiting = [j for j in queue if j != PROBE]
            for _ in waiting:
                queue.remove(_)
        for job_id in waiting:
            self.fail_down(job_id, gate, verdict)

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
                gate = self.gates.get(printer_id)
                before = gate.verdict if gate is not None else None
                try:
                    if job_id == PROBE:
                        self.probe_local(printer_id)
                    else:
                        self.run_local(job_id)
                except Exception:  # noqa: BLE001 - one bad job must not stop the printer's queue
                    log.exception("print job %s on %s failed unexpectedly", job_id, printer_id)
                    if job_id != PROBE:
                        self.set_state(job_id, "failed", reason="error", detail="unexpected error; see the server log")
                gate = self.gates.get(printer_id)
                if gate is not None and gate.verdict is not before:  # a fresh verdict: down fails the waiting
                    self.fail_waiting(printer_id)
        finally:
            with self.lock:
                if not self.queues.get(printer_id):
                    self.busy.discard(printer_id)

    def run_local(self, job_id: int) -> dict | None:
        job = self.job(job_id)
        printer = self.printer(job["printer"])
        if job["state"] != "queued":
            return None
        if printer is None:
            return self.set_state(job_id, "failed", reason="error", detail=f"printer {job['printer']} is no longer in config")
        gate = self.gate(printer)
        if gate.attempt_seconds(job_id) <= 0:  # its deadline passed while it waited its turn
            gate.done(job_id)
            verdict = gate.down()
            return self.set_state(job_id, "failed", reason=verdict.state.value if verdict else "timeout",
                                  detail=gate.down_detail(verdict) if verdict else gate.late_detail())
        settings = self.settings(printer)
        slip = SlipData.from_dict(json.loads(job["slip"]))
        self.set_state(job_id, "printing", attempts=1)
        try:
            with self.render_lock:  # one slip drawn at a time: the cached fonts are not shared between threads
                image, data, png = self.offload(prepare, slip, settings.profile, settings.backend == "preview")
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown escpos profile
            gate.done(job_id)
            detail = f"cannot build the job (profile {settings.profile!r}): {exc}"
            self.report_printer(printer.id, PrinterState.ERROR.value, detail)
            return self.set_state(job_id, "failed", reason="error", detail=detail)
        outcome = None
        for attempt in range(1, printer.retries + 2):
            seconds = gate.attempt_seconds(job_id)  # each attempt within what is left of the slip's deadline
            if outcome is not None and seconds <= 0:
                break
            if attempt > 1:
                self.set_state(job_id, "printing", attempts=attempt)
            outcome = backend_for(settings).send(data, image=image, name=job_file_name(job), png=png,
                                                 seconds=max(seconds, LEAST_ATTEMPT))
            log.info("print job %s on %s: %s %s (%.2f s)", job_id, printer.id, outcome.state.value, outcome.detail,
                     outcome.seconds)
            if outcome.ok:
                break
        gate.done(job_id)
        gate.note(outcome.state, outcome.detail)
        self.report_printer(printer.id, outcome.state.value, outcome.detail)
        if outcome.ok:
            return self.set_state(job_id, "printed", reason="" if outcome.state == PrinterState.ONLINE else outcome.state.value,
                                  detail=outcome.detail)
        return self.set_state(job_id, "failed", reason=outcome.state.value, detail=outcome.detail)

    def warm_up(self) -> None:
        """Draw and build one slip per printer profile here, before serving: the libraries' first use imports
        modules (python-escpos' capabilities, Pillow's PNG writer). Done first on `offload`'s native thread under
        eventlet, an import racing one on the hub waits on a green lock from the wrong thread and the hub dies
        ("Cannot switch to a different thread"): seen on a fresh machine, where the first import is slow."""
        sample = SlipData(centre="", department="", service="", code="A001", issued_ms=0, status_url="http://127.0.0.1/t/x",
                         footer="")
        for profile in sorted({self.settings(p).profile for p in self.config.devices.printers}):
            try:
                prepare(sample, profile, True)
            except Exception:  # noqa: BLE001 - an unknown profile fails its own jobs, with its own message
                log.warning("cannot build a slip for printer profile %r", profile)

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

    def check_soon(self, printer) -> None:
        """A slip failed at once on a printer known down: check it now, or after the check in progress, so that
        a reprint prints as soon as it is back (the watcher's own checks skip a busy printer)."""
        with self.lock:
            queue = self.queues.setdefault(printer.id, deque())
            if PROBE in queue:
                return
            queue.append(PROBE)
            if printer.id in self.busy:
                return
            self.busy.add(printer.id)
        self.socketio.start_background_task(self._drain, printer.id)

    def probe_local(self, printer_id: str) -> None:
        printer = self.printer(printer_id)
        if printer is None:
            return
        if printer.backend == "preview":
            self.gate(printer).note(PrinterState.ONLINE, "")
            self.report_printer(printer.id, PrinterState.ONLINE.value, "")
            return
        backend = backend_for(self.settings(printer))
        with self.lock:
            slip_waiting = any(j != PROBE for j in self.queues.get(printer.id) or ())
            if not slip_waiting:
                self.probing[printer.id] = backend
        if slip_waiting:  # it goes first, and it will tell
            return
        try:
            outcome = backend.probe()
        finally:
            with self.lock:
                self.probing.pop(printer.id, None)
        if backend.aborted:  # it made way for a slip, which will tell
            log.info("status check of %s gave way to a slip", printer.id)
        elif outcome is None:  # file, cups: nothing to ask; keep the last state seen
            self.refresh_printer(printer.id)
        else:
            self.gate(printer).note(outcome.state, outcome.detail)
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
