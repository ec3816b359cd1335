/* The ticket status page (the slip's QR code): follows one ticket live over Socket.IO, room ticket:<token>. */
(function () {
  "use strict";
  const Q = window.QMS;
  const PAGE = Q.page();
  const { pick, t } = Q;
  const $ = Q.byId;

  Q.words({
      your_number: "Số thứ tự của công dân", ahead_label: "Số người đang chờ phía trước",
      waiting: "Đang chờ đến lượt", serving_now: "Quầy đang phục vụ: {list}", no_counter: "Chưa có quầy nào mở cho dịch vụ này",
      called_head: "Mời công dân đến", counter: "Quầy {n}", serving: "Công dân đang được phục vụ tại quầy {n}",
      parked: "Số thứ tự đang được tạm giữ tại quầy {n}. Vui lòng chờ được gọi lại.",
      done: "Đã hoàn thành. Cảm ơn công dân!", rate: "Đánh giá", counter_word: "Quầy",
      rate_over: "Đã hết thời gian đánh giá lượt phục vụ này.", rated: "Đã ghi nhận đánh giá. Xin cảm ơn!",
      no_show: "Số thứ tự đã được gọi nhưng công dân vắng mặt. Vui lòng liên hệ bàn hướng dẫn.",
      cancelled: "Số này đã bị hủy.", unserved: "Hết giờ làm việc, số này chưa được phục vụ. Vui lòng quay lại vào ngày làm việc sau.",
      transferred: "Số thứ tự đã được chuyển sang: {s}", next: "Sắp đến lượt công dân — vui lòng chú ý màn hình",
      alerts_on: "Bật âm thanh và rung khi đến lượt", alerts_ready: "Âm thanh và rung: đã bật",
      alerts_hint: "Khi đến lượt, trang này hiện số quầy, rung và phát âm báo (nếu điện thoại cho phép).",
      updated: "Cập nhật lúc {t}", offline: "Mất kết nối — đang kết nối lại…", online: "Đang theo dõi trực tiếp",
      title_called: "🔔 Mời đến quầy {n}",
  }, {
      your_number: "Your number", ahead_label: "People waiting ahead of you",
      waiting: "Waiting for your turn", serving_now: "Counters serving now: {list}", no_counter: "No counter is open for this service yet",
      called_head: "Please go to", counter: "Counter {n}", serving: "You are being served at counter {n}",
      parked: "Your ticket is on hold at counter {n}. Please wait to be called again.",
      done: "Done. Thank you!", rate: "Rate the service", counter_word: "Counter",
      rate_over: "The time to rate this service is over.", rated: "Your rating was recorded. Thank you!",
      no_show: "Your number was called but you were not there. Please ask at the information desk.",
      cancelled: "This ticket was cancelled.", unserved: "The centre has closed for the day before your turn. Please come back on the next working day.",
      transferred: "Your ticket was moved to: {s}", next: "You are next — please watch the screen",
      alerts_on: "Turn on sound and vibration for my turn", alerts_ready: "Sound and vibration: on",
      alerts_hint: "When it is your turn, this page shows the counter, vibrates and beeps (if your phone allows).",
      updated: "Updated at {t}", offline: "Connection lost — reconnecting…", online: "Following live",
      title_called: "🔔 Go to counter {n}",
  });

  const langs = (navigator.languages || [navigator.language || "vi"]).map((l) => String(l).toLowerCase());
  Q.setLang(langs.some((l) => l.startsWith("vi")) || !langs.some((l) => l.startsWith("en")) ? "vi" : "en");
  const clock = () => Q.clock(PAGE.centre.timezone, Q.lang, true);
  const state = {
    ticket: PAGE.ticket, ahead: PAGE.ticket.waiting_ahead, serving: PAGE.ticket.serving_counters || [], wait: PAGE.ticket.wait,
    audio: null, transferred: false, updatedAt: Q.clock(PAGE.centre.timezone, "vi", true), connected: false, flashTimer: null,
    // whether the finished ticket may still be rated, as the server says (GET /api/v1/rate/<counter>?ticket=):
    // null until asked; {open, rated}; the link goes when rating.window_seconds after the finish have passed
    rating: null, ratingAsked: false, ratingTimer: null,
  };

  function counterNumber(c) { return c ? (c.number ?? c.name ?? c.id) : "?"; }

  function render() {
    const tk = state.ticket;
    Q.applyI18n();
    $("centre-name").textContent = pick(PAGE.centre, "name");
    $("lang-vi").setAttribute("aria-pressed", String(Q.lang === "vi"));
    $("lang-en").setAttribute("aria-pressed", String(Q.lang === "en"));
    $("code").textContent = tk.code;
    $("service").textContent = pick(tk, "service_name");
    $("department").textContent = pick(tk, "department_name");

    const status = tk.status;
    const c = tk.counter;
    const called = status === "called";
    $("call").hidden = !called;
    if (called) {
      $("call-head").textContent = t("called_head");
      // the counter's word small, its number large: never wider than the phone
      $("call-word").textContent = t("counter_word").toUpperCase();
      $("call-number").textContent = String(counterNumber(c));
      $("call-name").textContent = c && c.name && !String(c.name).endsWith(" " + c.number) ? c.name : "";
    }
    const waiting = status === "waiting";
    // one honest state from the estimate (core/estimate.py): no counter open / closed for the day, else a range
    const w = waiting ? state.wait : null;
    const wtext = w && w.text ? w.text[Q.lang === "en" ? "en" : "vi"] : "";
    const honest = !!w && (w.state === "no_counter" || w.state === "closed_today");
    $("ahead-box").hidden = !waiting || state.ahead === null || state.ahead === undefined;
    $("ahead").textContent = waiting ? String(state.ahead ?? "") : "";
    let text = "";
    if (waiting) {
      // "you are next" only when a counter serving the service is open: one honest state (core/estimate.py's too)
      text = honest ? t("waiting") : state.ahead === 0 && (state.serving || []).length ? t("next")
        : (w && w.state === "estimate" ? wtext : t("waiting"));
      if (state.transferred) text = t("transferred", { s: pick(tk, "service_name") }) + ". " + text;
    } else if (called) text = "";
    else if (status === "serving") text = t("serving", { n: counterNumber(c) });
    else if (status === "parked") text = t("parked", { n: counterNumber(c) });
    else if (status === "done") text = t("done");
    else if (status === "no_show") text = t("no_show");
    else if (status === "cancelled") text = t("cancelled");
    else if (status === "unserved") text = t("unserved");
    $("status-text").textContent = text;
    $("status").dataset.status = status;
    $("status").hidden = called;

    const serving = (state.serving || []).map((x) => t("counter", { n: counterNumber(x) }));
    $("serving").textContent = honest ? wtext : waiting ? (serving.length ? t("serving_now", { list: serving.join(", ") }) : t("no_counter")) : "";

    const rate = $("rate-link");
    const rating = status === "done" && c && c.id ? state.rating : null;
    if (status === "done" && c && c.id && !state.ratingAsked) askRating(c.id);
    rate.hidden = !(rating && rating.open);
    if (!rate.hidden) {
      rate.textContent = t("rate");
      rate.href = PAGE.rate_url + encodeURIComponent(c.id) + "?ticket=" + encodeURIComponent(PAGE.token);
    }
    $("rate-note").hidden = !rating || rating.open;
    $("rate-note").textContent = rating && !rating.open ? t(rating.rated ? "rated" : "rate_over") : "";
    $("alerts-on").textContent = t("alerts_on");
    $("alerts-on").hidden = !!state.audio;
    $("alerts-state").textContent = state.audio ? t("alerts_ready") : t("alerts_hint");
    $("updated").textContent = t("updated", { t: state.updatedAt });
    $("conn").textContent = state.connected ? t("online") : t("offline");
    document.title = called ? t("title_called", { n: counterNumber(c) }) : tk.code + " — " + pick(PAGE.centre, "name");
  }

  /** Ask the server whether this finished ticket may still be rated, and hide the link when the time is up. */
  async function askRating(counterId) {
    state.ratingAsked = true;
    try {
      const r = await fetch("/api/v1/rate/" + encodeURIComponent(counterId) + "?ticket=" + encodeURIComponent(PAGE.token),
                            { headers: { Accept: "application/json" } });
      const target = r.ok ? (await r.json()).target : null;
      const open = !!(target && !target.rated && target.expires_in_ms > 0);
      state.rating = { open, rated: !!(target && target.rated) };
      clearTimeout(state.ratingTimer);
      if (open) state.ratingTimer = setTimeout(() => { state.rating = { open: false, rated: false }; render(); }, target.expires_in_ms);
    } catch (e) {
      state.ratingAsked = false;  // offline: asked again at the next render
      return;
    }
    render();
  }

  // ------------------------------------------------------------------ alerts: vibrate, beep, flash
  function enableAlerts() {
    try {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (AC && !state.audio) state.audio = new AC();
      if (state.audio && state.audio.state === "suspended") state.audio.resume();
      beep(0.15);
    } catch (e) { /* no audio on this phone */ }
    if (navigator.vibrate) navigator.vibrate(80);
    render();
  }

  function beep(seconds) {
    const ctx = state.audio;
    if (!ctx) return;
    const tones = seconds ? [[880, 0, seconds]] : [[880, 0, 0.25], [1175, 0.3, 0.25], [880, 0.8, 0.25], [1175, 1.1, 0.4]];
    for (const [freq, at, len] of tones) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, ctx.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.4, ctx.currentTime + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + len);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + at);
      osc.stop(ctx.currentTime + at + len + 0.05);
    }
  }

  function alertCalled() {
    if (navigator.vibrate) {
      try { navigator.vibrate([400, 200, 400, 200, 800]); } catch (e) { /* not allowed */ }
    }
    try { beep(); } catch (e) { /* not allowed */ }
    document.body.classList.add("flash");
    clearTimeout(state.flashTimer);
    state.flashTimer = setTimeout(() => document.body.classList.remove("flash"), 6500);
  }

  // ------------------------------------------------------------------ live
  function seen() { state.updatedAt = clock(); }

  function mergeTicket(tk) {
    if (!tk || tk.id !== state.ticket.id) return;
    if (tk.service !== state.ticket.service) state.transferred = true;
    state.ticket = Object.assign({}, state.ticket, tk);
    if (state.ticket.status !== "waiting") state.ahead = null;
  }

  function connect() {
    Q.live({
      room: "ticket:" + PAGE.token, lang: () => Q.lang, catchUp: true,
      onState: (s) => { state.connected = s === "online"; render(); },
      on: {
        snapshot: (msg) => {
          seen();
          const tk = msg && msg.state && msg.state.ticket;
          if (tk) {
            mergeTicket(tk);
            state.ahead = tk.waiting_ahead;
            state.wait = tk.wait;
            state.serving = tk.serving_counters || [];
          }
          render();
        },
        "queue.updated": (msg) => {
          const pos = msg && msg.position;
          seen();
          if (pos && pos.id === state.ticket.id) {
            if (pos.status === "waiting") { state.ahead = pos.waiting_ahead; state.wait = pos.wait || state.wait; }
            state.serving = pos.serving_counters || state.serving;
          }
          render();
        },
        "ticket.called": (msg) => {
          seen();
          mergeTicket(msg.ticket);
          if (msg.call && msg.call.counter) state.ticket.counter = msg.call.counter;
          render();
          if (!msg.replayed) alertCalled();
        },
        "ticket.updated": (msg) => {
          seen();
          mergeTicket(msg.ticket);
          render();
        },
        // a supervisor's message to this service's waiting tickets: shown by status-notice.js
        "service.notice": (msg) => document.dispatchEvent(new CustomEvent("qms:service-notice", { detail: msg })),
      },
    });
  }

  $("lang-vi").addEventListener("click", () => { Q.setLang("vi"); render(); });
  $("lang-en").addEventListener("click", () => { Q.setLang("en"); render(); });
  $("alerts-on").addEventListener("click", enableAlerts);
  render();
  connect();
})();
