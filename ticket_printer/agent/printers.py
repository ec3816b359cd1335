"""Printer backends: one slip job, built completely, sent in one write through python-escpos.

A job is built first (escpos_job.build_job: ESC @, the slip as `GS v 0` raster blocks, feed and cut). Only
then is a backend opened and the finished bytes sent at once, so a printer never receives half a slip because
rendering failed half-way.

Backends (devices.printers[].backend):
  preview  no hardware: the slip's PNG and the exact bytes a printer would get, under output_dir (demo)
  network  raw TCP to host:port (9100), escpos Network
  serial   a serial port at baudrate, escpos Serial
  usb      by vendor/product id, escpos Usb (needs pyusb and libusb)
  cups     a CUPS queue: escpos CupsPrinter when pycups is installed, else escpos LP (the `lp` command)
  file     a file or device path (e.g. /dev/usb/lp0), escpos File

Every backend works within one deadline (devices.printers[].timeout_seconds) and returns a `PrintOutcome`
with a `PrinterState`. Where the printer can answer (network, serial, usb) and status_query is on, the real-time
status query DLE EOT is used before sending (printer offline, cover open, paper out refuse the job) and after
sending (the answer proves the printer read the whole job; paper near its end is reported as paper_low).
"""
from __future__ import annotations

import io
import os
import re
import socket
from pathlib import Path

from PIL import Image

from ticket_printer.agent.escpos_job import PrinterState, PrintFailure, PrintOutcome, build_job

from ticket_printer.agent.printer_base import Backend, Deadline, EscposBackend, PrinterSettings  # noqa: F401 - re-exported


class NetworkBackend(EscposBackend):
    name = "network"
    answers_status = True

    def open(self, deadline: Deadline):
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Network

        s = self.settings
        if not s.host:
            raise PrintFailure(PrinterState.ERROR, "devices.printers[].host is empty")
        printer = Network(s.host, s.port, timeout=deadline.left(), profile=s.profile)
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            cause = exc.__context__
            where = f"{s.host}:{s.port}"
            if isinstance(cause, (socket.timeout, TimeoutError)):
                raise PrintFailure(PrinterState.TIMEOUT, f"no answer from {where} within {s.timeout_seconds:g} s") from None
            if isinstance(cause, ConnectionRefusedError):
                raise PrintFailure(PrinterState.OFFLINE, f"connection refused by {where}") from None
            raise PrintFailure(PrinterState.OFFLINE, f"cannot reach {where}: {cause or exc}") from None
        return printer

    def set_timeout(self, printer, seconds: float) -> None:
        printer.device.settimeout(seconds)

    def closed(self) -> PrintFailure:
        """The printer closed the connection: whether we learn it as an end of stream (eventlet) or as a reset or
        broken pipe (gevent), while asking or while writing, it is one cause and one reason."""
        return PrintFailure(PrinterState.OFFLINE,
                            f"the printer at {self.settings.host}:{self.settings.port} closed the connection")

    def read_answer(self, printer) -> bytes:
        answer = printer._read()
        if not answer:  # the end of the stream, not a silence: a silence raises socket.timeout
            raise self.closed()
        return answer

    def failure(self, exc: BaseException, what: str) -> PrintFailure:
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return PrintFailure(PrinterState.TIMEOUT, f"{what}: the printer stopped reading within "
                                                      f"{self.settings.timeout_seconds:g} s")
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return self.closed()
        return PrintFailure(PrinterState.OFFLINE, f"{what}: {exc}")


class SerialBackend(EscposBackend):
    name = "serial"
    answers_status = True

    def open(self, deadline: Deadline):
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Serial

        s = self.settings
        if not s.device:
            raise PrintFailure(PrinterState.ERROR, "devices.printers[].device (the serial port) is empty")
        printer = Serial(s.device, baudrate=s.baudrate, timeout=deadline.left(), dsrdtr=False, profile=s.profile)
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            raise PrintFailure(PrinterState.OFFLINE, f"cannot open serial port {s.device}: {exc.__context__ or exc}") from None
        return printer

    def set_timeout(self, printer, seconds: float) -> None:
        printer.device.timeout = seconds
        printer.device.write_timeout = seconds

    def read_answer(self, printer) -> bytes:
        return printer.device.read(1)  # escpos reads 16 bytes, which on a serial line waits for the timeout

    def failure(self, exc: BaseException, what: str) -> PrintFailure:
        import serial

        if isinstance(exc, serial.SerialTimeoutException):
            return PrintFailure(PrinterState.TIMEOUT, f"{what}: the port did not take the data within "
                                                      f"{self.settings.timeout_seconds:g} s")
        return PrintFailure(PrinterState.OFFLINE, f"{what}: {exc}")


class UsbBackend(EscposBackend):
    name = "usb"
    answers_status = True

    def open(self, deadline: Deadline):
        s = self.settings
        try:
            import usb.core  # noqa: F401  (pyusb)
        except ImportError:
            raise PrintFailure(PrinterState.ERROR, "the usb backend needs pyusb (pip install pyusb) and libusb") from None
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Usb

        if s.usb_vendor is None or s.usb_product is None:
            raise PrintFailure(PrinterState.ERROR, "devices.printers[].usb_vendor and usb_product are required for usb")
        printer = Usb(s.usb_vendor, s.usb_product, timeout=int(deadline.left() * 1000), profile=s.profile)
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            raise PrintFailure(PrinterState.OFFLINE,
                               f"USB printer {s.usb_vendor:04x}:{s.usb_product:04x} not found ({exc.__context__ or exc})") from None
        except Exception as exc:  # noqa: BLE001 - e.g. usb.core.NoBackendError: libusb missing
            raise PrintFailure(PrinterState.ERROR, f"cannot use USB: {type(exc).__name__}: {exc}") from None
        return printer

    def set_timeout(self, printer, seconds: float) -> None:
        printer.timeout = int(seconds * 1000)

    def failure(self, exc: BaseException, what: str) -> PrintFailure:
        if type(exc).__name__ == "USBTimeoutError":
            return PrintFailure(PrinterState.TIMEOUT, f"{what}: USB write timed out")
        return PrintFailure(PrinterState.OFFLINE, f"{what}: {exc}")


class CupsBackend(EscposBackend):
    """A CUPS queue: the raw job is handed to CUPS, which spools it; the printer's own status is CUPS's."""

    name = "cups"

    def open(self, deadline: Deadline):
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import LP, CupsPrinter

        s = self.settings
        try:
            if CupsPrinter.is_usable():
                printer = CupsPrinter(s.cups_printer, profile=s.profile)
            elif LP.is_usable():
                printer = LP(s.cups_printer, profile=s.profile)
            else:
                raise PrintFailure(PrinterState.ERROR, "the cups backend needs pycups or the lp command (cups-client)")
            printer.open()
        except PrintFailure:
            raise
        except FileNotFoundError as exc:
            raise PrintFailure(PrinterState.ERROR, f"the cups backend needs pycups or the CUPS client commands "
                                                   f"(apt-get install cups-client): {exc}") from None
        except (DeviceNotFoundError, OSError, AssertionError) as exc:
            raise PrintFailure(PrinterState.OFFLINE, f"CUPS queue {s.cups_printer or '(default)'} is not available: {exc}") from None
        return printer


class FileBackend(EscposBackend):
    """Write the job to a file or a device path (a parallel port, /dev/usb/lp0)."""

    name = "file"

    def open(self, deadline: Deadline):
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import File

        s = self.settings
        if not s.device:
            raise PrintFailure(PrinterState.ERROR, "devices.printers[].device (the file path) is empty")
        printer = File(s.device, profile=s.profile)
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            raise PrintFailure(PrinterState.OFFLINE, f"cannot open {s.device}: {exc.__context__ or exc}") from None
        return printer


class DummyBackend(EscposBackend):
    """escpos's Dummy: keeps the bytes in memory (`last`). For tests and for checking a job without hardware."""

    name = "dummy"

    def __init__(self, settings: PrinterSettings):
        super().__init__(settings)
        self.last: bytes = b""

    def open(self, deadline: Deadline):
        from escpos.printer import Dummy

        return Dummy(profile=self.settings.profile)

    def _send(self, job: bytes, *, image, name: str, deadline: Deadline) -> PrintOutcome:
        from escpos.printer import Dummy

        printer = Dummy(profile=self.settings.profile)
        printer._raw(job)
        self.last = printer.output
        return PrintOutcome(PrinterState.ONLINE, f"{len(job)} bytes kept", len(job))


SAFE_NAME = re.compile(r"[^0-9A-Za-z._-]+")


class PreviewBackend(Backend):
    """No hardware: the PNG a printer would print and the exact bytes it would receive, under output_dir."""

    name = "preview"

    def _send(self, job: bytes, *, image, name: str, deadline: Deadline) -> PrintOutcome:
        folder = Path(self.settings.output_dir)
        stem = SAFE_NAME.sub("_", name).strip("_") or "slip"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            png, raw = folder / f"{stem}.png", folder / f"{stem}.bin"
            encoded = getattr(self, "png", None) or (png_bytes(image) if image is not None else None)
            if encoded is not None:
                _write_atomic(png, lambda f: f.write(encoded))
            _write_atomic(raw, lambda f: f.write(job))
        except OSError as exc:
            raise PrintFailure(PrinterState.ERROR, f"cannot write the preview under {folder}: {exc.strerror or exc}") from None
        files = ([str(png)] if encoded is not None else []) + [str(raw)]
        return PrintOutcome(PrinterState.ONLINE, f"preview written to {folder}", len(job), files)


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)


BACKENDS: dict[str, type[Backend]] = {
    "preview": PreviewBackend, "network": NetworkBackend, "serial": SerialBackend, "usb": UsbBackend,
    "cups": CupsBackend, "file": FileBackend, "dummy": DummyBackend,
}


def backend_for(settings: PrinterSettings) -> Backend:
    try:
        return BACKENDS[settings.backend](settings)
    except KeyError:
        raise ValueError(f"unknown printer backend {settings.backend!r} (one of {', '.join(BACKENDS)})") from None


def print_slip(settings: PrinterSettings, image: Image.Image, name: str = "slip",
               seconds: float | None = None) -> PrintOutcome:
    """Build the whole job from the slip image, then send it at once through the configured backend, within
    `seconds` when less than the printer's timeout (what is left of the slip's own deadline)."""
    try:
        job = build_job(image, settings.profile)
    except Exception as exc:  # noqa: BLE001 - e.g. an unknown escpos profile
        return PrintOutcome(PrinterState.ERROR, f"cannot build the job (profile {settings.profile!r}): {exc}")
    return backend_for(settings).send(job, image=image, name=name, seconds=seconds)
