/* The kiosk without a usable device token: citizens see "Máy đang bảo trì"; staff open the setup with the kiosk's
 * PIN (devices.kiosks[].setup_pin, checked by POST /api/v1/kiosks/<id>/setup-pin) on an on-screen keypad, then
 * type the device token on an on-screen keyboard. The PIN only opens the form: the token is what the server checks
 * (GET /api/v1/me, in kiosk.js). */
(function () {
  "use strict";
  const Q = window.QMS;
  const { t } = Q;
  const $ = Q.byId;
  const PIN_KEYS = ["123", "456", "789", "0"];
  const TOKEN_KEYS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm-_"];

  Q.words({
    maintenance_title: "Máy đang bảo trì",
    maintenance_text: "Công dân vui lòng dùng máy lấy số khác hoặc hỏi cán bộ hướng dẫn.",
    maintenance_demo: "Bản demo: mở máy lấy số bằng liên kết trên trang chủ (đã kèm mã thiết bị).",
    setup_open: "Cài đặt (cán bộ)", pin_title: "Nhập mã PIN cài đặt", pin_ok: "Mở", cancel: "Hủy",
    pin_bad: "Mã PIN không đúng.", pin_none: "Máy này chưa có mã PIN cài đặt (devices.kiosks[].setup_pin): mở trang với địa chỉ có ?token=…",
    setup_title: "Cài đặt máy lấy số",
    setup_help: "Nhập mã thiết bị (token) của máy lấy số này: trong config.yaml (mục devices.kiosks) hoặc tạo bằng lệnh “qms device-token kiosk <mã máy>”.",
    setup_save: "Lưu", setup_bad: "Mã thiết bị không đúng cho máy lấy số này.",
  }, {
    maintenance_title: "Under maintenance",
    maintenance_text: "Please use another ticket machine or ask a member of staff.",
    maintenance_demo: "Demo: open the kiosk with the link on the start page (it carries the device token).",
    setup_open: "Setup (staff)", pin_title: "Enter the setup PIN", pin_ok: "Open", cancel: "Cancel",
    pin_bad: "Wrong PIN.", pin_none: "This kiosk has no setup PIN (devices.kiosks[].setup_pin): open the page with ?token=… in its address.",
    setup_title: "Set up this ticket machine",
    setup_help: "Enter this kiosk's device token: from config.yaml (devices.kiosks) or made with “qms device-token kiosk <id>”.",
    setup_save: "Save", setup_bad: "This device token does not belong to this kiosk.",
  });

  /** s: {kiosk, demo, useToken(token), touch()}; returns {reset(keepForm), open()}: reset whenever the screen is
   * shown (keepForm: a token typed in the form was refused, so the form stays for another try). */
  Q.kioskSetup = function (s) {
    let upper = false;

    let current = "notice";
    function panel(name) {  // "notice" (citizens), "pin" or "token" (staff)
      current = name;
      $("maintenance").hidden = name !== "notice";
      $("setup-pin").hidden = name !== "pin";
      $("setup-form").hidden = name !== "token";
      $("setup-open").hidden = name !== "notice";
    }

    function reset(keepForm) {
      if (keepForm && current === "token") return;
      $("pin-input").value = "";
      $("setup-token").value = "";
      $("pin-error").textContent = "";
      $("maintenance-demo").hidden = !s.demo;
      panel("notice");
    }

    function typePin(ch) {
      s.touch();
      const input = $("pin-input");
      if (ch === "\b") input.value = input.value.slice(0, -1);
      else if (/^[0-9]$/.test(ch) && input.value.length < 12) input.value += ch;
    }

    function typeToken(ch) {
      s.touch();
      const input = $("setup-token");
      if (ch === "shift") {
        upper = !upper;
        $("token-keyboard").classList.toggle("upper", upper);
        $("token-keyboard").querySelector("[data-key=shift]").setAttribute("aria-pressed", String(upper));
        return;
      }
      if (ch === "\b") input.value = input.value.slice(0, -1);
      else input.value += upper ? ch.toUpperCase() : ch;
    }

    async function checkPin() {
      const pin = $("pin-input").value;
      $("pin-input").value = "";
      if (!s.kiosk.setup_pin) { $("pin-error").textContent = t("pin_none"); return; }
      try {
        await Q.api("POST", "/kiosks/" + encodeURIComponent(s.kiosk.id) + "/setup-pin", { pin }, { token: null });
        $("pin-error").textContent = "";
        panel("token");
      } catch (e) {
        $("pin-error").textContent = e.status ? t("pin_bad") : t("network_error");
      }
    }

    Q.kioskKeys($("pin-pad"), PIN_KEYS, ["backspace"], typePin);
    Q.kioskKeys($("token-keyboard"), TOKEN_KEYS, ["shift", "backspace"], typeToken);
    $("setup-open").addEventListener("click", () => { s.touch(); $("pin-error").textContent = ""; panel("pin"); });
    $("pin-ok").addEventListener("click", checkPin);
    for (const b of document.querySelectorAll(".setup-cancel")) {
      b.addEventListener("click", () => { $("setup-error").textContent = ""; reset(); });
    }
    $("setup-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const token = $("setup-token").value.trim();
      $("setup-token").value = "";
      $("setup-error").textContent = "";
      if (token) s.useToken(token);
    });
    return { reset, open: () => current !== "notice" };
  };
})();
