"""The slip layout: golden images, wrapping that never cuts, every Vietnamese diacritic, the QR code's content.

Golden images live in tests/golden/. After an intended change of the layout, regenerate them with
    QMS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_slip.py
and look at the new PNGs before committing them. A mismatch writes the slip it got to test-artifacts/.
"""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from ticket_printer.shared import slip as S
from ticket_printer.shared.slip import CONTENT, WIDTH, Band, Line, QR, Rule, SlipData, layout, render

GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
UPDATE = os.environ.get("QMS_UPDATE_GOLDEN") == "1"
TOLERANCE = 0.001  # share of pixels allowed to differ (a FreeType update may move a few edge pixels)

NINE_AM = 1795572000000  # 2026-11-25 02:00 UTC = 09:00 in Hà Nội
BASE = dict(centre="Trung tâm Phục vụ Hành chính công tỉnh Bình Minh", department="Công an tỉnh",
            service="Cấp căn cước", code="1001", issued_ms=NINE_AM,
            status_url="http://127.0.0.1:5000/t/q7Xv2LmN9pRtYw4Z", footer="Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!",
            waiting_ahead=3, estimated_wait_minutes=15)

SLIPS = {
    "short_vi": SlipData(**{**BASE, "centre": "TTHCC Bình Minh", "department": "Tư pháp", "service": "Chứng thực",
                            "waiting_ahead": 0, "estimated_wait_minutes": 0}),
    "long_vi": SlipData(**{**BASE, "address": "Số 1 đường Trần Hưng Đạo, phường Hoàn Kiếm, thành phố Hà Nội",
                           "department": "Sở Nông nghiệp và Môi trường (đất đai, tài nguyên nước, khoáng sản, môi trường)",
                           "service": "Đăng ký biến động quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn "
                                      "liền với đất; cấp đổi, cấp lại Giấy chứng nhận",
                           "code": "A-1234", "waiting_ahead": 128, "estimated_wait_minutes": 240}),
    "priority_vi": SlipData(**{**BASE, "priority": True, "priority_label": "Người cao tuổi, người khuyết tật"}),
    "english": SlipData(**{**BASE, "lang": "en", "centre": "Binh Minh Public Administrative Service Centre",
                           "department": "Provincial Police", "service": "Citizen ID card",
                           "footer": "Please keep this ticket and wait for your number. Thank you!"}),
    "reprint_vi": SlipData(**{**BASE, "reprint": True, "printed_ms": NINE_AM + 7 * 60_000}),
    "reprint_priority_en": SlipData(**{**BASE, "lang": "en", "reprint": True, "printed_ms": NINE_AM + 60_000,
                                       "priority": True, "service": "Criminal record certificate",
                                       "footer": "Please keep this ticket."}),
}


def differing_share(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    changed = sum(diff.histogram()[1:])  # pixels whose difference is not 0
    return changed / (a.width * a.height)


@pytest.mark.parametrize("name", sorted(SLIPS))
def test_golden_slip(name):
    img = render(SLIPS[name])
    assert img.mode == "1" and img.width == WIDTH == 576
    path = GOLDEN / f"{name}.png"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        img.save(path, optimize=True)
    assert path.exists(), f"no golden image {path}: run with QMS_UPDATE_GOLDEN=1 and review it"
    with Image.open(path) as golden:
        golden.load()
    if golden.size != img.size or differing_share(golden, img) > TOLERANCE:
        ARTIFACTS.mkdir(exist_ok=True)
        img.save(ARTIFACTS / f"slip-{name}.png")
        assert golden.size == img.size, f"{name}: size {img.size}, golden {golden.size} (got: test-artifacts/slip-{name}.png)"
        pytest.fail(f"{name}: {differing_share(golden, img):.4%} of pixels differ (got: test-artifacts/slip-{name}.png)")


@pytest.mark.parametrize("name", sorted(SLIPS))
def test_layout_fits_the_paper_and_nothing_overlaps(name):
    lay = layout(SLIPS[name])
    assert lay.width == 576
    texts = [i for i in lay.items if isinstance(i, Line)]
    for line in texts:
        x0, top, x1, bottom = line.box
        assert 0 <= x0 and x1 <= WIDTH and 0 <= top < bottom <= lay.height, line
        assert S.text_width(line.text, S.font(line.size, line.weight)) <= CONTENT, line
    tops = sorted((i.box[1], i.box[3]) for i in texts)
    for (t1, b1), (t2, b2) in zip(tops, tops[1:]):
        assert b1 <= t2, f"lines overlap: {b1} > {t2}"
    qr = [i for i in lay.items if isinstance(i, QR)]
    assert len(qr) == 1 and qr[0].box[2] <= WIDTH and qr[0].box[3] <= lay.height
    for line in texts:  # the QR code is clear of text, with its quiet zone
        assert line.box[3] <= qr[0].box[1] - 4 * qr[0].module or line.box[1] >= qr[0].box[3] + 4 * qr[0].module


def words_of(lay, size=None) -> list[str]:
    return [w for line in lay.lines() if size is None or line.size == size for w in line.text.split()]


@pytest.mark.parametrize("field", ["centre", "department", "service", "footer", "address"])
def test_long_names_are_wrapped_never_cut(field):
    data = SLIPS["long_vi"]
    text = getattr(data, field)
    lay = layout(data)
    joined = " ".join(line.text for line in lay.lines())
    assert all(w in joined.split() for w in text.split()), f"a word of {field} is missing"
    # the long service name takes several lines, each within the paper
    if field == "service":
        service_lines = [line for line in lay.lines() if line.size == 30 and not line.inverted]
        assert len(service_lines) >= 3
        assert " ".join(line.text for line in service_lines) == text


@pytest.mark.parametrize("text,width", [
    ("Đăng ký khai sinh", 100),
    ("Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam", 300),
    ("Supercalifragilisticexpialidocious-Đặng-Nguyễn-Trường-Thịnh-Hưng", 200),  # one word wider than the paper
    ("a", 10),
    ("", 300),
])
def test_wrap_keeps_every_character(text, width):
    f = S.font(26, S.REGULAR)
    lines = S.wrap(text, f, width)
    assert all(S.text_width(line, f) <= width or len(line) == 1 for line in lines)
    assert "".join("".join(line.split()) for line in lines) == "".join(text.split())


VIETNAMESE = "aăâeêioôơuưy"
TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng


def vietnamese_letters() -> list[str]:
    out = []
    for base in VIETNAMESE + VIETNAMESE.upper():
        out.append(base)
        out += [unicodedata.normalize("NFC", base + t) for t in TONES]
    return out + ["đ", "Đ"]


@pytest.mark.parametrize("weight", [S.REGULAR, S.SEMIBOLD, S.BOLD])
def test_every_vietnamese_letter_has_its_own_glyph(weight):
    f = S.font(40, weight)
    notdef = bytes(f.getmask("\ue000"))  # a private-use code point: the font's "missing glyph" box
    letters = vietnamese_letters()
    assert len(letters) == 12 * 2 * 6 + 2 and all(len(ch) == 1 for ch in letters)
    masks = {ch: bytes(f.getmask(ch)) for ch in letters}
    missing = [ch for ch, m in masks.items() if m == notdef or not any(m)]
    assert not missing, f"no glyph for {missing}"
    for base in VIETNAMESE + VIETNAMESE.upper():  # every tone mark changes the drawing
        forms = [base] + [unicodedata.normalize("NFC", base + t) for t in TONES]
        assert len({masks[c] for c in forms}) == 6, base


def test_decomposed_text_draws_like_precomposed():
    nfd = unicodedata.normalize("NFD", "Đăng ký thường trú, tạm trú; cấp đổi căn cước")
    a = render(SlipData(**{**BASE, "service": nfd}))
    b = render(SlipData(**{**BASE, "service": unicodedata.normalize("NFC", nfd)}))
    assert a.tobytes() == b.tobytes()


def test_font_comes_from_the_package_not_the_system():
    path = Path(S.font_path())
    assert path.exists() and "fontpkg_noto_sans" in path.parts


def labels(data: SlipData) -> list[str]:
    return [line.text for line in layout(data).lines()]


def test_time_is_the_centres_local_time():
    texts = labels(SLIPS["short_vi"])
    assert "Lấy số lúc 09:00 ngày 25/11/2026" in texts
    utc = SlipData(**{**BASE, "timezone": "UTC"})
    assert "Lấy số lúc 02:00 ngày 25/11/2026" in labels(utc)


def test_english_variant_has_english_labels():
    texts = labels(SLIPS["english"])
    assert "YOUR NUMBER" in texts and "People waiting ahead of you: 3" in texts
    assert "Issued at 09:00 on 25/11/2026" in texts and "Estimated wait: about 15 min" in texts
    assert not any("Số người" in t or "SỐ THỨ TỰ" in t for t in texts)


def test_priority_and_reprint_are_marked_on_black_bands():
    lay = layout(SLIPS["reprint_priority_en"])
    inverted = [line.text for line in lay.lines() if line.inverted]
    assert inverted == ["REPRINT", "PRIORITY"]
    assert len([i for i in lay.items if isinstance(i, Band)]) == 2
    assert "Reprinted at 09:01 on 25/11/2026" in [line.text for line in lay.lines()]
    vi = layout(SLIPS["priority_vi"])
    assert " ".join(line.text for line in vi.lines() if line.inverted) == "ƯU TIÊN: Người cao tuổi, người khuyết tật"
    assert [line.text for line in layout(SLIPS["reprint_vi"]).lines() if line.inverted] == ["IN LẠI"]
    assert not [line for line in layout(SLIPS["short_vi"]).lines() if line.inverted]


def test_rules_and_number_present():
    lay = layout(SLIPS["short_vi"])
    assert sum(isinstance(i, Rule) for i in lay.items) == 3
    number = max(lay.lines(), key=lambda line: line.size)
    assert number.text == "1001" and number.size == S.NUMBER_MAX_SIZE


@pytest.mark.parametrize("code", ["1", "1001", "A-0007", "PASSPORT-12345", "ĐĐĐĐĐĐĐĐĐĐĐĐ"])
def test_large_number_shrinks_to_fit(code):
    lay = layout(SlipData(**{**BASE, "code": code}))
    number = [line for line in lay.lines() if line.size >= S.NUMBER_MIN_SIZE and line.weight == S.BOLD and code in line.text]
    assert "".join(line.text for line in number) == code
    assert all(line.box[2] <= WIDTH - S.MARGIN + 2 for line in number)


def test_qr_code_in_the_image_is_the_status_url():
    data = SLIPS["long_vi"]
    lay = layout(data)
    qr = next(i for i in lay.items if isinstance(i, QR))
    assert qr.url == data.status_url and "/t/" in qr.url
    img = render(data)
    matrix = S.qr_matrix(data.status_url)
    half = qr.module // 2
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            pixel = img.getpixel((qr.x + c * qr.module + half, qr.y + r * qr.module + half))
            assert (pixel == 0) == dark, (r, c)


def test_slip_data_round_trips_as_a_dict():
    data = SLIPS["reprint_priority_en"]
    assert SlipData.from_dict(data.to_dict()) == data
    with pytest.raises(ValueError, match="unknown slip fields"):
        SlipData.from_dict({**data.to_dict(), "colour": "red"})
