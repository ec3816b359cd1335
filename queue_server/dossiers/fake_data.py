"""The demo's dossiers, one in every state, as a one-stop system holds them: the applicant's full name, phone
and ID number included, so the tests can show that none of them reaches a screen."""
from __future__ import annotations

# (code, status, procedure, received, appointment, where to collect, applicant, phone, ID number)
DOSSIERS = [
    ("000.00.12.H59-261120-0001", "received", "Đăng ký khai sinh", "2026-11-20", "2026-11-27",
     "Quầy 12 — Sở Tư pháp", "Nguyễn Văn An", "0912345678", "001090012345"),
    ("000.00.12.H59-261118-0002", "processing", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "2026-11-18", "2026-12-02",
     "Quầy 21 — Sở Xây dựng", "Trần Thị Bích Ngọc", "0987654321", "001190054321"),
    ("000.00.12.H59-261115-0003", "ready", "Cấp Phiếu lý lịch tư pháp số 1", "2026-11-15", "2026-11-25",
     "Quầy 5 — Trả kết quả", "Lê Hoàng Minh", "0901122334", "079085011223"),
    ("000.00.12.H59-261112-0004", "supplement", "Đăng ký biến động đất đai", "2026-11-12", "2026-11-26",
     "Quầy 7 — Sở Nông nghiệp và Môi trường", "Phạm Thu Hà", "0933445566", "036188044556"),
    ("000.00.12.H59-261101-0005", "returned", "Cấp đổi giấy phép lái xe", "2026-11-01", "2026-11-08",
     "Quầy 2 — Công an tỉnh", "Đỗ Quang Vinh", "0977889900", "001092077889"),
    ("000.00.12.H59-261110-0006", "rejected", "Đăng ký thành lập hộ kinh doanh", "2026-11-10", "2026-11-13",
     "Quầy 15 — Sở Tài chính", "Vũ Thị Lan", "0966554433", "034195066554"),
]

# Two vendors' words for our statuses: shape A (numeric codes) and shape B (upper-case words).
STATUS_A = {"received": "1", "processing": "2", "supplement": "3", "ready": "4", "returned": "5", "rejected": "6"}
STATUS_B = {"received": "DA_TIEP_NHAN", "processing": "DANG_XU_LY", "supplement": "YEU_CAU_BO_SUNG",
            "ready": "CHO_TRA_KET_QUA", "returned": "DA_TRA_KET_QUA", "rejected": "TU_CHOI"}


def by_code(code: str) -> tuple | None:
    return next((d for d in DOSSIERS if d[0] == code), None)


def dd_mm_yyyy(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def shape_a(d: tuple) -> dict:
    """One vendor's answer: an object under `data`, Vietnamese keys, numeric status codes, ISO times."""
    code, status, procedure, received, appointment, collect_at, name, phone, idno = d
    return {"success": True, "data": {
        "maHoSo": code, "trangThai": {"ma": STATUS_A[status], "ten": status},
        "thuTuc": {"ten": procedure, "ma": "1.001193"},
        "ngayTiepNhan": f"{received}T08:30:00+07:00", "ngayHenTra": f"{appointment}T16:00:00+07:00",
        "noiTraKetQua": collect_at,
        "chuHoSo": {"hoTen": name, "soDienThoai": phone, "soGiayTo": idno}}}


def shape_b(d: tuple) -> dict:
    """Another vendor's answer: a list under `result`, English keys, status words, dd/mm/yyyy dates."""
    code, status, procedure, received, appointment, collect_at, name, phone, idno = d
    return {"status": "OK", "result": [{
        "code": code, "state": STATUS_B[status], "procedureName": procedure,
        "dates": {"received": dd_mm_yyyy(received), "due": dd_mm_yyyy(appointment)},
        "pickup": {"place": collect_at}, "owner": {"fullName": name, "mobile": phone, "citizenId": idno}}]}


# The mappings that read each shape (docs/integrations.md shows them as config.yaml).
FIELDS_A = {"code": "data.maHoSo", "status": "data.trangThai.ma", "procedure": "data.thuTuc.ten",
            "received": "data.ngayTiepNhan", "appointment": "data.ngayHenTra", "collect_at": "data.noiTraKetQua",
            "applicant": "data.chuHoSo.hoTen"}
FIELDS_B = {"code": "result.0.code", "status": "result.0.state", "procedure": "result.0.procedureName",
            "received": "result.0.dates.received", "appointment": "result.0.dates.due",
            "collect_at": "result.0.pickup.place", "applicant": "result.0.owner.fullName"}
VALUES_A = {v: k for k, v in STATUS_A.items()}
VALUES_B = {v: k for k, v in STATUS_B.items()}
