"""An ESC/POS slip job as bytes, and what a printer's status answers mean: pure, no port and no printer here.

A job is built with escpos's `Dummy` printer (`build_job`): ESC @ (initialise), the slip image as `GS v 0`
raster blocks, feed and cut (`GS V`). The real-time status query DLE EOT n is answered by one byte
(`decode_status`). Every outcome carries a `PrinterState`: the word reported to the server, mapped onto the
device kit's DeviceState.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from device_kit import DeviceState, TransportState

DLE_EOT = b"\x10\x04"
STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER = 1, 2, 4
FRAGMENT_HEIGHT = 960  # rows per GS v 0 block


class PrinterState(TransportState):
    ONLINE = "online", DeviceState.ONLINE  # the job went through
    PAPER_LOW = "paper_low", DeviceState.DEGRADED  # went through; the paper near-end sensor is on
    PAPER_OUT = "paper_out", DeviceState.ERROR
    OFFLINE = "offline", DeviceState.OFFLINE  # cannot connect, not found, or the printer says offline (cover open, error)
    TIMEOUT = "timeout", DeviceState.ERROR  # connected, but no answer or a blocked write within timeout_seconds
    ERROR = "error", DeviceState.ERROR  # bad settings, a missing driver, anything else


OK_STATES = tuple(s for s in PrinterState if s.device.works)  # the job went through


@dataclass
class PrintOutcome:
    state: PrinterState
    detail: str = ""
    bytes_sent: int = 0
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state in OK_STATES

    def to_dict(self) -> dict:
        return {"state": self.state.value, "ok": self.ok, "detail": self.detail, "bytes_sent": self.bytes_sent,
                "files": self.files, "seconds": round(self.seconds, 3)}


class PrintFailure(Exception):
    def __init__(self, state: PrinterState, detail: str):
        super().__init__(detail)
        self.state = state
        self.detail = detail


# ------------------------------------------------------------------ building the job (pure bytes)
INVERT = bytes(255 - i for i in range(256))


def raster_blocks(image: Image.Image, fragment_height: int = FRAGMENT_HEIGHT) -> list[bytes]:
    """`GS v 0` commands for a 1-bit image, in blocks of at most `fragment_height` rows: the same bytes as
    escpos's image(impl="bitImageRaster"), made directly from the packed pixels (escpos converts the image
    through RGBA and greyscale first, 60 ms a slip with the interpreter lock held)."""
    img = image.convert("1")
    if img.width % 8:
        padded = Image.new("1", ((img.width + 7) // 8 * 8, img.height), 1)
        padded.paste(img, (0, 0))
        img = padded
    width_bytes = img.width // 8
    data = img.tobytes().translate(INVERT)  # Pillow: 1 = white; ESC/POS: 1 = a black dot
    out = []
    for top in range(0, img.height, fragment_height):
        rows = min(fragment_height, img.height - top)
        header = b"\x1dv0\x00" + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        out.append(header + data[top * width_bytes:(top + rows) * width_bytes])
    return out


def build_job(image: Image.Image, profile: str = "default") -> bytes:
    """The whole slip as ESC/POS bytes, collected by escpos's Dummy printer: initialise (ESC @), the raster
    image (GS v 0), feed and cut (GS V)."""
    from escpos.printer import Dummy

    d = Dummy(profile=profile)
    d.hw("INIT")
    for block in raster_blocks(image):
        d._raw(block)
    d.cut()
    return d.output


# ------------------------------------------------------------------ status answers (pure)
def status_valid(byte: int) -> bool:
    """A DLE EOT answer has bit 1 and bit 4 set, bits 0 and 7 clear."""
    return byte & 0x93 == 0x12


def decode_status(n: int, byte: int) -> dict:
    """The meaning of an answer to DLE EOT n (n = 1 printer, 2 offline cause, 4 paper roll sensor)."""
    if not status_valid(byte):
        return {"valid": False}
    if n == STATUS_PRINTER:
        return {"valid": True, "offline": bool(byte & 0x08), "drawer_high": bool(byte & 0x04)}
    if n == STATUS_OFFLINE_CAUSE:
        return {"valid": True, "cover_open": bool(byte & 0x04), "feed_button": bool(byte & 0x08),
                "paper_stop": bool(byte & 0x20), "error": bool(byte & 0x40)}
    if n == STATUS_PAPER:
        return {"valid": True, "paper_low": bool(byte & 0x0C), "paper_out": bool(byte & 0x60)}
    raise ValueError(f"unknown status query {n}")


def offline_reason(cause: dict) -> tuple[PrinterState, str]:
    if cause.get("paper_stop"):
        return PrinterState.PAPER_OUT, "the printer stopped: out of paper"
    if cause.get("cover_open"):
        return PrinterState.OFFLINE, "the printer's cover is open"
    if cause.get("error"):
        return PrinterState.OFFLINE, "the printer reports an error (cutter jam or overheating)"
    return PrinterState.OFFLINE, "the printer reports it is offline"
