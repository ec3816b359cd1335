/* A booking's status page (/dat-lich/<code>): the công dân types the CCCD number booked with; the page shows the
 * booking (POST /api/v1/bookings/<code>/lookup) and cancels it with the same number (POST .../cancel). The number
 * stays in this page's memory only. Words and checks: booking-words.js. */
(function () {
  "use strict";
  const Q = window.QMS;
  const B = Q.booking;
  const PAGE = Q.page();
  const { t, pick } = Q;
  const $ = Q.byId;

  const state = { booking: null, services: {}, cccd: "", error: "", notice: "", sure: false, busy: false };
  const api = (method, path, body) => Q.api(method, path, body, { token: null });
  const path = "/bookings/" + encodeURIComponent(PAGE.code);

  function serviceName(b) {
    const s = state.services[b.service];
    return s ? pick(s, "name") : b.service;
  }

  function render() {
    $("book-link").href = "/dat-lich" + (Q.lang === "en" ? "?lang=en" : "");
    $("error").textContent = state.error;
    $("error").hidden = !state.error;
    $("notice").textContent = state.notice;
    $("notice").hidden = !state.notice;
    const b = state.booking;
    $("step-booking").hidden = !b;
    $("check").disabled = state.busy;
    if (!b) return;
    $("b-state").textContent = t("st_" + b.state) === "st_" + b.state ? b.state : t("st_" + b.state);
    $("b-service").textContent = serviceName(b);
    $("b-day").textContent = B.dayText(b.date);
    $("b-time").textContent = b.start + "–" + b.end;
    $("b-arrive").textContent = b.arrive_from + "–" + b.arrive_until;
    const open = b.state === "confirmed" || b.state === "pending_otp";
    $("cancel").hidden = !open || state.sure;
    $("sure").hidden = !open || !state.sure;
    $("cancel-yes").disabled = state.busy;
  }

  async function show(cccd) {
    state.busy = true; state.error = ""; render();
    try {
      // the CCCD goes in the body, never in an address that logs or the history keep
      state.booking = (await api("POST", path + "/lookup", { cccd })).booking;
      state.cccd = cccd;
    } catch (err) {
      state.booking = null;
      const said = B.errorText(err);
      if (said.field === "cccd") B.fieldError("cccd", said.text); else state.error = said.text;
    }
    state.busy = false;
    render();
  }

  $("ask-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const problem = B.cccdProblem($("cccd").value);
    B.fieldError("cccd", problem ? t(problem) : "");
    state.notice = "";
    if (!problem && !state.busy) show(B.cccd($("cccd").value));
  });
  $("cancel").addEventListener("click", () => { state.sure = true; render(); });
  $("cancel-no").addEventListener("click", () => { state.sure = false; render(); });
  $("cancel-yes").addEventListener("click", async () => {
    if (state.busy) return;
    state.busy = true; state.error = ""; render();
    try {
      const out = await api("POST", path + "/cancel", { cccd: state.cccd });
      state.booking = out.booking;
      state.notice = t("cancelled_now");
    } catch (err) {
      state.error = B.errorText(err).text;
    }
    state.busy = false; state.sure = false;
    render();
  });

  api("GET", "/services").then((out) => {
    for (const s of out.services) state.services[s.id] = s;
    render();
  }).catch(() => null);
  B.setupLang(render);
})();
