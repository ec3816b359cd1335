"""The ticket slip: a pure layout drawn with Pillow to a 576-dot-wide 1-bit image (80 mm paper at 203 dpi).

Why an image: most thermal printers have no usable Vietnamese code page (CP1258 needs decomposed tone marks,
the TCVN3 tables in common printer profiles are wrong), so every word is drawn here with a Unicode font and the
printer only receives a raster image (ESC/POS `GS v 0`). The font is Noto Sans, shipped by the PyPI package
`fontpkg-noto-sans` (a dependency), never a system font: every Vietnamese letter with every tone mark
(ằ ẳ ẵ ặ ố ồ ổ ỗ ộ ự ữ ử ỹ ỵ đ Đ ...) has its own glyph in it. Text is normalised to NFC first, so decomposed
input (a base letter followed by combining marks) draws with the same precomposed glyphs.

Long names are wrapped by their measured pixel width, word by word (a single word wider than the paper is
broken between letters): nothing is ever cut. The large number shrinks until it fits.

No Flask, SQLite or I/O here except reading the font file once: `layout(slip)` gives the positioned lines and
boxes (tests check them), `render(slip)` draws them.
"""
from __future__ import annotations

import functools
import importlib.resources
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import qrcode
from PIL import Image, ImageDraw, ImageFont

WIDTH = 576  # dots: 80 mm paper at 203 dpi
MARGIN = 16
CONTENT = WIDTH - 2 * MARGIN
FONT_PACKAGE = "fontpkg_noto_sans"
FONT_FILE = "files/NotoSans[wdth,wght].ttf"
REGULAR, SEMIBOLD, BOLD = 400, 600, 700
NUMBER_MAX_SIZE, NUMBER_MIN_SIZE = 180, 48
QR_TARGET = 232  # dots: about 29 mm, easy for any phone camera
THRESHOLD = 128  # grey level under which a dot is printed

LABELS = {
    "vi": {
        "number": "SỐ THỨ TỰ",
        "priority": "ƯU TIÊN",
        "booked": "ĐÃ ĐẶT LỊCH · khung giờ {slot}",
        "ahead": "Số người đang chờ phía trước: {n}",
        "wait": "Thời gian chờ dự kiến: khoảng {m} phút",
        "issued": "Lấy số lúc {time} ngày {date}",
        "qr": "Quét mã QR để theo dõi số thứ tự",
        "reprint": "IN LẠI",
        "reprinted": "Bản in lại lúc {time} ngày {date}",
    },
    "en": {
        "number": "YOUR NUMBER",
        "priority": "PRIORITY",
        "booked": "BOOKED · slot {slot}",
        "ahead": "People waiting ahead of you: {n}",
        "wait": "Estimated wait: about {m} min",
        "issued": "Issued at {time} on {date}",
        "qr": "Scan the QR code to follow your number",
        "reprint": "REPRINT",
        "reprinted": "Reprinted at {time} on {date}",
    },
}


@dataclass(frozen=True)
class SlipData:
    """Everything printed on one slip (JSON-friendly: the server sends it to a printer agent as a dict)."""

    centre: str
    department: str
    service: str
    code: str
    issued_ms: int
    status_url: str
    footer: str
    timezone: str = "Asia/Ho_Chi_Minh"
    lang: str = "vi"
    waiting_ahead: int | None = None
    estimated_wait_minutes: int | None = None
    wait_text: str = ""  # the estimate's sentence (a range, or an honest state); printed instead of the minutes
    address: str = ""
    priority: bool = False
    priority_label: str = ""  # the priority group's name, e.g. "Người cao tuổi"
    reprint: bool = False
    printed_ms: int | None = None  # when a reprint was made
    booked_slot: str = ""  # a booked ticket's slot, "HH:MM" local: printed as "ĐÃ ĐẶT LỊCH · khung giờ 09:00"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SlipData":
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown slip fields {sorted(unknown)}")
        return cls(**data)


# ------------------------------------------------------------------ fonts
def font_path() -> str:
    """The Noto Sans variable font shipped by the fontpkg-noto-sans package."""
    return str(importlib.resources.files(FONT_PACKAGE).joinpath(FONT_FILE))


@functools.lru_cache(maxsize=64)
def font(size: int, weight: int = REGULAR) -> ImageFont.FreeTypeFont:
    # The basic layout engine: the same glyph positions on every machine (no dependence on libraqm).
    f = ImageFont.truetype(font_path(), size, layout_engine=ImageFont.Layout.BASIC)
    f.set_variation_by_axes([weight, 100])  # axes: weight, width
    return f


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def text_width(text: str, f: ImageFont.FreeTypeFont) -> float:
    return _width(text, f)


@functools.lru_cache(maxsize=8192)
def _width(text: str, f: ImageFont.FreeTypeFont) -> float:
    # Measuring with a variable font is slow (~0.5 ms); the same names are measured on every slip of a service.
    return f.getlength(text)


# ------------------------------------------------------------------ wrapping (pure, by pixel width)
def wrap(text: str, f: ImageFont.FreeTypeFont, width: int = CONTENT) -> list[str]:
    """Greedy word wrap by measured width. A word wider than `width` is broken between letters. Never cuts:
    joining the lines with spaces (or nothing, inside a broken word) gives back every character."""
    words = nfc(text).split()
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, f) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
            line = ""
        if text_width(word, f) <= width:
            line = word
            continue
        piece = ""
        for ch in word:  # one word longer than the paper: break it between letters
            if piece and text_width(piece + ch, f) > width:
                lines.append(piece)
                piece = ""
            piece += ch
        line = piece
    if line:
        lines.append(line)
    return lines


def fit_size(text: str, weight: int, width: int = CONTENT, start: int = NUMBER_MAX_SIZE,
             smallest: int = NUMBER_MIN_SIZE) -> int:
    """The largest font size (step 4) at which `text` fits on one line, not below `smallest`."""
    size = start
    while size > smallest and text_width(text, font(size, weight)) > width:
        size -= 4
    return max(size, smallest)


# ------------------------------------------------------------------ layout
@dataclass(frozen=True)
class Line:
    """One line of text: drawn with its baseline at `baseline`, inside the box (x0, top, x1, bottom)."""

    text: str
    size: int
    weight: int
    x: int
    baseline: int
    box: tuple[int, int, int, int]
    inverted: bool = False  # white text on a black band (priority, reprint)


@dataclass(frozen=True)
class Rule:
    y: int
    thickness: int = 2
    x0: int = MARGIN
    x1: int = WIDTH - MARGIN


@dataclass(frozen=True)
class Band:
    box: tuple[int, int, int, int]  # a black rectangle behind inverted lines


@dataclass(frozen=True)
class QR:
    url: str
    x: int
    y: int
    module: int  # dots per module
    modules: int  # modules per side

    @property
    def box(self) -> tuple[int, int, int, int]:
        side = self.module * self.modules
        return (self.x, self.y, self.x + side, self.y + side)


@dataclass
class Layout:
    width: int
    height: int
    items: list = field(default_factory=list)

    def lines(self) -> list[Line]:
        return [i for i in self.items if isinstance(i, Line)]


class _Builder:
    def __init__(self):
        self.y = MARGIN
        self.items: list = []

    def gap(self, dots: int) -> None:
        self.y += dots

    def text(self, text: str, size: int, weight: int = REGULAR, *, align: str = "center", spacing: int = 4,
             inverted: bool = False, width: int = CONTENT, tight: bool = False) -> list[Line]:
        """Wrapped lines; `tight` sizes the line by its own ink (the large number) instead of the font's
        ascent and descent, saving paper."""
        f = font(size, weight)
        ascent, descent = (0, 0) if tight else f.getmetrics()
        out = []
        for content in wrap(text, f, width):
            left, top, right, bottom = f.getbbox(content, anchor="ls")
            above = max(ascent, -top)  # tall stacked marks (Ặ, Ẫ) may rise above the font's ascent
            below = max(descent, bottom)
            w = int(round(text_width(content, f)))
            x = MARGIN + (CONTENT - w) // 2 if align == "center" else MARGIN
            baseline = self.y + above
            box = (x + min(0, left), self.y, x + max(w, right), baseline + below)
            line = Line(content, size, weight, x, baseline, box, inverted)
            self.items.append(line)
            out.append(line)
            self.y = baseline + below + spacing
        return out

    def band(self, text: str, size: int, weight: int = BOLD, pad: int = 8) -> None:
        """White text on a full-width black band."""
        start = self.y
        self.y += pad
        index = len(self.items)
        self.text(text, size, weight, inverted=True, spacing=2)
        bottom = self.y - 2 + pad
        self.items.insert(index, Band((MARGIN, start, WIDTH - MARGIN, bottom)))
        self.y = bottom

    def rule(self, thickness: int = 2, before: int = 6, after: int = 8) -> None:
        self.y += before
        self.items.append(Rule(self.y, thickness))
        self.y += thickness + after

    def qr(self, url: str) -> None:
        matrix = qr_matrix(url)
        modules = len(matrix)
        module = max(3, QR_TARGET // modules)
        side = module * modules
        self.y += 4 * module  # the quiet zone the QR standard asks for, above (white paper is the rest)
        item = QR(url, (WIDTH - side) // 2, self.y, module, modules)
        self.items.append(item)
        self.y += side + 4 * module


@functools.lru_cache(maxsize=32)
def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code's modules (True = dark), error correction M (15 % of the code may be smudged)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(url)
    qr.make(fit=True)
    return tuple(tuple(row) for row in qr.get_matrix())


def local_time(ms: int, tz: str) -> tuple[str, str]:
    """(HH:MM, DD/MM/YYYY) of a Unix-ms instant in the centre's time zone."""
    t = datetime.fromtimestamp(ms / 1000, ZoneInfo(tz))
    return t.strftime("%H:%M"), t.strftime("%d/%m/%Y")


def layout(slip: SlipData) -> Layout:
    """Position every line and box of the slip, top to bottom. Pure: the same data gives the same layout."""
    labels = LABELS["en" if slip.lang == "en" else "vi"]
    b = _Builder()
    if slip.reprint:
        b.band(labels["reprint"], 34)
        b.gap(10)
    b.text(slip.centre, 26, BOLD, spacing=2)
    if slip.address:
        b.text(slip.address, 20, REGULAR, spacing=2)
    b.rule()
    b.text(slip.department, 26, SEMIBOLD, spacing=2)
    b.gap(2)
    b.text(slip.service, 30, BOLD, spacing=2)
    b.rule(before=4, after=12)
    b.text(labels["number"], 24, SEMIBOLD, spacing=16)
    code = nfc(slip.code)
    size = fit_size(code, BOLD)
    b.text(code, size, BOLD, spacing=20, tight=True)
    if slip.priority:
        b.band(f"{labels['priority']}: {slip.priority_label}" if slip.priority_label else labels["priority"], 30)
        b.gap(10)
    if slip.booked_slot:
        b.text(labels["booked"].format(slot=slip.booked_slot), 28, BOLD, spacing=10)
    if slip.waiting_ahead is not None:
        b.text(labels["ahead"].format(n=slip.waiting_ahead), 26, SEMIBOLD)
    if slip.wait_text:
        b.text(slip.wait_text, 22)
    elif slip.estimated_wait_minutes is not None and slip.estimated_wait_minutes > 0:
        b.text(labels["wait"].format(m=slip.estimated_wait_minutes), 22)
    time, date = local_time(slip.issued_ms, slip.timezone)
    b.text(labels["issued"].format(time=time, date=date), 22)
    if slip.reprint and slip.printed_ms is not None:
        time, date = local_time(slip.printed_ms, slip.timezone)
        b.text(labels["reprinted"].format(time=time, date=date), 20, SEMIBOLD)
    b.qr(slip.status_url)
    b.text(labels["qr"], 20)
    b.rule(before=4, after=8)
    b.text(slip.footer, 22, SEMIBOLD, spacing=2)
    b.gap(MARGIN)
    return Layout(WIDTH, b.y, b.items)


# ------------------------------------------------------------------ drawing
def draw(lay: Layout) -> Image.Image:
    """The layout as a 1-bit image (white paper, black dots)."""
    img = Image.new("L", (lay.width, lay.height), 255)
    d = ImageDraw.Draw(img)
    for item in lay.items:
        if isinstance(item, Band):
            d.rectangle(item.box, fill=0)
        elif isinstance(item, Rule):
            d.rectangle((item.x0, item.y, item.x1 - 1, item.y + item.thickness - 1), fill=0)
        elif isinstance(item, Line):
            d.text((item.x, item.baseline), item.text, font=font(item.size, item.weight), anchor="ls",
                   fill=255 if item.inverted else 0)
        elif isinstance(item, QR):
            matrix = qr_matrix(item.url)
            for r, row in enumerate(matrix):
                for c, dark in enumerate(row):
                    if dark:
                        x, y = item.x + c * item.module, item.y + r * item.module
                        d.rectangle((x, y, x + item.module - 1, y + item.module - 1), fill=0)
    return img.point(lambda v: 255 if v >= THRESHOLD else 0).convert("1", dither=Image.Dither.NONE)


def render(slip: SlipData) -> Image.Image:
    """The slip as a 576-dot-wide 1-bit image."""
    return draw(layout(slip))
