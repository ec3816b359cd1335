"""The printer agent: runs on a kiosk PC whose printer the server cannot reach, and prints that kiosk's slips.

    python -m ticket_printer --server http://10.0.0.5:5000 --kiosk kiosk-1 --token <agent token>

It connects over Socket.IO to the room printer:<kiosk id> (with an agent token from devices.agents, or the
kiosk's own token), receives `print.job` messages, and for each one:
  1. answers at once with `print.result` {job_id, state: "printing"} (the acknowledgement of receipt),
  2. renders the slip (ticket_printer.shared.slip), builds the whole ESC/POS job, sends it through the backend that
     devices.printers[] names (command-line options may override host, port, device, ...),
  3. answers `print.result` {job_id, state: "printed" | "failed", reason, detail, printer_state}.
Every print.result waits for the server's acknowledgement and is sent again after a reconnect until it is
acknowledged. The ids of the last jobs done are remembered (also in a small state file, across restarts), so a
job delivered twice (the server re-sends unfinished jobs when the agent reconnects) prints once.

The connection is kept with the device kit's capped exponential back-off (0.5 s, 1 s, 2 s ... up to
--max-backoff, with a little jitter), starting again at the shortest delay after a connection that lasted.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path

from device_kit import Backoff
from ticket_printer.agent.print_gate import PrinterGate
from ticket_printer.agent.printers import PrinterSettings, print_slip
from ticket_printer.shared.slip import SlipData, render

log = logging.getLogger("ticket_printer.agent")

REMEMBER = 500  # job ids remembered as done
STABLE_SECONDS = 10  # a connection that lasted this long resets the backoff


def job_key(data: dict) -> str:
    return f"{data['job_id']}:{data.get('created_ms', '')}"


def reconnect_backoff(longest: float = 30.0, *, jitter: float = 0.2, clock=time.monotonic) -> Backoff:
    """0.5, 1, 2, 4 ... capped at `longest`, each shortened by up to `jitter` (a fleet of kiosks does not
    reconnect in step after a server restart); short again after a connection that lasted STABLE_SECONDS."""
    return Backoff(min(0.5, longest), longest, jitter=jitter, stable=STABLE_SECONDS, clock=clock)


class PrinterAgent:
    def __init__(self, server: str, kiosk: str, token: str, *, overrides: dict | None = None,
                 state_file: str | None = None, max_backoff: float = 30.0, connect_timeout: float = 10.0,
                 clock=time.monotonic):
        self.server = server.rstrip("/")
        self.kiosk = kiosk
        self.token = token
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.state_file = Path(state_file) if state_file else None
        self.max_backoff = max_backoff
        self.backoff = reconnect_backoff(max_backoff)
        self.connect_timeout = connect_timeout
        self.lock = threading.RLock()
        # Jobs are known by "id:created_ms": ids alone restart at 1 on a new database.
        self.done: OrderedDict[str, dict] = OrderedDict()  # job key -> its final result
        self.taken: set[str] = set()  # received, not finished
        self.unacked: OrderedDict[int, dict] = OrderedDict()  # results the server has not acknowledged
        self.jobs: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.sio = None
        self.connected = threading.Event()
        self.flush_lock = threading.Lock()
        self.flush_again = threading.Event()
        self.gate = PrinterGate(kiosk, timeout_seconds=5.0, clock=clock)  # each slip's deadline from its receipt
        self._load_state()

    # ------------------------------------------------------------ remembered ids
    def _load_state(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            for item in data.get("done", [])[-REMEMBER:]:
                self.done[str(item["key"])] = item["result"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable state file %s: %s", self.state_file, exc)

    def _save_state(self) -> None:
        if self.state_file is None:
            return
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_name(self.state_file.name + ".tmp")
            tmp.write_text(json.dumps({"kiosk": self.kiosk, "done": [{"key": k, "result": r} for k, r in self.done.items()]}), encoding="utf-8")
            os.replace(tmp, self.state_file)
        except OSError as exc:
            log.warning("cannot save %s: %s", self.state_file, exc)

    # ------------------------------------------------------------ jobs
    def on_job(self, data) -> dict:
        """A `print.job` from the server. Returns at once; printing happens on the worker thread."""
        if not isinstance(data, dict) or not isinstance(data.get("job_id"), int):
            log.warning("ignoring a malformed print job: %r", data)
            return {"ok": False, "error": "bad_request"}
        job_id, key = data["job_id"], job_key(data)
        with self.lock:
            if key in self.done:  # delivered again: say again how it ended, print nothing
                log.info("job %s was done already (%s): not printed again", job_id, self.done[key]["state"])
                self.unacked[job_id] = self.done[key]
                duplicate = True
            elif key in self.taken:
                duplicate = True
            else:
                duplicate = False
                self.admit(data)
                self.taken.add(key)
                self.unacked[job_id] = {"job_id": job_id, "state": "printing"}
                self.jobs.put(data)
        self.flush()
        return {"ok": True, "job_id": job_id, "duplicate": duplicate}

    def settings_of(self, data: dict) -> PrinterSettings:
        settings = PrinterSettings.from_config(data.get("printer") or {"id": "printer"}, **self.overrides)
        if not Path(settings.output_dir).is_absolute():  # relative: under var/ of this PC's working folder
            settings = PrinterSettings.from_config(asdict(settings), output_dir=str(Path("var") / settings.output_dir))
        return settings

    def admit(self, data: dict) -> None:
        """A job received: its deadline (the printer's timeout) starts now, on this PC's clock."""
        try:
            settings = self.settings_of(data)
            self.gate.printer_id, timeout = settings.id, settings.timeout_seconds
        except Exception:  # noqa: BLE001 - a bad job fails when its turn comes
            timeout = self.gate.timeout_seconds
        self.gate.configure(timeout_seconds=timeout, retries=0, can_check=False)
        self.gate.admit(data["job_id"])

    def print_job(self, data: dict) -> dict:
        """Render and print one job; the result to send back. A job that waited behind a slip that found the
        printer down fails at once with that reason; one whose deadline passed while it waited is not tried."""
        job_id = data["job_id"]
        try:
            settings = self.settings_of(data)
            image = render(SlipData.from_dict(data["slip"]))
        except Exception as exc:  # noqa: BLE001 - a bad job is reported, never a crashed agent
            self.gate.done(job_id)
            return {"job_id": job_id, "state": "failed", "reason": "error", "detail": f"bad job: {exc}",
                    "printer_state": "error"}
        verdict, seconds = self.gate.failed_since(job_id), self.gate.attempt_seconds(job_id)
        if verdict is not None or seconds <= 0:
            self.gate.done(job_id)
            state = verdict.state.value if verdict is not None else "timeout"
            detail = self.gate.down_detail(verdict) if verdict is not None else self.gate.late_detail()
            log.info("job %s not tried: %s", job_id, detail)
            return {"job_id": job_id, "state": "failed", "reason": state, "detail": detail, "printer_state": state}
        outcome = print_slip(settings, image, name=str(data.get("name") or f"job{job_id}"),
                             seconds=seconds if job_id in self.gate.deadlines else None)
        self.gate.done(job_id)
        self.gate.note(outcome.state, outcome.detail)
        log.info("job %s (%s): %s %s in %.2f s", job_id, settings.backend, outcome.state.value, outcome.detail,
                 outcome.seconds)
        if outcome.ok:
            reason = outcome.state.value if outcome.state.value != "online" else ""
            return {"job_id": job_id, "state": "printed", "reason": reason, "detail": outcome.detail,
                    "printer_state": outcome.state.value}
        return {"job_id": job_id, "state": "failed", "reason": outcome.state.value, "detail": outcome.detail,
                "printer_state": outcome.state.value}

    def _worker(self) -> None:
        while not self.stopping.is_set():
            try:
                data = self.jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            self.complete(data)

    def complete(self, data: dict) -> dict:
        """Print a received job, remember it as done, and report the result."""
        result = self.print_job(data)
        with self.lock:
            self.taken.discard(job_key(data))
            self.done[job_key(data)] = result
            while len(self.done) > REMEMBER:
                self.done.popitem(last=False)
            self.unacked[data["job_id"]] = result
            self._save_state()
        self.flush()
        return result

    # ------------------------------------------------------------ results, acknowledged
    def flush(self) -> None:
        """Send the results the server has not acknowledged, oldest first; stop at the first that fails.
        One flush at a time; a flush asked for meanwhile makes the running one go round again."""
        if not self.flush_lock.acquire(blocking=False):
            self.flush_again.set()
            return
        try:
            while True:
                self.flush_again.clear()
                self._flush_once()
                if not self.flush_again.is_set():
                    return
        finally:
            self.flush_lock.release()

    def _flush_once(self) -> None:
        with self.lock:
            sio = self.sio
            pending = list(self.unacked.items())
        if sio is None or not self.connected.is_set():
            return
        for job_id, result in pending:
            try:
                ack = sio.call("print.result", result, timeout=5)
            except Exception as exc:  # noqa: BLE001 - disconnected or no answer: try again after reconnecting
                log.info("result of job %s not acknowledged yet (%s)", job_id, type(exc).__name__)
                return
            if isinstance(ack, dict) and not ack.get("ok") and ack.get("error") in (None, "internal"):
                return  # the server could not take it now: keep it
            if isinstance(ack, dict) and not ack.get("ok"):
                log.warning("server refused the result of job %s: %s", job_id, ack.get("message"))
            with self.lock:
                if self.unacked.get(job_id) is result:
                    del self.unacked[job_id]

    # ------------------------------------------------------------ connection
    def _client(self):
        import socketio

        sio = socketio.Client(reconnection=False, logger=False, engineio_logger=False)
        sio.on("print.job", self.on_job)
        sio.on("connect", lambda: self.connected.set())
        sio.on("disconnect", lambda *a: self.connected.clear())
        return sio

    def run(self) -> None:
        """Connect, serve, reconnect with capped backoff, until stop()."""
        threading.Thread(target=self._worker, name="print-worker", daemon=True).start()
        while not self.stopping.is_set():
            sio = self._client()
            try:
                sio.connect(self.server, auth={"room": f"printer:{self.kiosk}", "token": self.token, "lang": "vi"},
                            transports=["websocket"], wait_timeout=self.connect_timeout)
            except Exception as exc:  # noqa: BLE001 - server down, refused, bad token: wait and try again
                log.warning("cannot connect to %s as printer agent of %s: %s", self.server, self.kiosk, exc)
            else:
                log.info("connected to %s as printer agent of kiosk %s", self.server, self.kiosk)
                with self.lock:
                    self.sio = sio
                    self.connected.set()
                self.backoff.up()
                self.flush()
                while sio.connected and not self.stopping.is_set():
                    self.stopping.wait(0.2)
                with self.lock:
                    self.sio = None
                    self.connected.clear()
                log.warning("disconnected from %s", self.server)
            try:
                sio.disconnect()
            except Exception:  # noqa: BLE001
                pass
            if not self.stopping.is_set():
                self.stopping.wait(self.backoff.next_delay())

    def stop(self) -> None:
        self.stopping.set()
        sio = self.sio
        if sio is not None:
            try:
                sio.disconnect()
            except Exception:  # noqa: BLE001
                pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ticket_printer",
                                 description="Printer agent: prints a kiosk's ticket slips on the printer of this PC.")
    ap.add_argument("--server", required=True, help="the server's address, e.g. http://10.0.0.5:5000")
    ap.add_argument("--kiosk", required=True, help="the kiosk id (devices.kiosks[].id) whose slips this PC prints")
    ap.add_argument("--token", default=os.environ.get("QMS_AGENT_TOKEN"),
                    help="an agent token (devices.agents) or the kiosk's token; default $QMS_AGENT_TOKEN")
    ap.add_argument("--backend", choices=["preview", "network", "usb", "serial", "cups", "file"],
                    help="override the printer's backend from the server's config")
    ap.add_argument("--host", help="override: network printer address")
    ap.add_argument("--port", type=int, help="override: network printer port")
    ap.add_argument("--device", help="override: serial port or file path")
    ap.add_argument("--usb-vendor", type=lambda v: int(v, 0), help="override: USB vendor id, e.g. 0x0416")
    ap.add_argument("--usb-product", type=lambda v: int(v, 0), help="override: USB product id, e.g. 0x5011")
    ap.add_argument("--cups-printer", help="override: CUPS queue name")
    ap.add_argument("--output-dir", help="override: where the preview backend writes PNG and bytes")
    ap.add_argument("--timeout", type=float, help="override: printer timeout in seconds")
    ap.add_argument("--state-file", help="where done job ids are remembered (default var/printer-agent-<kiosk>.json)")
    ap.add_argument("--max-backoff", type=float, default=30.0, help="longest wait between reconnects, seconds")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if not args.token:
        ap.error("--token (or $QMS_AGENT_TOKEN) is required")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {"backend": args.backend, "host": args.host, "port": args.port, "device": args.device,
                 "usb_vendor": args.usb_vendor, "usb_product": args.usb_product, "cups_printer": args.cups_printer,
                 "output_dir": args.output_dir, "timeout_seconds": args.timeout}
    agent = PrinterAgent(args.server, args.kiosk, args.token, overrides=overrides,
                         state_file=args.state_file or f"var/printer-agent-{args.kiosk}.json",
                         max_backoff=args.max_backoff)
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.stop()
    return 0
