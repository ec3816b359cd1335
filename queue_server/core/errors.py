"""Domain errors: one code each, with a readable message in Vietnamese and English."""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str, int]] = {
    # code: (Vietnamese, English, HTTP status)
    "service_unknown": ("Không có dịch vụ {service}.", "There is no service {service}.", 404),
    "service_closed": ("Dịch vụ {service} đang đóng ({reason}).", "Service {service} is closed ({reason}).", 409),
    "service_full": ("Dịch vụ {service} đã hết số trong ngày ({cap} số).", "Service {service} has reached its daily cap of {cap} tickets.", 409),
    "range_exhausted": ("Đã hết dãy số {range} hôm nay.", "Number range {range} is used up for today.", 409),
    "priority_group_unknown": ("Không có nhóm ưu tiên {group}.", "There is no priority group {group}.", 400),
    "ticket_unknown": ("Không tìm thấy số {ticket}.", "Ticket {ticket} was not found.", 404),
    "counter_unknown": ("Không có quầy {counter}.", "There is no counter {counter}.", 404),
    "counter_not_open": ("Quầy {counter} chưa mở ({state}).", "Counter {counter} is not open (it is {state}).", 409),
    "counter_busy": ("Quầy {counter} còn số {code} chưa xong.", "Counter {counter} still has ticket {code} open.", 409),
    "nothing_waiting": ("Không còn ai chờ ở quầy {counter}.", "Nobody is waiting for counter {counter}.", 404),
    "not_waiting": ("Số {code} không ở trạng thái chờ ({status}).", "Ticket {code} is not waiting (it is {status}).", 409),
    "not_for_counter": ("Số {code} không thuộc dịch vụ của quầy {counter}.", "Ticket {code} is not for a service of counter {counter}.", 409),
    "not_called_here": ("Số {code} chưa được gọi tại quầy {counter}.", "Ticket {code} has not been called at counter {counter}.", 409),
    "not_at_counter": ("Số {code} không đang ở quầy {counter}.", "Ticket {code} is not at counter {counter}.", 409),
    "wrong_counter": ("Số {code} thuộc quầy khác, không phải quầy {counter}.", "Ticket {code} belongs to another counter, not counter {counter}.", 409),
    "not_parked": ("Số {code} không đang tạm giữ.", "Ticket {code} is not parked.", 409),
    "transfer_to_self": ("Không thể chuyển về chính quầy {counter}.", "Cannot transfer to the same counter {counter}.", 409),
    "transfer_to_self_service": ("Số đã ở dịch vụ {service}.", "The ticket is already in service {service}.", 409),
    "transfer_needs_target": ("Cần chọn dịch vụ hoặc quầy để chuyển.", "Choose a service or a counter to transfer to.", 400),
    "unauthenticated": ("Cần đăng nhập hoặc mã thiết bị hợp lệ.", "Sign in or send a valid device token.", 401),
    "invalid_credentials": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password.", 401),
    "login_locked": ("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {retry_after} giây.", "Too many failed sign-ins. Try again in {retry_after} seconds.", 429),
    "forbidden": ("Không có quyền: {reason}.", "Not allowed: {reason}.", 403),
    "not_signed_in": ("Chưa đăng nhập vào quầy {counter}.", "You are not signed in at counter {counter}.", 403),
    "counter_taken": ("Quầy {counter} đang do {staff} phụ trách.", "Counter {counter} is signed in by {staff}.", 409),
    "bad_request": ("Yêu cầu không hợp lệ: {detail}.", "Bad request: {detail}.", 400),
    "not_found": ("Không có địa chỉ này.", "There is no such address.", 404),
    "method_not_allowed": ("Phương thức không được hỗ trợ.", "Method not allowed.", 405),
    "display_unknown": ("Không có màn hình {display}.", "There is no display {display}.", 404),
    "device_unknown": ("Không có thiết bị {kind} {device}.", "There is no device {kind} {device}.", 404),
    "kiosk_unknown": ("Không có máy lấy số {kiosk}.", "There is no kiosk {kiosk}.", 404),
    "clip_pack_unknown": ("Không có bộ âm thanh gọi số {pack}.", "There is no clip pack {pack}.", 404),
    "clip_unknown": ("Bộ âm thanh {pack} không có đoạn {clip}.", "Clip pack {pack} has no clip {clip}.", 404),
    "code_ambiguous": ("Có nhiều số {code} hôm nay, hãy chọn theo dịch vụ.", "Several tickets are numbered {code} today; name the service.", 409),
    # slips and printers (ticket_printer/)
    "no_printer": ("Máy lấy số {kiosk} không có máy in.", "Kiosk {kiosk} has no printer.", 409),
    "reprint_not_allowed": ("Không thể in lại số {code}: {reason}.", "Ticket {code} cannot be reprinted: {reason}.", 409),
    "print_job_unknown": ("Không có lệnh in {job}.", "There is no print job {job}.", 404),
    # satisfaction ratings (feedback_buttons/)
    "keypad_unknown": ("Không có bàn phím đánh giá {keypad}.", "There is no satisfaction keypad {keypad}.", 404),
    "rating_button_unknown": ("Nút {button} không gắn với mức đánh giá nào.", "Button {button} is not mapped to a rating level.", 400),
    "rating_level_unknown": ("Mức {level} không có trong thang đánh giá.", "Level {level} is not a level of the rating scale.", 400),
    "nothing_to_rate": ("Quầy {counter} không có lượt phục vụ nào đang chờ đánh giá.", "Counter {counter} has no service waiting for a rating.", 409),
    "too_many_presses": ("Số {code} đã được bấm đánh giá quá nhiều lần.", "Ticket {code} has been rated too many times.", 409),
    "rating_unknown": ("Không tìm thấy đánh giá {rating}.", "Rating {rating} was not found.", 404),
    "too_many_ratings": ("Có quá nhiều lượt đánh giá từ thiết bị này. Vui lòng thử lại sau {retry_after} giây.", "Too many ratings from this device. Try again in {retry_after} seconds.", 429),
    "rating_reason_refused": ("Không thể ghi lý do: {reason}.", "The reason cannot be recorded: {reason}.", 409),
    # administration (queue_server/admin.py)
    "staff_unknown": ("Không có tài khoản {username}.", "There is no account {username}.", 404),
    "staff_exists": ("Tài khoản {username} đã có.", "Account {username} exists already.", 409),
    "account_invalid": ("Tài khoản không hợp lệ: {detail}.", "Invalid account: {detail}.", 400),
    "last_admin": ("Không thể khóa hoặc hạ quyền quản trị viên đang hoạt động cuối cùng.", "The last active admin cannot be disabled or demoted.", 409),
    "device_token_unknown": ("Không có mã thiết bị {token}.", "There is no device token {token}.", 404),
    "config_invalid": ("Tệp cấu hình có lỗi, hệ thống vẫn giữ cấu hình đang chạy:\n{detail}", "The config file has problems; the running config is kept:\n{detail}", 422),
    # dossier look-up (queue_server/dossiers/)
    "dossier_lookup_off": ("Máy chưa được cài đặt tra cứu hồ sơ.", "Dossier look-up is not set up.", 404),
    "dossier_unknown": ("Không tìm thấy hồ sơ {code}. Vui lòng kiểm tra mã trên phiếu hẹn.", "Dossier {code} was not found. Please check the code on your receipt.", 404),
    "too_many_lookups": ("Tra cứu quá nhiều lần. Vui lòng thử lại sau {retry_after} giây.", "Too many look-ups. Try again in {retry_after} seconds.", 429),
    "dossier_source_down": ("Hệ thống tra cứu hồ sơ đang không trả lời ({reason}). Vui lòng thử lại sau.", "The dossier system is not answering ({reason}). Please try again later.", 503),
    # online bookings (core/booking.py, docs/booking.md)
    "booking_off": ("Dịch vụ {service} không nhận đặt lịch trực tuyến.", "Service {service} does not take online bookings.", 404),
    "booking_day_closed": ("Ngày {date} không nhận đặt lịch.", "Bookings are not taken for {date}.", 409),
    "slot_unknown": ("Không có khung giờ {start} ngày {date}.", "There is no slot at {start} on {date}.", 404),
    "slot_full": ("Khung giờ {start} ngày {date} đã hết chỗ.", "The slot at {start} on {date} is full.", 409),
    "booking_limit": ("Đã đạt giới hạn đặt lịch ({reason}).", "The booking limit is reached ({reason}).", 409),
    "booking_blocked": ("Tạm thời không thể đặt lịch đến hết ngày {until} vì nhiều lần đặt mà không đến.", "Booking is suspended until {until} after repeated bookings that were not used.", 409),
    "phone_invalid": ("Số điện thoại di động không hợp lệ (10 chữ số, ví dụ 0912345678).", "The mobile number is not valid (10 digits, e.g. 0912345678).", 400),
    "booking_unknown": ("Không tìm thấy lịch hẹn.", "The booking was not found.", 404),
    "booking_state": ("Lịch hẹn không thể thực hiện thao tác này ({reason}).", "The booking cannot do this now (it is {reason}).", 409),
    "otp_wrong": ("Mã xác nhận không đúng. Còn {left} lần thử.", "The confirmation code is wrong. {left} tries left.", 400),
    "otp_expired": ("Mã xác nhận đã hết hạn. Vui lòng đặt lại.", "The confirmation code has expired. Please book again.", 410),
    "otp_attempts": ("Nhập sai mã quá nhiều lần. Vui lòng đặt lại.", "Too many wrong codes. Please book again.", 429),
    "otp_sends": ("Đã gửi mã xác nhận đủ số lần cho phép. Vui lòng đặt lại.", "No more codes can be sent for this booking. Please book again.", 429),
    "otp_resend_wait": ("Vui lòng chờ {retry_after} giây trước khi gửi lại mã.", "Wait {retry_after} seconds before asking for a new code.", 429),
    "outside_window": ("Ngoài giờ đến của lịch hẹn: từ {arrive_from} đến {arrive_until}.", "Outside the booking's arrival time: from {arrive_from} to {arrive_until}.", 409),
    "too_many_bookings": ("Quá nhiều yêu cầu đặt lịch. Vui lòng thử lại sau {retry_after} giây.", "Too many booking requests. Try again in {retry_after} seconds.", 429),
    # the citizen identity card (core/citizen_card.py)
    "cccd_invalid": ("Số căn cước công dân không hợp lệ ({reason}).", "The citizen ID number is not valid ({reason}).", 400),
    "cccd_qr_unreadable": ("Không đọc được mã QR trên thẻ căn cước. Vui lòng quét lại hoặc nhập số.", "The QR code of the citizen ID card could not be read. Please scan it again or type the number.", 400),
}


# Parameters that are one of the queue's own words (a counter's state, a ticket's status, why a service is
# closed): the message names them in its own language, never the code. Anything else is shown as it is.
PARAM_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "state": {"open": ("đang mở", "open"), "closed": ("đóng", "closed"), "break": ("tạm nghỉ", "on break")},
    "status": {"waiting": ("đang chờ", "waiting"), "called": ("đã gọi", "called"), "serving": ("đang phục vụ", "serving"),
               "parked": ("tạm giữ", "parked"), "done": ("đã xong", "done"), "no_show": ("vắng", "no-show"),
               "cancelled": ("đã hủy", "cancelled"), "unserved": ("chưa được phục vụ", "unserved")},
    "reason": {"closed_manually": ("đóng thủ công", "closed by hand"), "outside_hours": ("ngoài giờ nhận số", "outside hours"),
               "closed_today": ("nghỉ hôm nay", "closed today"), "full": ("đã hết số", "daily cap reached"),
               # why a dossier source did not answer (queue_server/dossiers/sources.py)
               "timeout": ("quá thời gian chờ", "timed out"), "unreachable": ("không kết nối được", "unreachable"),
               "source_error": ("máy chủ báo lỗi", "server error"), "bad_answer": ("trả lời không đọc được", "unreadable answer"),
               # why a citizen ID number is refused (core/citizen_card.py)
               "format": ("không phải 12 chữ số", "not 12 digits"), "province": ("mã tỉnh không đúng", "unknown province code"),
               "birth_year": ("năm sinh không hợp lệ", "impossible year of birth"),
               # which booking limit was reached, a booking's state (core/booking.py)
               "id_day": ("mỗi số căn cước trong một ngày", "per citizen ID and day"),
               "id_service_day": ("mỗi số căn cước cho một dịch vụ trong một ngày", "per citizen ID, service and day"),
               "phone_day": ("mỗi số điện thoại trong một ngày", "per phone number and day"),
               "phone_service_day": ("mỗi số điện thoại cho một dịch vụ trong một ngày", "per phone number, service and day"),
               "pending_otp": ("chưa xác nhận", "not confirmed"), "confirmed": ("đã xác nhận", "confirmed"),
               "checked_in": ("đã lấy số", "checked in"), "cancelled": ("đã hủy", "cancelled"),
               "no_show": ("không đến", "not used"), "expired": ("đã hết hạn", "expired")},
}


def localised(params: dict, lang: str) -> dict:
    """The parameters with each of the queue's own words in `lang`."""
    out = dict(params)
    for key, words in PARAM_WORDS.items():
        value = out.get(key)
        if isinstance(value, str) and value in words:
            out[key] = words[value][1 if lang == "en" else 0]
    return out


class DomainError(Exception):
    """An operation the queue rules refuse. Nothing was changed."""

    def __init__(self, error_code: str, /, **params):
        if error_code not in MESSAGES:
            raise KeyError(f"unknown domain error code {error_code!r}")
        self.code = error_code
        self.params = params
        super().__init__(self.message("en"))

    @property
    def http_status(self) -> int:
        return MESSAGES[self.code][2]

    def message(self, lang: str = "vi") -> str:
        vi, en, _ = MESSAGES[self.code]
        template = en if lang == "en" else vi
        try:
            return template.format(**localised(self.params, lang))
        except (KeyError, IndexError):
            return template

    def to_dict(self, lang: str = "vi") -> dict:
        return {"error": self.code, "message": self.message(lang), **{k: v for k, v in self.params.items()}}
