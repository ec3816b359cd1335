"""What every printer backend shares: the settings a backend needs, the one deadline a job works within, and
the python-escpos backend's send (status query before and after, the job's bytes in one write). The concrete
backends are in printers.py."""
from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass

from PIL import Image

from ticket_printer.agent.escpos_job import (DLE_EOT, STATUS_OFFLINE_CAUSE, STATUS_PAPER, STATUS_PRINTER,
                                             PrinterState, PrintFailure, PrintOutcome, decode_status, offline_reason)


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class PrinterSettings:
    """What a backend needs; made from config.Printer (server) or from the dict a print job carries (agent)."""

    id: str
    backend: str = "preview"
    host: str = ""
    port: int = 9100
    device: str = ""
    usb_vendor: int | None = None
    usb_product: int | None = None
    baudrate: int = 19200
    cups_printer: str = ""
    timeout_seconds: float = 5.0
    profile: str = "default"
    output_dir: str = "var/prints"  # the server and the agent resolve config's relative output_dir first
    status_query: bool = True

    @classmethod
    def from_config(cls, printer, **overrides) -> "PrinterSettings":
        data = printer if isinstance(printer, dict) else printer.model_dump()
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise PrintFailure(PrinterState.TIMEOUT, f"no answer within {self.seconds:g} s")
        return left


# ------------------------------------------------------------------ backends
class Backend:
    """Send one finished job. Subclasses: open, query, write, close through a python-escpos printer."""

    name = "base"
    answers_status = False  # can the printer answer DLE EOT over this link

    def __init__(self, settings: PrinterSettings):
        self.settings = settings
        self.current = None  # the escpos printer while a connection is open
        self.aborted = False

    def abort(self) -> None:
        """Give up the work in progress, from another task: a status check makes way for a slip. An open
        connection is shut (a read waiting on it returns at once); one still connecting runs to its deadline."""
        self.aborted = True
        device = getattr(self.current, "device", None)
        with contextlib.suppress(Exception):
            if hasattr(device, "shutdown"):  # a socket
                device.shutdown(socket.SHUT_RDWR)
            elif hasattr(device, "cancel_read"):  # a pyserial port
                device.cancel_read()

    def opened(self, printer):
        """The connection just opened; none is kept once aborted."""
        self.current = printer
        if self.aborted:
            raise PrintFailure(PrinterState.ERROR, "given up: a slip needs the printer")
        return printer

    def send(self, job: bytes, *, image: Image.Image | None = None, name: str = "slip",
             png: bytes | None = None, seconds: float | None = None) -> PrintOutcome:
        """Send a finished job. `image` (or its PNG bytes, `png`) is for the preview backend. `seconds`: what is
        left of the slip's own deadline, when less than timeout_seconds (print_gate.PrinterGate)."""
        self.png = png
        return self._guard(lambda deadline: self._send(job, image=image, name=name, deadline=deadline), seconds)

    def probe(self) -> PrintOutcome | None:
        """Ask an idle printer how it is, without printing. None: this link cannot tell."""
        return None

    def _guard(self, fn, seconds: float | None = None) -> PrintOutcome:
        started = time.monotonic()
        limit = self.settings.timeout_seconds if seconds is None else min(seconds, self.settings.timeout_seconds)
        try:
            out = fn(Deadline(limit))
        except PrintFailure as exc:
            out = PrintOutcome(exc.state, exc.detail)
        except Exception as exc:  # noqa: BLE001 - a driver's surprise is a failed job, never a crash
            out = PrintOutcome(PrinterState.ERROR, f"{type(exc).__name__}: {exc}")
        out.seconds = time.monotonic() - started
        return out

    def _send(self, job: bytes, *, image, name: str, deadline: Deadline) -> PrintOutcome:
        raise NotImplementedError


class EscposBackend(Backend):
    """The common path: open the escpos printer, ask its status, write the job once, ask again, close."""

    def open(self, deadline: Deadline):
        raise NotImplementedError

    def set_timeout(self, printer, seconds: float) -> None:
        pass

    def failure(self, exc: BaseException, what: str) -> PrintFailure:
        return PrintFailure(PrinterState.OFFLINE, f"{what}: {exc}")

    def read_answer(self, printer) -> bytes:
        return printer._read()

    def _send(self, job: bytes, *, image, name: str, deadline: Deadline) -> PrintOutcome:
        printer = self.opened(self.open(deadline))
        try:
            query = self.answers_status and self.settings.status_query
            if query:
                self.check_before(printer, deadline)
            self.set_timeout(printer, deadline.left())
            try:
                printer._raw(job)
            except PrintFailure:
                raise
            except Exception as exc:  # noqa: BLE001
                raise self.failure(exc, "sending the slip failed") from None
            state, detail = PrinterState.ONLINE, f"{len(job)} bytes sent"
            if query:
                paper = self.ask(printer, STATUS_PAPER, deadline)
                if paper.get("paper_out"):
                    state, detail = PrinterState.PAPER_OUT, "the paper ran out while printing"
                elif paper.get("paper_low"):
                    state, detail = PrinterState.PAPER_LOW, "paper is near its end"
                else:
                    detail += "; the printer confirmed"
            return PrintOutcome(state, detail, len(job))
        finally:
            with contextlib.suppress(Exception):
                printer.close()

    def ask(self, printer, n: int, deadline: Deadline) -> dict:
        """One real-time status query; no answer within the deadline is a timeout."""
        self.set_timeout(printer, deadline.left())
        try:
            printer._raw(DLE_EOT + bytes((n,)))
            answer = self.read_answer(printer)
        except (socket.timeout, TimeoutError):
            raise PrintFailure(PrinterState.TIMEOUT,
                               f"the printer did not answer a status query within {deadline.seconds:g} s") from None
        except PrintFailure:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self.failure(exc, "status query failed") from None
        if not answer:
            raise PrintFailure(PrinterState.TIMEOUT,
                               f"the printer did not answer a status query within {deadline.seconds:g} s")
        return decode_status(n, answer[-1])

    def probe(self) -> PrintOutcome | None:
        if not (self.answers_status and self.settings.status_query):
            return None
        return self._guard(self._probe)

    def _probe(self, deadline: Deadline) -> PrintOutcome:
        printer = self.opened(self.open(deadline))
        try:
            paper = self.check_before(printer, deadline)
            if paper.get("paper_low"):
                return PrintOutcome(PrinterState.PAPER_LOW, "paper is near its end")
            return PrintOutcome(PrinterState.ONLINE, "the printer answers its status")
        finally:
            with contextlib.suppress(Exception):
                printer.close()

    def check_before(self, printer, deadline: Deadline) -> dict:
        """Refuse a printer that is offline (and say why) or out of paper; returns the paper status."""
        st = self.ask(printer, STATUS_PRINTER, deadline)
        if st.get("offline"):
            cause = self.ask(printer, STATUS_OFFLINE_CAUSE, deadline)
            raise PrintFailure(*offline_reason(cause))
        paper = self.ask(printer, STATUS_PAPER, deadline)
        if paper.get("paper_out"):
            raise PrintFailure(PrinterState.PAPER_OUT, "the printer is out of paper")
        return paper
