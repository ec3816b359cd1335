/* The booking pages' words (Vietnamese first, English) and what both pages share: the language switch, the
 * form checks of a CCCD number and a mobile number made before anything is sent (the server checks again), a
 * day and a time in words, and every refusal of the booking API said in plain words. Everything hangs on
 * window.QMS.booking. */
(function () {
  "use strict";
  const Q = window.QMS;

  Q.words({
    title: "Đặt lịch hẹn trực tuyến", status_title: "Lịch hẹn của công dân",
    off: "Trung tâm hiện chưa nhận đặt lịch trực tuyến. Công dân vui lòng lấy số tại máy lấy số ở sảnh.",
    pick_dept: "1. Chọn cơ quan, lĩnh vực", pick_service: "2. Chọn dịch vụ", pick_day: "3. Chọn ngày",
    pick_slot: "4. Chọn giờ hẹn", identity: "5. Số CCCD và số điện thoại", otp_title: "6. Nhập mã xác nhận",
    no_services: "Cơ quan này chưa nhận đặt lịch trực tuyến.", no_slots: "Ngày này không còn giờ hẹn nào.",
    loading: "Đang tải…", today: "Hôm nay", left: "Còn {n} chỗ", full: "Hết chỗ",
    cccd_label: "Số căn cước công dân (CCCD, 12 chữ số)", phone_label: "Số điện thoại di động",
    privacy: "Số CCCD chỉ dùng để kiểm tra giới hạn đặt lịch và được lưu dưới dạng mã hóa; số điện thoại dùng để gửi mã xác nhận và nhắc lượt.",
    send_otp: "Gửi mã xác nhận", otp_label: "Mã xác nhận ({n} chữ số)", confirm: "Xác nhận đặt lịch",
    otp_sent: "Mã xác nhận đã được gửi bằng tin nhắn đến số {phone}. Mã có hiệu lực trong ít phút.",
    resend: "Chưa nhận được tin nhắn? Gửi lại mã", resent: "Đã gửi lại mã mới đến số {phone}.",
    resend_wait: "Vui lòng chờ {s} giây rồi gửi lại mã.",
    done_title: "Đặt lịch thành công", your_code: "Mã đặt lịch của công dân",
    f_dept: "Cơ quan", f_service: "Dịch vụ", f_day: "Ngày", f_time: "Giờ hẹn", f_arrive: "Đến trung tâm trong khoảng",
    f_state: "Trạng thái", f_code: "Mã đặt lịch",
    how: "Khi đến trung tâm, công dân quét mã QR này (hoặc nhập mã {code}, hoặc quét mã QR trên thẻ CCCD) tại máy lấy số để nhận số thứ tự. Vui lòng đến trong khoảng {from}–{until}.",
    see_status: "Xem hoặc hủy lịch hẹn", back: "← Quay lại", restart: "Đặt lịch khác",
    cccd_empty: "Vui lòng nhập số CCCD.", cccd_digits: "Số CCCD gồm đúng 12 chữ số.",
    cccd_province: "Ba chữ số đầu của số CCCD không phải mã tỉnh, thành phố. Vui lòng kiểm tra lại.",
    cccd_invalid: "Số CCCD không hợp lệ. Vui lòng kiểm tra lại.",
    phone_empty: "Vui lòng nhập số điện thoại di động.",
    phone_form: "Số điện thoại di động gồm 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09.",
    otp_form: "Mã xác nhận gồm {n} chữ số.",
    slot_full: "Giờ hẹn này vừa hết chỗ. Công dân vui lòng chọn giờ khác:",
    slot_full_none: "Giờ hẹn này vừa hết chỗ và ngày này không còn giờ trống. Vui lòng chọn ngày khác.",
    booking_limit: "Công dân đã đạt số lịch hẹn tối đa cho phép (mỗi ngày, hoặc mỗi dịch vụ trong ngày) với số CCCD hoặc số điện thoại này.",
    otp_attempts: "Nhập sai mã xác nhận quá số lần cho phép. Vui lòng đặt lịch lại từ đầu.",
    otp_expired: "Mã xác nhận đã hết hạn. Vui lòng đặt lịch lại để nhận mã mới.",
    otp_wrong: "Mã xác nhận chưa đúng. Vui lòng kiểm tra tin nhắn và nhập lại (còn {left} lần thử).",
    rate: "Có quá nhiều lượt thử. Vui lòng thử lại sau {s} giây.", rate_later: "Có quá nhiều lượt thử. Vui lòng thử lại sau ít phút.",
    blocked: "Số CCCD hoặc số điện thoại này tạm thời không được đặt lịch đến hết {until} vì đã nhiều lần không đến theo lịch hẹn.",
    booking_unknown: "Không tìm thấy lịch hẹn với mã này và số CCCD này.",
    network: "Không kết nối được với trung tâm. Vui lòng kiểm tra mạng và thử lại.",
    check: "Xem lịch hẹn", cancel: "Hủy lịch hẹn", cancel_sure: "Công dân chắc chắn muốn hủy lịch hẹn này?",
    cancelled_now: "Đã hủy lịch hẹn. Chỗ này được trả lại cho công dân khác.",
    status_hint: "Nhập số CCCD đã dùng khi đặt lịch để xem hoặc hủy lịch hẹn.",
    st_pending_otp: "Chưa xác nhận", st_confirmed: "Đã xác nhận — chờ công dân đến", st_checked_in: "Đã nhận số tại trung tâm",
    st_cancelled: "Đã hủy", st_no_show: "Không đến theo lịch hẹn", st_expired: "Đã hết hạn",
    book_link: "Đặt lịch hẹn mới",
  }, {
    title: "Book an appointment online", status_title: "Your appointment",
    off: "The centre does not take online bookings at the moment. Please take a ticket at the ticket machine in the hall.",
    pick_dept: "1. Choose the agency", pick_service: "2. Choose the service", pick_day: "3. Choose the day",
    pick_slot: "4. Choose the time", identity: "5. Citizen ID and mobile number", otp_title: "6. Enter the code",
    no_services: "This agency takes no online bookings yet.", no_slots: "No times are left on this day.",
    loading: "Loading…", today: "Today", left: "{n} left", full: "Full",
    cccd_label: "Citizen identity card number (CCCD, 12 digits)", phone_label: "Mobile number",
    privacy: "Your ID number is only used to check the booking limits and is stored as a keyed hash; your mobile number is used for the code and your turn's notices.",
    send_otp: "Send me a code", otp_label: "Code ({n} digits)", confirm: "Confirm the booking",
    otp_sent: "A code was sent by text message to {phone}. It is valid for a few minutes.",
    resend: "No text message? Send the code again", resent: "A new code was sent to {phone}.",
    resend_wait: "Please wait {s} seconds, then ask for a new code.",
    done_title: "Your appointment is booked", your_code: "Your booking code",
    f_dept: "Agency", f_service: "Service", f_day: "Day", f_time: "Time", f_arrive: "Arrive between",
    f_state: "Status", f_code: "Booking code",
    how: "At the centre, scan this QR code (or type the code {code}, or scan the QR code on your CCCD card) at the ticket machine to get your number. Please arrive between {from} and {until}.",
    see_status: "See or cancel this booking", back: "← Back", restart: "Book another",
    cccd_empty: "Please enter your CCCD number.", cccd_digits: "A CCCD number has exactly 12 digits.",
    cccd_province: "The first three digits of this CCCD number are not a province code. Please check it.",
    cccd_invalid: "This CCCD number is not valid. Please check it.",
    phone_empty: "Please enter your mobile number.",
    phone_form: "A mobile number has 10 digits and starts with 03, 05, 07, 08 or 09.",
    otp_form: "The code has {n} digits.",
    slot_full: "This time has just filled up. Please choose another:",
    slot_full_none: "This time has just filled up and no time is left on this day. Please choose another day.",
    booking_limit: "You have reached the most bookings allowed (per day, or per service a day) for this ID or mobile number.",
    otp_attempts: "Too many wrong codes. Please start the booking again.",
    otp_expired: "The code has expired. Please book again to get a new code.",
    otp_wrong: "The code is not right. Please check the text message and try again ({left} tries left).",
    rate: "Too many attempts. Please try again in {s} seconds.", rate_later: "Too many attempts. Please try again in a few minutes.",
    blocked: "This ID or mobile number may not book until the end of {until} after several missed appointments.",
    booking_unknown: "No booking was found with this code and this CCCD number.",
    network: "The centre cannot be reached. Please check your connection and try again.",
    check: "Show my booking", cancel: "Cancel the booking", cancel_sure: "Do you really want to cancel this booking?",
    cancelled_now: "The booking is cancelled. The place goes back to other citizens.",
    status_hint: "Enter the CCCD number you booked with to see or cancel the booking.",
    st_pending_otp: "Not confirmed", st_confirmed: "Confirmed — we are expecting you", st_checked_in: "Checked in at the centre",
    st_cancelled: "Cancelled", st_no_show: "Missed appointment", st_expired: "Expired",
    book_link: "Book a new appointment",
  });

  const B = (Q.booking = {});
  const PAGE = Q.page();

  /** The language: ?lang=, else the phone's; the VI/EN buttons switch it and redraw with `render`. */
  B.setupLang = function (render) {
    const asked = new URLSearchParams(location.search).get("lang");
    const langs = (navigator.languages || [navigator.language || "vi"]).map((l) => String(l).toLowerCase());
    const phone = langs.some((l) => l.startsWith("vi")) || !langs.some((l) => l.startsWith("en")) ? "vi" : "en";
    Q.setLang(asked === "en" || asked === "vi" ? asked : phone);
    const draw = () => {
      Q.applyI18n();
      Q.byId("centre-name").textContent = Q.pick(PAGE.centre, "name");
      Q.byId("lang-vi").setAttribute("aria-pressed", String(Q.lang === "vi"));
      Q.byId("lang-en").setAttribute("aria-pressed", String(Q.lang === "en"));
      render();
    };
    for (const l of ["vi", "en"]) Q.byId("lang-" + l).addEventListener("click", () => { Q.setLang(l); draw(); });
    draw();
  };

  /** A CCCD number's form: "" when fine, else the key of what is wrong. */
  B.cccdProblem = function (raw) {
    const v = String(raw || "").replace(/[\s.-]/g, "");
    if (!v) return "cccd_empty";
    if (!/^\d{12}$/.test(v)) return "cccd_digits";
    if (!(PAGE.provinces || []).includes(v.slice(0, 3))) return "cccd_province";
    return "";
  };
  B.cccd = (raw) => String(raw || "").replace(/[\s.-]/g, "");

  /** A Vietnamese mobile number: 0xxxxxxxxx or +84xxxxxxxxx; dots and spaces allowed. */
  B.phone = (raw) => String(raw || "").replace(/[\s.()-]/g, "");
  B.phoneProblem = function (raw) {
    const v = B.phone(raw);
    if (!v) return "phone_empty";
    return /^(0|\+84|84)(3|5|7|8|9)\d{8}$/.test(v) ? "" : "phone_form";
  };

  /** "thứ Năm 26/11/2026" / "Thursday 26/11/2026" for "2026-11-26". */
  B.dayText = function (iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!m) return iso || "";
    const wd = Q.WEEKDAYS[Q.lang][new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay()];
    return wd.charAt(0).toUpperCase() + wd.slice(1) + " " + m[3] + "/" + m[2] + "/" + m[1];
  };
  /** "HH:MM" moved by some minutes, within the day. */
  B.shift = function (hhmm, minutes) {
    const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm || "");
    if (!m) return hhmm || "";
    const t = Math.min(24 * 60 - 1, Math.max(0, +m[1] * 60 + +m[2] + minutes));
    return Q.pad(Math.floor(t / 60)) + ":" + Q.pad(t % 60);
  };

  /** A refusal of the booking API in plain words: our words for the codes we know, else the server's message
   * (it comes in the page's language). Answers {text, field} with the form field it is about, when one is. */
  B.errorText = function (err) {
    if (!err || !err.status) return { text: Q.t("network"), field: null };
    const code = err.code || "";
    const data = err.data || {};
    const about = (text) => ["cccd", "phone", "otp"].find((f) => new RegExp("\\b" + f + "\\b").test(text || "")) || null;
    if (code === "too_many_bookings" || (err.status === 429 && code !== "otp_attempts" && code !== "otp_resend_wait")) {
      return { text: data.retry_after ? Q.t("rate", { s: data.retry_after }) : Q.t("rate_later"), field: null };
    }
    if (code === "otp_resend_wait") return { text: Q.t("resend_wait", { s: data.retry_after }), field: null };
    if (code === "otp_wrong") return { text: Q.t("otp_wrong", { left: data.left }), field: "otp" };
    if (code === "booking_blocked") return { text: Q.t("blocked", { until: B.dayText(data.until) }), field: null };
    if (code === "booking_state" && data.reason === "expired") return { text: Q.t("otp_expired"), field: null };
    if (code === "cccd_invalid") return { text: Q.t("cccd_invalid"), field: "cccd" };
    if (code === "phone_invalid") return { text: Q.t("phone_form"), field: "phone" };
    if (["slot_full", "booking_limit", "otp_attempts", "otp_expired", "booking_unknown"].includes(code)) {
      return { text: Q.t(code), field: null };
    }
    // anything else: the server's own message, in the page's language (Accept-Language)
    const text = err.message && err.message !== "HTTP " + err.status ? err.message : Q.t("network");
    return { text, field: code === "bad_request" ? about(data.detail) : null };
  };

  /** Show a message under a field (or hide it with ""). */
  B.fieldError = function (id, text) {
    const node = Q.byId(id + "-error");
    if (!node) return;
    node.textContent = text || "";
    node.hidden = !text;
    const input = Q.byId(id);
    if (input) input.setAttribute("aria-invalid", text ? "true" : "false");
  };
})();
