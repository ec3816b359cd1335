"""The citizen identity card (căn cước công dân, CCCD): checking a 12-digit number's structure and reading the
QR code printed on a chip card. Pure: no I/O; `today` is always passed in.

A number is PPP G YY NNNNNN: PPP the province of birth registration (`PROVINCES`), G the gender and century
(0/1: 1900s, 2/3: 2000s, 4/5: 2100s, 6/7: 2200s, 8/9: 2300s; even male, odd female), YY the last two digits of
the year of birth, NNNNNN a serial. The chip card's QR text is pipe-separated: number | old 9-digit ID | full
name | date of birth ddmmyyyy | gender | address | issue date ddmmyyyy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from queue_server.core.errors import DomainError

PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu", "079": "TP Hồ Chí Minh",
    "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
    "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}
PROVINCE_CODES: frozenset[str] = frozenset(PROVINCES)

MAX_AGE_YEARS = 130  # a year of birth further back than this is not a living person's
QR_MAX_CHARS = 1000  # longer text is not a card's QR code
_DIGITS = re.compile(r"[0-9]+")
_DATE = re.compile(r"[0-9]{8}")


@dataclass(frozen=True)
class CardNumber:
    number: str  # the 12 digits
    province: str  # the three-digit province code
    female: bool
    birth_year: int


@dataclass(frozen=True)
class CardScan:
    number: str
    old_id: str | None
    name: str | None
    birth_date: date | None
    gender: str | None
    address: str | None
    issued: date | None


def check_cccd(number: str, today: date) -> CardNumber:
    """The number's parts, or DomainError("cccd_invalid", reason=format | province | birth_year)."""
    digits = number.replace(" ", "").strip() if isinstance(number, str) else ""
    if len(digits) != 12 or not _DIGITS.fullmatch(digits):
        raise DomainError("cccd_invalid", reason="format")
    province = digits[:3]
    if province not in PROVINCE_CODES:
        raise DomainError("cccd_invalid", reason="province")
    code = int(digits[3])
    birth_year = 1900 + 100 * (code // 2) + int(digits[4:6])
    if birth_year > today.year or birth_year < today.year - MAX_AGE_YEARS:
        raise DomainError("cccd_invalid", reason="birth_year")
    return CardNumber(number=digits, province=province, female=code % 2 == 1, birth_year=birth_year)


def parse_card_qr(text: str, today: date) -> CardScan:
    """The fields of a chip card's QR text, read tolerantly: surrounding whitespace, empty or missing trailing
    fields, an empty old ID and a date that does not parse (or a birth date that disagrees with the number's year
    of birth, or lies after `today`) become None. The number must pass `check_cccd`, else
    DomainError("cccd_qr_unreadable")."""
    if not isinstance(text, str) or len(text) > QR_MAX_CHARS:
        raise DomainError("cccd_qr_unreadable")
    fields = [f.strip() for f in text.strip().split("|")]
    fields += [""] * (7 - len(fields))
    try:
        card = check_cccd(fields[0], today)
    except DomainError:
        raise DomainError("cccd_qr_unreadable") from None
    birth = _ddmmyyyy(fields[3])
    if birth is not None and (birth.year != card.birth_year or birth > today):
        birth = None
    return CardScan(number=card.number, old_id=fields[1] if _DIGITS.fullmatch(fields[1]) else None,
                    name=fields[2] or None, birth_date=birth, gender=fields[4] or None, address=fields[5] or None,
                    issued=_ddmmyyyy(fields[6]))


def age_on(birth: date, day: date) -> int:
    """Full years from `birth` to `day` (someone born on 29 February is a year older on 1 March of other years)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _ddmmyyyy(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None
