"""The administration page's words: roles, device kinds, and each audit-log event as a readable line (what
changed, and the details in a sentence, not codes or JSON), in Vietnamese or English.

`describe(event, config, lang, addresses)` adds `label` (the change), `detail` and `who` to an audit row of
`store.event_log.audit_log`; the codes stay in the row for scripts. A client address is logged as its hash
("ip:3fa9...", core/addresses.py): shown as the address while `addresses` (hash -> address, the ones still
kept, store/client_addresses.py) has it, else as the hash.
"""
from __future__ import annotations

ROLE_WORDS = {"admin": ("Quản trị viên", "Administrator"), "supervisor": ("Giám sát viên", "Supervisor"),
         "staff": ("Cán bộ tiếp nhận", "Counter officer")}
# Device kinds in words: the admin page's tokens and the supervisor's device list (web/supervision.py).
DEVICE_KINDS = {"kiosk": ("Máy lấy số", "Kiosk"), "printer": ("Máy in phiếu", "Ticket printer"),
                "display": ("Màn hình", "Display"), "led_board": ("Bảng LED", "LED board"),
                "keypad": ("Bàn phím đánh giá", "Rating keypad"), "agent": ("Máy trạm thiết bị", "Device agent"),
                "dispenser": ("Máy phát số", "Dispenser"),
                "message_queue": ("Liên kết giữa các máy chủ (Redis)", "Link between server processes (Redis)")}
EVENTS = {
    "admin.staff_created": ("Thêm tài khoản", "Account added"),
    "admin.staff_updated": ("Sửa tài khoản", "Account changed"),
    "admin.staff_disabled": ("Khóa tài khoản", "Account disabled"),
    "admin.staff_enabled": ("Mở khóa tài khoản", "Account enabled"),
    "admin.password_reset": ("Đặt lại mật khẩu", "Password reset"),
    "admin.device_token_created": ("Tạo mã thiết bị", "Device token made"),
    "admin.device_token_revoked": ("Thu hồi mã thiết bị", "Device token revoked"),
    "admin.notice_set": ("Thông báo trên màn hình", "Display notice"),
    "admin.config_reloaded": ("Nạp lại cấu hình", "Configuration reloaded"),
    "admin.config_refused": ("Cấu hình bị từ chối", "Configuration refused"),
    "service.updated": ("Đổi trạng thái dịch vụ", "Service changed"),
    "counter.services": ("Đổi dịch vụ của quầy", "Counter's services changed"),
    "service.broadcast": ("Thông báo cho người đang chờ", "Message to those waiting"),
    "admin.message_retried": ("Gửi lại tin nhắn", "Message sent again"),
    "login.locked": ("Khóa đăng nhập do sai mật khẩu", "Sign-in locked after failed attempts"),
}
MANUAL = {"open": ("mở thủ công", "opened by hand"), "closed": ("đóng thủ công", "closed by hand"),
          "auto": ("theo giờ làm việc", "by the opening hours")}


def word(table: dict, code, lang: str) -> str:
    """A code's word from one of the tables above; an unknown code as it is."""
    pair = table.get(code)
    return (pair[1] if lang == "en" else pair[0]) if pair else str(code)


def logged_addresses(event: dict) -> list[str]:
    """The client addresses' hashes an audit row names (its data's `address`, an actor `anonymous@ip:...`)."""
    found = [(event.get("data") or {}).get("address"), (event.get("actor") or "").rpartition("@")[2]]
    return [a for a in found if isinstance(a, str) and a.startswith("ip:")]


def _address(tag: str, addresses: dict[str, str]) -> str:
    return f"{addresses[tag]} ({tag})" if tag in addresses else tag


def describe(event: dict, config, lang: str = "vi", addresses: dict[str, str] | None = None) -> dict:
    en = lang == "en"
    addresses = addresses or {}
    data = event.get("data") or {}
    actor = event.get("actor") or ""
    who = actor.split(":", 1)[1] if actor.startswith("staff:") else actor
    by, _, tag = who.rpartition("@")
    if by and tag in addresses:
        who = f"{by}@{addresses[tag]}"
    if event["type"] == "login.locked":
        return {**event, "label": word(EVENTS, event["type"], lang), "detail": _lock(data, addresses, en), "who": who}
    return {**event, "label": word(EVENTS, event["type"], lang), "detail": _detail(event["type"], data, config, en),
            "who": who}


def _lock(d: dict, addresses: dict[str, str], en: bool) -> str:
    """A sign-in lock: the account or the client address, for how long, the how-many-th lock."""
    seconds = d.get("lock_seconds", 0)
    if d.get("by") == "address":
        what = ("address " if en else "địa chỉ ") + _address(str(d.get("address")), addresses)
    else:
        what = ("account " if en else "tài khoản ") + str(d.get("username"))
    return (f"{what}: {seconds} s (lock {d.get('locks', 1)})" if en
            else f"{what}: {seconds} giây (lần khóa thứ {d.get('locks', 1)})")


def _service(config, service_id: str, en: bool) -> str:
    svc = config.services().get(service_id)
    if svc is None:
        return str(service_id)
    return (svc[1].name_en or svc[1].name) if en else svc[1].name


def _counter(config, counter_id: str, en: bool) -> str:
    if counter_id in config.counter_ids():
        c = config.counter(counter_id)
        return (f"Counter {c.number}" if en else c.name or f"Quầy {c.number}")
    return ("Counter " if en else "Quầy ") + str(counter_id)


def _display(config, display_id: str, en: bool) -> str:
    if display_id == "*":
        return "every display" if en else "mọi màn hình"
    d = next((d for d in config.devices.displays if d.id == display_id), None)
    return (d.name or d.id) if d else str(display_id)


def _counters(ids, en: bool) -> str:
    if not ids:
        return "no counter" if en else "không quầy nào"
    return ("counters " if en else "quầy ") + ", ".join(str(i) for i in ids)


def _detail(etype: str, d: dict, config, en: bool) -> str:
    lang = "en" if en else "vi"
    user = d.get("username", "")
    if etype == "admin.staff_created":
        name = f" ({d['full_name']})" if d.get("full_name") else ""
        role = word(ROLE_WORDS, d.get("role"), lang)
        return f"{user}{name}: {role}, {_counters(d.get('counters'), en)}"
    if etype == "admin.staff_updated":
        parts = []
        if "full_name" in d:
            parts.append(("full name: " if en else "họ tên: ") + str(d["full_name"]))
        if "role" in d:
            parts.append(("role: " if en else "vai trò: ") + word(ROLE_WORDS, d["role"], lang))
        if "counters" in d:
            parts.append(_counters(d["counters"], en))
        if "active" in d:
            parts.append(("active" if en else "đang dùng") if d["active"] else ("disabled" if en else "đã khóa"))
        return f"{user}: " + "; ".join(parts) if parts else user
    if etype in ("admin.staff_disabled", "admin.staff_enabled", "admin.password_reset"):
        return user
    if etype == "admin.device_token_created":
        note = d.get("note")
        return (f"{word(DEVICE_KINDS, d.get('kind'), lang)} {d.get('device', '')}"
                + (f" ({'note' if en else 'ghi chú'}: {note})" if note else ""))
    if etype == "admin.device_token_revoked":
        return ("token " if en else "mã ") + f"{d.get('token_id', '')}…"
    if etype == "admin.notice_set":
        where = _display(config, d.get("display", ""), en)
        text = d.get("text_en") if en and d.get("text_en") else d.get("text")
        return f"{where}: “{text}”" if text else f"{where}: " + ("notice removed" if en else "bỏ thông báo")
    if etype == "admin.config_reloaded":
        return f"{d.get('path', '')} ({d.get('from', '')} → {d.get('to', '')})"
    if etype == "admin.config_refused":
        n = d.get("problems", 0)
        return f"{d.get('path', '')}: " + (f"{n} problem(s), the running configuration kept" if en
                                           else f"{n} lỗi, giữ cấu hình đang chạy")
    if etype == "service.updated":
        parts = [_service(config, d.get("service", ""), en)]
        if d.get("manual"):
            parts.append(word(MANUAL, d["manual"], lang))
        if "cap_override" in d:
            cap = d["cap_override"]
            parts.append(("no cap override" if en else "bỏ giới hạn riêng") if cap is None
                         else (f"daily cap {cap}" if en else f"giới hạn {cap} số/ngày"))
        return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]
    if etype == "counter.services":
        services = d.get("services")
        what = (", ".join(_service(config, s, en) for s in services) if services
                else ("as in config.yaml" if en else "theo config.yaml"))
        return f"{_counter(config, d.get('counter', ''), en)}: {what}"
    if etype == "service.broadcast":
        text = d.get("text_en") if en and d.get("text_en") else d.get("text")
        sent = f" ({d.get('messages', 0)} SMS/Zalo)"
        return (f"{_service(config, d.get('service', ''), en)}: “{text}”" + sent if text
                else f"{_service(config, d.get('service', ''), en)}: " + ("notice removed" if en else "bỏ thông báo"))
    return "; ".join(f"{k}: {v}" for k, v in d.items())
