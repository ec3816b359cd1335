"""The citizen identity card (core/citizen_card.py): a CCCD number's structure, the chip card's QR text, a full
age. Tables; `today` is always given, so nothing here depends on the day it runs."""
from __future__ import annotations

from datetime import date

import pytest

from queue_server.core.citizen_card import (PROVINCE_CODES, PROVINCES, CardNumber, CardScan, age_on, check_cccd,
                                            parse_card_qr)
from queue_server.core.errors import DomainError

TODAY = date(2026, 11, 25)


# ------------------------------------------------------------------ the number
@pytest.mark.parametrize("number, today, want", [
    ("001090012345", TODAY, CardNumber("001090012345", "001", False, 1990)),  # Hà Nội, man, 1990
    ("079301012345", TODAY, CardNumber("079301012345", "079", True, 2001)),  # TP HCM, woman, 2001
    ("096199000001", TODAY, CardNumber("096199000001", "096", True, 1999)),
    ("  001 090 012 345 ", TODAY, CardNumber("001090012345", "001", False, 1990)),  # spaces as typed
    ("001226000001", TODAY, CardNumber("001226000001", "001", False, 2026)),  # born this year
    ("001000000001", date(2030, 1, 1), CardNumber("001000000001", "001", False, 1900)),  # 130 years: still alive
    ("001400000001", date(2100, 6, 1), CardNumber("001400000001", "001", False, 2100)),
    ("001599000001", date(2199, 1, 1), CardNumber("001599000001", "001", True, 2199)),
    ("001612000001", date(2300, 1, 1), CardNumber("001612000001", "001", False, 2212)),
    ("001700000001", date(2200, 1, 1), CardNumber("001700000001", "001", True, 2200)),
    ("001899000001", date(2400, 1, 1), CardNumber("001899000001", "001", False, 2399)),
    ("001900000001", date(2300, 1, 1), CardNumber("001900000001", "001", True, 2300)),
])
def test_a_valid_number_and_its_parts(number, today, want):
    assert check_cccd(number, today) == want


@pytest.mark.parametrize("number, today, reason", [
    ("00109001234", TODAY, "format"),  # 11 digits
    ("0010900123456", TODAY, "format"),  # 13
    ("00109001234a", TODAY, "format"),
    ("001-090-012345", TODAY, "format"),
    ("001\t090012345", TODAY, "format"),  # only spaces are dropped
    ("", TODAY, "format"),
    ("   ", TODAY, "format"),
    ("００１０９００１２３４５", TODAY, "format"),  # full-width digits
    ("٠٠١٠٩٠٠١٢٣٤٥", TODAY, "format"),  # other scripts' digits
    (None, TODAY, "format"),
    (1090012345, TODAY, "format"),
    ("000090012345", TODAY, "province"),
    ("003090012345", TODAY, "province"),
    ("097090012345", TODAY, "province"),
    ("999090012345", TODAY, "province"),
    ("001227000001", TODAY, "birth_year"),  # 2027: after today
    ("001327000001", TODAY, "birth_year"),
    ("001400000001", TODAY, "birth_year"),  # 2100
    ("001900000001", TODAY, "birth_year"),  # 2300
    ("001000000001", date(2031, 1, 1), "birth_year"),  # 1900: more than 130 years before
    ("001090012345", date(1989, 12, 31), "birth_year"),
])
def test_an_invalid_number_says_why(number, today, reason):
    with pytest.raises(DomainError) as err:
        check_cccd(number, today)
    assert (err.value.code, err.value.params, err.value.http_status) == ("cccd_invalid", {"reason": reason}, 400)


def test_the_63_provinces_and_no_other_code():
    assert len(PROVINCE_CODES) == 63 and PROVINCES["001"] == "Hà Nội" and PROVINCES["079"] == "TP Hồ Chí Minh"
    assert PROVINCES["004"] == "Cao Bằng" and PROVINCES["096"] == "Cà Mau"
    for n in range(1000):
        code = f"{n:03d}"
        if code in PROVINCE_CODES:
            assert check_cccd(code + "090012345", TODAY).province == code
        else:
            with pytest.raises(DomainError):
                check_cccd(code + "090012345", TODAY)


def test_the_refusals_read_in_both_languages():
    err = DomainError("cccd_invalid", reason="province")
    assert err.message("vi") == "Số căn cước công dân không hợp lệ (mã tỉnh không đúng)."
    assert err.message("en") == "The citizen ID number is not valid (unknown province code)."
    assert "thẻ căn cước" in DomainError("cccd_qr_unreadable").message("vi")
    assert DomainError("cccd_qr_unreadable").http_status == 400


# ------------------------------------------------------------------ the chip card's QR text
FULL = "001090012345|123456789|Nguyễn Văn An|15031990|Nam|Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"


@pytest.mark.parametrize("text, want", [
    (FULL, CardScan("001090012345", "123456789", "Nguyễn Văn An", date(1990, 3, 15), "Nam",
                    "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội", date(2021, 7, 1))),
    ("  " + FULL + "\r\n", CardScan("001090012345", "123456789", "Nguyễn Văn An", date(1990, 3, 15), "Nam",
                                   "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội", date(2021, 7, 1))),
    ("079301012345||Trần Thị Bình|02022001|Nữ|Quận 1, TP Hồ Chí Minh|10102022",  # no old ID
     CardScan("079301012345", None, "Trần Thị Bình", date(2001, 2, 2), "Nữ", "Quận 1, TP Hồ Chí Minh",
              date(2022, 10, 10))),
    ("079301012345||Trần Thị Bình", CardScan("079301012345", None, "Trần Thị Bình", None, None, None, None)),
    ("079301012345|||||", CardScan("079301012345", None, None, None, None, None, None)),
    ("001090012345", CardScan("001090012345", None, None, None, None, None, None)),
    ("001090012345|123456789|An|31021990|Nam||", CardScan("001090012345", "123456789", "An", None, "Nam", None, None)),
    ("001090012345||An|1503199|Nam|X|1/7/2021", CardScan("001090012345", None, "An", None, "Nam", "X", None)),
    ("001090012345||An|abcdefgh|Nam|X|99999999", CardScan("001090012345", None, "An", None, "Nam", "X", None)),
    ("001090012345||An|15031991|Nam", CardScan("001090012345", None, "An", None, "Nam", None, None)),  # not 1990
    ("001226000001||Bé|01122026|Nam", CardScan("001226000001", None, "Bé", None, "Nam", None, None)),  # after today
    ("001090012345|12345x789|An", CardScan("001090012345", None, "An", None, None, None, None)),  # garbled old ID
    (FULL + "|extra|fields", CardScan("001090012345", "123456789", "Nguyễn Văn An", date(1990, 3, 15), "Nam",
                                      "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội", date(2021, 7, 1))),
    (" 001090012345 | 123456789 | An |15031990", CardScan("001090012345", "123456789", "An", date(1990, 3, 15),
                                                          None, None, None)),
])
def test_a_card_qr_is_read_tolerantly(text, want):
    assert parse_card_qr(text, TODAY) == want


@pytest.mark.parametrize("text", [
    "", "   \r\n", "abc|def", "|123456789|Nguyễn Văn An|15031990", "00109001234|123456789|An",
    "000090012345|123456789|An", "001227000001||An", "123456789|001090012345|An", None, 42,
    "001090012345|" + "x" * 2000, "001090012345\n123456789",
])
def test_an_unreadable_card_qr_is_refused(text):
    with pytest.raises(DomainError) as err:
        parse_card_qr(text, TODAY)
    assert err.value.code == "cccd_qr_unreadable" and err.value.http_status == 400


# ------------------------------------------------------------------ a full age
@pytest.mark.parametrize("birth, day, age", [
    (date(1990, 3, 15), date(2026, 3, 14), 35),
    (date(1990, 3, 15), date(2026, 3, 15), 36),
    (date(1966, 11, 25), date(2026, 11, 25), 60),
    (date(1966, 11, 26), date(2026, 11, 25), 59),
    (date(1966, 12, 1), date(2026, 11, 30), 59),
    (date(2000, 2, 29), date(2026, 2, 28), 25),
    (date(2000, 2, 29), date(2026, 3, 1), 26),
    (date(2000, 2, 29), date(2028, 2, 29), 28),
    (date(2026, 11, 25), date(2026, 11, 25), 0),
])
def test_age_in_full_years(birth, day, age):
    assert age_on(birth, day) == age
