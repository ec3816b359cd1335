/* The ticket machine page's words, Vietnamese then English (kiosk.js uses them through QMS.t). */
(function () {
  "use strict";
  const Q = window.QMS;
  Q.words({
      choose_department: "Chọn cơ quan, đơn vị giải quyết", choose_service: "Chạm vào dịch vụ để lấy số thứ tự",
      back: "← Quay lại", done: "Xong",
      waiting: "Đang chờ", people: "người", services_open: "{open}/{total} dịch vụ đang nhận số",
      dept_closed: "Tạm ngừng nhận số", your_number: "Số thứ tự của công dân",
      ahead: "Số người đang chờ phía trước: {n}", qr_hint: "Quét mã QR để theo dõi số thứ tự trên điện thoại",
      returning: "Tự động quay lại màn hình chính sau {n} giây", issuing: "Đang lấy số…",
      print_queued: "Đang chờ in phiếu…", print_printing: "Đang in phiếu…",
      print_printed: "Đã in xong — mời nhận phiếu", print_failed: "Máy in lỗi: {reason}", reprint: "In lại",
      print_elsewhere: "— Cán bộ có thể in lại phiếu tại: {kiosks}.",
      reprint_sent: "Đã gửi lệnh in lại…", offline: "Mất kết nối với máy chủ — đang kết nối lại…",
      error_title: "Không lấy được số", network_error: "Không kết nối được máy chủ. Vui lòng thử lại.", ok: "Đóng",
  }, {
      choose_department: "Choose a department", choose_service: "Touch a service to take a number",
      back: "← Back", done: "Done",
      waiting: "Waiting", people: "people", services_open: "{open}/{total} services issuing",
      dept_closed: "Not issuing now", your_number: "Your number",
      ahead: "People waiting ahead of you: {n}", qr_hint: "Scan the QR code to follow your number on your phone",
      returning: "Back to the start screen in {n} s", issuing: "Taking a number…",
      print_queued: "Waiting for the printer…", print_printing: "Printing your ticket…",
      print_printed: "Printed — please take your ticket", print_failed: "Printer error: {reason}", reprint: "Print again",
      print_elsewhere: "— Staff can reprint your slip at: {kiosks}.",
      reprint_sent: "Printing again…", offline: "No connection to the server — reconnecting…",
      error_title: "No ticket issued", network_error: "Cannot reach the server. Please try again.", ok: "Close",
  });
})();
