"""Printer backends: the bytes of a job (Dummy, a TCP printer emulator on 127.0.0.1, a pty serial port, a file),
status answers, and failures within the configured timeout; the printer agent's bookkeeping."""
from __future__ import annotations

import os
import threading
import time
import tty

import pytest
from PIL import Image

from escpos_emulator import STATUS, PrinterEmulator, parse
from server_util import free_port
from ticket_printer.agent import main as A
from ticket_printer.agent.escpos_job import PrinterState, build_job, decode_status, offline_reason
from ticket_printer.agent.printers import DummyBackend, PrinterSettings, print_slip
from ticket_printer.shared.slip import SlipData, render

SLIP = SlipData(centre="Trung tâm Phục vụ Hành chính công", department="Công an", service="Cấp căn cước",
                code="1001", issued_ms=1795572000000, status_url="http://127.0.0.1:5000/t/abcdefgh",
                footer="Xin cảm ơn!", waiting_ahead=2)


@pytest.fixture(scope="module")
def image() -> Image.Image:
    return render(SLIP)


@pytest.fixture(scope="module")
def job(image) -> bytes:
    return build_job(image)


def without_queries(data: bytes) -> bytes:
    """The job bytes of a captured stream: the status queries taken out."""
    return b"".join(_bytes_of(c) for c in parse(data) if c[0] != "status")


def _bytes_of(cmd) -> bytes:
    kind = cmd[0]
    if kind == "init":
        return b"\x1b@"
    if kind == "feed":
        return b"\x1bd" + bytes((cmd[1],))
    if kind == "cut":
        return b"\x1dV" + bytes((cmd[1],))
    if kind == "raster":
        _, m, w, h, bits = cmd
        return b"\x1dv0" + bytes((m, w % 256, w // 256, h % 256, h // 256)) + bits
    return cmd[1]


# ------------------------------------------------------------------ the job itself
def test_job_is_init_raster_cut(job, image):
    cmds = parse(job)
    assert cmds[0] == ("init",)
    rasters = [c for c in cmds if c[0] == "raster"]
    assert all(c[2] == 576 // 8 for c in rasters), "72 bytes = 576 dots a row"
    assert sum(c[3] for c in rasters) == image.height
    # the raster bits are the slip's pixels (1 = black dot; Pillow's "1" mode has 1 = white)
    assert b"".join(c[4] for c in rasters) == bytes(b ^ 0xFF for b in image.tobytes())
    assert [c[0] for c in cmds[-2:]] == ["feed", "cut"] and cmds[-1] == ("cut", 0)
    assert not [c for c in cmds if c[0] == "text"], "no native printer text: everything is in the image"


@pytest.mark.parametrize("height", [1, 823, 960, 961, 2000])
def test_job_bytes_equal_escpos_own_image_command(image, height):
    """build_job packs the raster itself (fast); the bytes are exactly python-escpos's image() output."""
    import contextlib
    import io

    from escpos.printer import Dummy

    img = image if height == 823 else Image.effect_noise((576, height), 64).convert("1")
    d = Dummy()
    d.hw("INIT")
    with contextlib.redirect_stdout(io.StringIO()):
        d.image(img, impl="bitImageRaster", fragment_height=960)
    d.cut()
    assert build_job(img) == d.output


def test_tall_slip_is_split_in_raster_blocks():
    tall = Image.new("1", (576, 2000), 1)
    rasters = [c for c in parse(build_job(tall)) if c[0] == "raster"]
    assert [c[3] for c in rasters] == [960, 960, 80]


def test_dummy_backend_gets_the_whole_job(job, image):
    backend = DummyBackend(PrinterSettings(id="p", backend="dummy"))
    out = backend.send(job, image=image)
    assert out.ok and out.state == PrinterState.ONLINE and out.bytes_sent == len(job)
    assert backend.last == job


def test_unknown_profile_is_a_clear_error(image):
    out = print_slip(PrinterSettings(id="p", backend="dummy", profile="no-such-printer"), image)
    assert out.state == PrinterState.ERROR and "no-such-printer" in out.detail


# ------------------------------------------------------------------ status answers
@pytest.mark.parametrize("n,byte,expected", [
    (1, 0x16, {"valid": True, "offline": False, "drawer_high": True}),
    (1, 0x1E, {"valid": True, "offline": True, "drawer_high": True}),
    (1, 0x12, {"valid": True, "offline": False, "drawer_high": False}),
    (2, 0x12, {"valid": True, "cover_open": False, "feed_button": False, "paper_stop": False, "error": False}),
    (2, 0x16, {"valid": True, "cover_open": True, "feed_button": False, "paper_stop": False, "error": False}),
    (2, 0x32, {"valid": True, "cover_open": False, "feed_button": False, "paper_stop": True, "error": False}),
    (2, 0x52, {"valid": True, "cover_open": False, "feed_button": False, "paper_stop": False, "error": True}),
    (4, 0x12, {"valid": True, "paper_low": False, "paper_out": False}),
    (4, 0x1E, {"valid": True, "paper_low": True, "paper_out": False}),
    (4, 0x72, {"valid": True, "paper_low": False, "paper_out": True}),
    (4, 0x7E, {"valid": True, "paper_low": True, "paper_out": True}),
    (4, 0x00, {"valid": False}),
    (1, 0xFF, {"valid": False}),
])
def test_decode_status(n, byte, expected):
    assert decode_status(n, byte) == expected


@pytest.mark.parametrize("cause,state,word", [
    ({"paper_stop": True}, PrinterState.PAPER_OUT, "paper"),
    ({"cover_open": True}, PrinterState.OFFLINE, "cover"),
    ({"error": True}, PrinterState.OFFLINE, "error"),
    ({}, PrinterState.OFFLINE, "offline"),
])
def test_offline_reason(cause, state, word):
    got_state, detail = offline_reason(cause)
    assert got_state == state and word in detail


# ------------------------------------------------------------------ network: a real TCP printer emulator
def net(port: int, timeout: float = 1.0, **kw) -> PrinterSettings:
    return PrinterSettings(id="printer-net", backend="network", host="127.0.0.1", port=port, timeout_seconds=timeout, **kw)


def test_network_printer_receives_the_job(job, image):
    emu = PrinterEmulator("ok")
    try:
        out = print_slip(net(emu.port), image, "x")
        assert out.state == PrinterState.ONLINE and "confirmed" in out.detail and out.bytes_sent == len(job)
        data = emu.wait_jobs(1)[0]
        cmds = parse(data)
        # asks status, then the whole job (ESC @ ... GS v 0 ... GS V), then asks again
        assert [c[0] for c in cmds[:3]] == ["status", "status", "init"] and cmds[-1] == ("status", 4)
        assert data.count(b"\x1b@") >= 1 and b"\x1dv0" in data and b"\x1dV\x00" in data
        assert without_queries(data) == job
        assert emu.connections == 1
    finally:
        emu.close()


def test_network_printer_without_status_queries(job, image):
    emu = PrinterEmulator("ok")
    try:
        out = print_slip(net(emu.port, status_query=False), image)
        assert out.ok
        assert emu.wait_jobs(1)[0] == job, "exactly the job, nothing else"
    finally:
        emu.close()


@pytest.mark.parametrize("mode,state,word,sent", [
    ("paper_low", PrinterState.PAPER_LOW, "near", True),
    ("paper_out", PrinterState.PAPER_OUT, "paper", False),
    ("cover_open", PrinterState.OFFLINE, "cover", False),
])
def test_network_printer_reports_its_condition(image, mode, state, word, sent):
    emu = PrinterEmulator(mode)
    try:
        out = print_slip(net(emu.port), image)
        assert out.state == state and word in out.detail
        assert out.ok == (state == PrinterState.PAPER_LOW)
        data = emu.wait_jobs(1)[0]
        assert (b"\x1dv0" in data) == sent, "a printer that cannot print is not sent the slip"
    finally:
        emu.close()


def test_connection_refused_fails_at_once(image):
    port = free_port()  # bound and released: nothing listens there
    started = time.monotonic()
    out = print_slip(net(port, timeout=2), image)
    assert out.state == PrinterState.OFFLINE and "refused" in out.detail
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("mode", ["no_read", "silent"])
@pytest.mark.parametrize("timeout", [0.5, 1.5])
def test_hanging_printer_times_out_within_the_configured_timeout(image, mode, timeout):
    emu = PrinterEmulator(mode)
    try:
        started = time.monotonic()
        out = print_slip(net(emu.port, timeout=timeout), image)
        took = time.monotonic() - started
        assert out.state == PrinterState.TIMEOUT and not out.ok
        assert timeout * 0.9 <= took <= timeout + 0.5, f"{took:.2f}s for a {timeout}s timeout"
    finally:
        emu.close()


def test_missing_host_is_named(image):
    out = print_slip(PrinterSettings(id="p", backend="network"), image)
    assert out.state == PrinterState.ERROR and "host" in out.detail


# ------------------------------------------------------------------ serial: a real pty pair
class SerialPrinter:
    """The printer end of a pty pair in raw mode: answers DLE EOT like the emulator, keeps what it reads."""

    def __init__(self, mode: str = "ok"):
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self.slave = slave
        self.mode = mode
        self.data = bytearray()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import select

        answered = 0
        while not self.stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            self.data += chunk
            if self.mode == "silent":
                continue
            try:
                queries = [c[1] for c in parse(bytes(self.data)) if c[0] == "status"]
            except ValueError:
                continue  # a raster block still arriving
            for q in queries[answered:]:
                os.write(self.master, bytes((STATUS[self.mode][q],)))
            answered = len(queries)

    def close(self):
        self.stop.set()
        self.thread.join(2)
        os.close(self.master)
        os.close(self.slave)


def test_serial_printer_receives_the_job(job, image):
    port = SerialPrinter("ok")
    try:
        settings = PrinterSettings(id="printer-serial", backend="serial", device=port.path, baudrate=115200,
                                   timeout_seconds=3)
        out = print_slip(settings, image)
        assert out.state == PrinterState.ONLINE, out.detail
        deadline = time.monotonic() + 3
        while without_queries(bytes(port.data)) != job and time.monotonic() < deadline:
            time.sleep(0.05)
        assert without_queries(bytes(port.data)) == job
    finally:
        port.close()


def test_serial_paper_out_and_silence(image):
    port = SerialPrinter("paper_out")
    try:
        out = print_slip(PrinterSettings(id="s", backend="serial", device=port.path, timeout_seconds=1), image)
        assert out.state == PrinterState.PAPER_OUT
    finally:
        port.close()
    port = SerialPrinter("silent")
    try:
        started = time.monotonic()
        out = print_slip(PrinterSettings(id="s", backend="serial", device=port.path, timeout_seconds=0.8), image)
        assert out.state == PrinterState.TIMEOUT and time.monotonic() - started <= 0.8 + 0.5
    finally:
        port.close()


def test_serial_port_missing(image):
    out = print_slip(PrinterSettings(id="s", backend="serial", device="/dev/ttyNOPE9", timeout_seconds=1), image)
    assert out.state == PrinterState.OFFLINE and "/dev/ttyNOPE9" in out.detail


# ------------------------------------------------------------------ file, preview, usb, cups
def test_file_backend_writes_the_job(tmp_path, job, image):
    target = tmp_path / "lp0"
    out = print_slip(PrinterSettings(id="f", backend="file", device=str(target)), image)
    assert out.ok and target.read_bytes() == job


def test_preview_writes_png_and_bytes(tmp_path, job, image):
    out = print_slip(PrinterSettings(id="p", output_dir=str(tmp_path / "prints")), image, "job000001_1001")
    assert out.ok and out.files == [str(tmp_path / "prints" / "job000001_1001.png"),
                                    str(tmp_path / "prints" / "job000001_1001.bin")]
    assert (tmp_path / "prints" / "job000001_1001.bin").read_bytes() == job
    with Image.open(out.files[0]) as png:
        assert png.size == image.size and png.tobytes() == image.tobytes()


def test_preview_into_an_unwritable_place_is_an_error(tmp_path, image):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    out = print_slip(PrinterSettings(id="p", output_dir=str(blocker / "prints")), image)
    assert out.state == PrinterState.ERROR and "not-a-dir" in out.detail


def test_usb_printer_absent(image):
    """No USB printer can exist here: the backend says so (not found, or no USB access), never crashes."""
    out = print_slip(PrinterSettings(id="u", backend="usb", usb_vendor=0x0416, usb_product=0x5011), image)
    assert out.state in (PrinterState.OFFLINE, PrinterState.ERROR) and ("USB" in out.detail or "usb" in out.detail)
    out = print_slip(PrinterSettings(id="u", backend="usb"), image)
    assert out.state == PrinterState.ERROR and "usb_vendor" in out.detail


def test_cups_queue_absent(image):
    out = print_slip(PrinterSettings(id="c", backend="cups", cups_printer="NoSuchQueue"), image)
    assert out.state in (PrinterState.OFFLINE, PrinterState.ERROR)
    assert "CUPS" in out.detail or "cups" in out.detail


# ------------------------------------------------------------------ the printer agent's bookkeeping
def test_backoff_is_capped():
    delays = A.reconnect_backoff(4, jitter=0)
    assert [delays.next_delay() for _ in range(7)] == [0.5, 1, 2, 4, 4, 4, 4]
    spread = A.reconnect_backoff(8, jitter=0.2)
    assert all(0 < spread.next_delay() <= 8 for _ in range(20))


def agent_job(tmp_path, job_id=7, created_ms=1000) -> dict:
    return {"job_id": job_id, "ticket_id": 1, "kiosk": "kiosk-1", "reprint": False, "name": f"job{job_id:06d}_1001",
            "slip": SLIP.to_dict(), "created_ms": created_ms,
            "printer": {"id": "printer-1", "backend": "preview", "output_dir": str(tmp_path / "out")}}


def test_agent_prints_a_job_once_even_when_delivered_again(tmp_path):
    state = tmp_path / "agent.json"
    agent = A.PrinterAgent("http://127.0.0.1:9", "kiosk-1", "token", state_file=str(state))
    data = agent_job(tmp_path)
    assert agent.on_job(data) == {"ok": True, "job_id": 7, "duplicate": False}
    assert agent.on_job(data)["duplicate"] is True  # delivered twice before it printed
    assert agent.jobs.qsize() == 1 and agent.unacked[7] == {"job_id": 7, "state": "printing"}
    result = agent.complete(agent.jobs.get_nowait())
    assert result["state"] == "printed" and result["printer_state"] == "online"
    assert agent.unacked[7] is result, "kept until the server acknowledges it"
    assert agent.on_job(data)["duplicate"] is True and agent.jobs.qsize() == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["job000007_1001.bin", "job000007_1001.png"]
    # a restarted agent remembers; the same id from a new database (another created_ms) is a new job
    again = A.PrinterAgent("http://127.0.0.1:9", "kiosk-1", "token", state_file=str(state))
    assert again.on_job(data)["duplicate"] is True and again.unacked[7]["state"] == "printed"
    assert again.on_job(agent_job(tmp_path, created_ms=2000))["duplicate"] is False


def test_agent_overrides_and_reports_failures(tmp_path):
    emu_port = free_port()
    agent = A.PrinterAgent("http://127.0.0.1:9", "kiosk-1", "token",
                           overrides={"backend": "network", "host": "127.0.0.1", "port": emu_port, "timeout_seconds": 1})
    result = agent.print_job(agent_job(tmp_path))
    assert result["state"] == "failed" and result["reason"] == "offline" and "refused" in result["detail"]
    bad = agent.print_job({**agent_job(tmp_path), "slip": {"code": "1"}})
    assert bad["state"] == "failed" and bad["reason"] == "error" and "bad job" in bad["detail"]
