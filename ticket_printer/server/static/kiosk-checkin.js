/* Check-in of an online booking at the kiosk, and priority by age from the citizen identity card (CCCD).
 *
 * Three ways in (POST /api/v1/bookings/check-in with the kiosk's token):
 *  - the booking's QR on a phone or paper, held to the USB scanner: its text is the 8-character code;
 *  - "Tôi đã đặt lịch": the code typed on an on-screen keyboard of the code's own alphabet;
 *  - the citizen's CCCD held to the scanner (its QR text has "|"): that citizen's booking of today.
 * Success shows the ticket, marked booked with its slot (the slip prints like any other). Outside the arrival
 * window the kiosk says when to come and offers a walk-in number with one press. A CCCD with no booking today
 * leaves the card in memory for one choice of service: the ticket is then issued with the card (`cccd_qr`), and
 * the server makes it a priority ticket when the card's date of birth reaches a group's `min_age`; too young, the
 * kiosk says so and offers a normal number. The card's text is never stored: it is forgotten when the ticket is
 * shown, at "home", or after CARD_HOLD_MS.
 * kiosk.js calls Q.kioskCheckin({kiosk, page, state, hooks, issue, touch, show, showTicket, goHome, showError}). */
(function () {
  "use strict";
  const Q = window.QMS;
  const { el, t, pick } = Q;
  const $ = Q.byId;
  const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";  // no 0/O, 1/I/L
  const CODE = new RegExp("^[" + ALPHABET + "]{8}$");
  const KEYS = ["23456789", "ABCDEFGH", "JKMNPQRS", "TUVWXYZ"];
  const CARD_HOLD_MS = 90000;

  Q.words({
    booking_open: "Tôi đã đặt lịch", booking_open_hint: "Quét mã QR đặt lịch hoặc thẻ căn cước, hoặc nhập mã",
    booking_title: "Nhận số theo lịch hẹn",
    booking_hint: "Đưa mã QR đặt lịch (hoặc thẻ căn cước) vào máy quét, hoặc nhập mã đặt lịch 8 ký tự.",
    booking_go: "Nhận số", booking_checking: "Đang kiểm tra lịch hẹn…", offer_close: "Đóng",
    booking_unknown_title: "Không tìm thấy lịch hẹn",
    booking_unknown: "Không có lịch hẹn với mã {code}. Vui lòng kiểm tra lại mã trên phiếu hẹn.",
    window_title: "Chưa đến giờ nhận số theo lịch hẹn", window_late_title: "Đã quá giờ nhận số theo lịch hẹn",
    window_early: "Lịch hẹn của công dân nhận số từ {from} đến {until}. Công dân có thể quay lại trong khoảng giờ đó, hoặc lấy số thường ngay.",
    window_late: "Lịch hẹn chỉ nhận số từ {from} đến {until}. Công dân có thể lấy số thường ngay.",
    walk_in: "Lấy số thường: {s}", walk_in_choose: "Lấy số thường: chọn dịch vụ",
    card_title: "Đã đọc thẻ căn cước", card_no_booking: "Công dân không có lịch hẹn hôm nay. Vui lòng chọn dịch vụ để lấy số.",
    card_age: "Công dân từ {age} tuổi trở lên được cấp số ưu tiên.", card_forget: "Hủy",
    too_young_title: "Chưa đủ tuổi ưu tiên", take_normal: "Lấy số thường: {s}",
    booked_note: "Đã đặt lịch · khung giờ {slot}", priority_note: "Ưu tiên: {g}", card_bad_title: "Không đọc được thẻ",
  }, {
    booking_open: "I have a booking", booking_open_hint: "Scan your booking QR or ID card, or type the code",
    booking_title: "Check in for your booking",
    booking_hint: "Hold your booking's QR code (or your citizen ID card) to the scanner, or type your 8-character booking code.",
    booking_go: "Check in", booking_checking: "Checking your booking…", offer_close: "Close",
    booking_unknown_title: "Booking not found",
    booking_unknown: "No booking has the code {code}. Please check the code on your booking.",
    window_title: "It is not yet time for your booking", window_late_title: "The time for your booking has passed",
    window_early: "Your booking checks in from {from} to {until}. Come back then, or take a walk-in number now.",
    window_late: "Your booking could check in only from {from} to {until}. You can take a walk-in number now.",
    walk_in: "Take a walk-in number: {s}", walk_in_choose: "Take a walk-in number: choose a service",
    card_title: "Citizen ID card read", card_no_booking: "You have no booking today. Please choose a service to take a number.",
    card_age: "Citizens aged {age} or over get a priority number.", card_forget: "Cancel",
    too_young_title: "Not of the age for priority", take_normal: "Take a normal number: {s}",
    booked_note: "Booked · slot {slot}", priority_note: "Priority: {g}", card_bad_title: "The card could not be read",
  });

  Q.kioskCheckin = function (k) {
    const state = k.state;
    const ageGroups = k.page.age_groups || [];
    const me = { code: "", card: null, cardTimer: null, note: null, busy: false, oneTouch: false };

    // ---------------------------------------------------------------- the screen and the home button
    const codeBox = el("div", { id: "booking-code", class: "booking-code", "aria-live": "polite" });
    const keys = el("div", { id: "booking-keys", class: "keyboard booking-keys" });
    const go = el("button", { type: "button", id: "booking-go", class: "booking-go", "data-t": "booking_go", onclick: () => checkIn({ code: me.code }) });
    const screen = el("section", { id: "screen-booking", class: "screen booking", hidden: true }, [
      el("div", { class: "bar" }, [el("button", { type: "button", class: "back", "data-t": "back", onclick: () => k.show("home") }),
                                   el("h1", { "data-t": "booking_title" })]),
      el("p", { class: "hint", "data-t": "booking_hint" }), codeBox, go, keys]);
    Q.kioskKeys(keys, KEYS, ["backspace"], typeKey);
    const opener = el("button", { type: "button", id: "booking-open", class: "search-open booking-open", hidden: !k.page.booking,
                                  onclick: () => open() },
      [Q.kioskIcon("receipt"), el("span", { class: "booking-open-text" }, [el("b", { "data-t": "booking_open" }), " ",
                                                                          el("span", { "data-t": "booking_open_hint" })])]);
    const cardNote = el("div", { id: "card-note", class: "card-note", role: "status", hidden: true });
    const offer = el("div", { id: "checkin-offer", class: "overlay", role: "alertdialog", hidden: true }, [
      el("div", { class: "box offer-box" }, [el("h2", { id: "offer-title" }), el("p", { id: "offer-text" }),
        el("button", { type: "button", id: "offer-action", class: "offer-action" }),
        el("button", { type: "button", id: "offer-close", class: "offer-close", "data-t": "offer_close", onclick: closeOffer })])]);
    document.querySelector("main").appendChild(screen);
    document.body.appendChild(offer);
    $("search-open").before(opener);
    $("screen-home").prepend(cardNote);
    document.head.appendChild(el("link", { rel: "stylesheet", href: "/ticket-printer/static/kiosk-checkin.css" }));

    new MutationObserver(() => {  // another screen shown by the kiosk hides this one
      const other = [...document.querySelectorAll("main > .screen")].some((s) => s !== screen && !s.hidden);
      if (other && !screen.hidden) screen.hidden = true;
    }).observe(document.querySelector("main"), { subtree: true, attributes: true, attributeFilter: ["hidden"] });

    function open() {
      for (const s of document.querySelectorAll("main > .screen")) s.hidden = s !== screen;
      state.screen = "booking";
      me.code = "";
      renderCode();
      k.touch();
    }

    function typeKey(ch) {
      k.touch();
      if (ch === "\b") me.code = me.code.slice(0, -1);
      else if (ALPHABET.includes(ch) && me.code.length < 8) me.code += ch;
      renderCode();
    }

    function renderCode() {
      codeBox.replaceChildren(...Array.from({ length: 8 }, (_, i) => el("span", { class: "cell" + (i === me.code.length ? " next" : ""),
                                                                                   text: me.code[i] || "" })));
      go.disabled = !CODE.test(me.code);
    }

    // ---------------------------------------------------------------- check-in
    async function checkIn(what) {
      if (me.busy || (what.code !== undefined && !CODE.test(what.code))) return;
      me.busy = true;
      $("busy").hidden = false;
      closeOffer();
      try {
        const out = await Q.api("POST", "/bookings/check-in", what, { token: state.token });
        forgetCard();
        me.note = { id: out.ticket.id, booking: out.booking || {} };
        k.showTicket(out.ticket);
      } catch (e) {
        refused(e, what);
      } finally {
        me.busy = false;
        $("busy").hidden = true;
      }
    }

    function refused(e, what) {
      const d = e.data || {};
      if (e.code === "outside_window") {
        const svc = d.service && state.services[d.service];
        const text = t(d.reason === "late" ? "window_late" : "window_early", { from: d.arrive_from, until: d.arrive_until });
        showOffer(t(d.reason === "late" ? "window_late_title" : "window_title"), text,
                  svc ? t("walk_in", { s: pick(svc, "name") }) : t("walk_in_choose"),
                  () => (svc ? walkIn(svc.id, true) : chooseService()));
      } else if (e.code === "booking_unknown" && what.cccd_qr) {
        chooseService();  // a card with no booking today: a walk-in, a priority one when the card's age says so
      } else if (e.code === "booking_unknown") {
        showOffer(t("booking_unknown_title"), t("booking_unknown", { code: what.code }));
      } else if (what.cccd_qr && e.status === 400) {
        forgetCard();
        showOffer(t("card_bad_title"), e.message);
      } else if (e.status === 401) {
        k.showError(e.message);
      } else {
        k.showError(e.status && e.code !== "bad_response" ? e.message : t("network_error"));
      }
    }

    // With a card held, kiosk.js asks hooks.issue: a priority number if old enough; `oneTouch`: else a normal one
    // at once (the press offered a walk-in number, not priority).
    function walkIn(serviceId, oneTouch) {
      closeOffer();
      me.oneTouch = !!oneTouch;
      k.issue(serviceId, null);
    }

    function chooseService() {
      closeOffer();
      renderCardNote();
      k.show("home");
    }

    // ---------------------------------------------------------------- the card held for one choice of service
    function holdCard(text) {
      me.card = text;
      clearTimeout(me.cardTimer);
      me.cardTimer = setTimeout(forgetCard, CARD_HOLD_MS);
    }

    function forgetCard() {
      me.card = null;
      clearTimeout(me.cardTimer);
      cardNote.hidden = true;
    }

    function renderCardNote() {
      cardNote.hidden = !me.card;
      if (!me.card) return;
      const youngest = ageGroups.length ? Math.min(...ageGroups.map((g) => g.min_age)) : null;
      cardNote.replaceChildren(
        el("div", { class: "card-note-text" }, [el("b", { text: t("card_title") + ". " }), k.page.booking ? t("card_no_booking") : "",
          youngest ? el("span", { class: "card-age", text: " " + t("card_age", { age: youngest }) }) : null]),
        el("button", { type: "button", id: "card-forget", class: "back", text: t("card_forget"), onclick: forgetCard }));
    }

    k.hooks.issue = (serviceId) => {
      const oneTouch = me.oneTouch;
      me.oneTouch = false;  // only the press that set it
      if (!me.card || !ageGroups.length) return null;
      const card = me.card;
      return { body: { cccd_qr: card }, refused: (e) => {
        if (e.code !== "priority_age_not_met" && e.code !== "priority_by_age_off") return false;
        forgetCard();  // the card has said what it could: the normal number needs it no more
        if (e.code === "priority_by_age_off" || oneTouch) {
          setTimeout(() => k.issue(serviceId, null), 0);  // once kiosk.js has finished with this refusal
          return true;
        }
        const svc = state.services[serviceId] || { name: serviceId };
        showOffer(t("too_young_title"), e.message, t("take_normal", { s: pick(svc, "name") }), () => walkIn(serviceId));
        return true;
      } };
    };
    k.hooks.ticket.push((tk) => {
      forgetCard();
      const note = $("ticket-note");
      const lines = [];
      if (me.note && me.note.id === tk.id) {
        const b = me.note.booking;
        const slot = (b.start || "") + (b.end ? "–" + b.end : "");
        lines.push(t("booked_note", { slot }));
      }
      const group = tk.priority_group && ageGroups.find((g) => g.id === tk.priority_group);
      if (group) lines.push(t("priority_note", { g: pick(group, "name") }));
      note.textContent = lines.join(" · ");
      note.hidden = !lines.length;
      note.dataset.booked = me.note && me.note.id === tk.id ? "true" : "false";
    });
    k.hooks.home.push(() => { forgetCard(); closeOffer(); me.note = null; });

    // ---------------------------------------------------------------- the offer (a message with one action)
    function showOffer(title, text, actionText, action) {
      $("offer-title").textContent = title;
      $("offer-text").textContent = text;
      const button = $("offer-action");
      button.hidden = !action;
      button.textContent = actionText || "";
      button.onclick = action || null;
      offer.hidden = false;
      k.touch();
    }

    function closeOffer() { offer.hidden = true; }

    // ---------------------------------------------------------------- the scanner
    Q.kioskScanner((text) => {
      if (!state.token || state.screen === "setup") return false;
      const code = text.trim().toUpperCase();
      if (CODE.test(code) && k.page.booking) { open(); me.code = code; renderCode(); checkIn({ code }); return true; }
      if (text.includes("|") && (k.page.booking || ageGroups.length)) {
        holdCard(text.trim());
        if (k.page.booking) checkIn({ cccd_qr: text.trim() });
        else chooseService();
        return true;
      }
      return false;
    });

    for (const id of ["lang-vi", "lang-en"]) $(id).addEventListener("click", () => setTimeout(() => { Q.applyI18n(); renderCardNote(); }, 0));
    renderCode();
    return { open, checkIn };
  };
})();
