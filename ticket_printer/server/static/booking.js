/* The booking page (/dat-lich) for the công dân's phone, one step at a time: department -> service -> day ->
 * slot -> CCCD and mobile number -> the one-time code -> the confirmation with the booking code, its QR, the
 * service, day, time and arrival window. Departments and services come from the public API; slots and the
 * booking itself from the booking API (docs/api.md). Words and checks: booking-words.js. */
(function () {
  "use strict";
  const Q = window.QMS;
  const B = Q.booking;
  const PAGE = Q.page();
  const { t, pick, el } = Q;
  const $ = Q.byId;

  const STEPS = ["dept", "service", "day", "slot", "identity", "otp", "done"];
  const state = {
    step: "dept", info: null, departments: [], services: [], dept: null, service: null, day: null,
    slots: null, slot: null, bookingId: null, pendingKey: "", phone: "", done: null, error: "", alternatives: [], busy: false, resent: false,
  };

  const api = (method, path, body) => Q.api(method, path, body, { token: null });
  /** What can be booked and when (GET /booking), the departments and services as every public page has them. */
  async function load() {
    try {
      const [info, d, s] = await Promise.all([api("GET", "/booking"), api("GET", "/departments"), api("GET", "/services")]);
      state.info = info;
      const bookable = new Set(info.services.map((x) => x.id));
      state.services = s.services.filter((x) => bookable.has(x.id));
      const withServices = new Set(state.services.map((x) => x.department));
      state.departments = d.departments.filter((x) => withServices.has(x.id));
      if (!info.enabled || !state.services.length || !info.days.length) state.step = "off";
    } catch (err) {
      state.error = B.errorText(err).text;
    }
    render();
  }

  function go(step) {
    state.step = step;
    state.error = "";
    state.alternatives = [];
    state.resent = false;
    render();
    window.scrollTo(0, 0);
    if (step === "slot" && state.day) loadSlots(state.day);
  }

  function choice(label, sub, onclick, opts) {
    opts = opts || {};
    return el("button", { type: "button", class: "choice" + (opts.chosen ? " chosen-one" : ""), onclick,
                          disabled: !!opts.disabled, "data-id": opts.id },
              el("span", { class: "choice-main", text: label }), sub ? el("span", { class: "choice-sub", text: sub }) : null);
  }

  async function loadSlots(day) {
    state.slots = null;
    render();
    try {
      const out = await api("GET", "/booking/slots?service=" + encodeURIComponent(state.service.id) + "&date=" + day);
      if (state.day === day) state.slots = out.slots || [];
    } catch (err) {
      state.slots = [];
      state.error = B.errorText(err).text;
    }
    render();
  }

  function slotButton(s) {
    const full = !(s.left > 0);
    return choice(s.start + "–" + s.end, full ? t("full") : t("left", { n: s.left }), () => {
      state.slot = s;
      go("identity");
    }, { disabled: full, id: s.start, chosen: state.slot && state.slot.start === s.start });
  }

  function renderChosen() {
    const rows = [];
    const back = (step, label, value) => rows.push(el("li", {}, el("span", { class: "chosen-label", text: label }),
      el("button", { type: "button", class: "link", text: value, onclick: () => go(step),
                     disabled: state.step === "done" || state.busy })));
    if (state.dept && STEPS.indexOf(state.step) > 0) back("dept", t("f_dept"), pick(state.dept, "name"));
    if (state.service && STEPS.indexOf(state.step) > 1) back("service", t("f_service"), pick(state.service, "name"));
    if (state.day && STEPS.indexOf(state.step) > 2) back("day", t("f_day"), B.dayText(state.day));
    if (state.slot && STEPS.indexOf(state.step) > 3) back("slot", t("f_time"), state.slot.start + "–" + state.slot.end);
    $("chosen").replaceChildren(...rows);
    $("chosen").hidden = !rows.length || state.step === "done";
  }

  function render() {
    for (const s of ["off", ...STEPS]) $("step-" + s).hidden = state.step !== s;
    renderChosen();
    const errBox = $("error");
    errBox.replaceChildren(state.error ? el("p", { text: state.error }) : "",
                           ...state.alternatives.map(slotButton));
    errBox.hidden = !state.error;
    const i = STEPS.indexOf(state.step);
    $("back").hidden = i <= 0 || state.step === "done" || state.step === "off";
    $("restart").hidden = state.step !== "done";
    if (state.step === "dept") {
      $("depts").replaceChildren(...state.departments.map((d) => choice(pick(d, "name"), null, () => {
        state.dept = d; state.service = null; go("service");
      }, { id: d.id, chosen: state.dept === d })));
      if (!state.departments.length && !state.error) $("depts").replaceChildren(el("p", { class: "hint", text: t("loading") }));
    } else if (state.step === "service") {
      const mine = state.services.filter((s) => s.department === state.dept.id);
      $("services").replaceChildren(...(mine.length ? mine.map((s) => choice(pick(s, "name"), null, () => {
        state.service = s; state.day = null; state.slot = null; go("day");
      }, { id: s.id, chosen: state.service === s })) : [el("p", { class: "hint", text: t("no_services") })]));
    } else if (state.step === "day") {
      $("days").replaceChildren(...state.info.days.map((d) => choice(B.dayText(d), d === PAGE.today ? t("today") : null, () => {
        state.day = d; state.slot = null; go("slot");
      }, { id: d, chosen: state.day === d })));
    } else if (state.step === "slot") {
      // today's slots already begun are gone (the server gives them no place left): not shown
      const slots = state.slots && state.slots.filter((s) => state.day !== PAGE.today || s.start > PAGE.now);
      $("slots").replaceChildren(...(slots === null ? [el("p", { class: "hint", text: t("loading") })]
        : slots.length ? slots.map(slotButton) : [el("p", { class: "hint", text: t("no_slots") })]));
    } else if (state.step === "identity") {
      $("send").disabled = state.busy;
    } else if (state.step === "otp") {
      $("otp-sent").textContent = t("otp_sent", { phone: state.phone });
      $("confirm").disabled = state.busy;
      $("resend").disabled = state.busy;
      $("resent").textContent = state.resent ? t("resent", { phone: state.phone }) : "";
      $("resent").hidden = !state.resent;
      Q.$('label[for="otp"]').textContent = t("otp_label", { n: state.info.otp_digits });
    } else if (state.step === "done") {
      renderDone();
    }
  }

  function renderDone() {
    const d = state.done;
    $("code").textContent = d.code;
    $("qr").src = d.qr;
    $("qr").alt = t("your_code") + " " + d.code;
    $("done-service").textContent = pick(state.service, "name");
    $("done-day").textContent = B.dayText(d.date);
    $("done-time").textContent = d.start + "–" + d.end;
    $("done-arrive").textContent = d.arrive_from + "–" + d.arrive_until;
    $("how").textContent = t("how", { code: d.code, from: d.arrive_from, until: d.arrive_until });
    const link = $("status-link");
    // the server's address of the status page, opened on this same site
    link.href = new URL(d.status_url, location.href).pathname + (Q.lang === "en" ? "?lang=en" : "");
  }

  // ------------------------------------------------------------------ a refusal and what it offers
  async function refused(err, fieldStep) {
    const said = B.errorText(err);
    if (err.code === "slot_full") {
      // the slot filled while the công dân typed: the next free slots of the same day, from a fresh list
      const wanted = state.slot ? state.slot.start : "";
      try {
        const out = await api("GET", "/booking/slots?service=" + encodeURIComponent(state.service.id) + "&date=" + state.day);
        state.slots = out.slots || [];
      } catch (e) { state.slots = []; }
      const free = state.slots.filter((s) => s.left > 0);
      const after = free.filter((s) => s.start > wanted);
      state.alternatives = (after.length ? after : free).slice(0, 3);
      state.step = "slot";
      state.error = state.alternatives.length ? t("slot_full") : t("slot_full_none");
    } else if (err.code === "otp_attempts" || err.code === "otp_expired" || (err.code === "booking_state" && state.step === "otp")) {
      // the code is used up: the form again, filled, for a new code
      state.error = said.text;
      state.bookingId = null;
      state.step = "identity";
    } else if (said.field && ["cccd", "phone", "otp"].includes(said.field) && fieldStep) {
      B.fieldError(said.field, said.text);
    } else {
      state.error = said.text;
    }
    render();
  }

  // ------------------------------------------------------------------ the forms
  $("identity-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const cccdProblem = B.cccdProblem($("cccd").value), phoneProblem = B.phoneProblem($("phone").value);
    B.fieldError("cccd", cccdProblem ? t(cccdProblem) : "");
    B.fieldError("phone", phoneProblem ? t(phoneProblem) : "");
    if (cccdProblem || phoneProblem || state.busy) return;
    const asked = { service: state.service.id, date: state.day, start: state.slot.start,
                    cccd: B.cccd($("cccd").value), phone: B.phone($("phone").value) };
    const key = JSON.stringify(asked);
    if (state.bookingId && state.pendingKey === key) {
      // back from the code's step with nothing changed: the place held and the code sent stay good
      go("otp");
      return;
    }
    state.busy = true; state.error = ""; render();
    try {
      const out = await api("POST", "/bookings", Object.assign({ lang: Q.lang }, asked));
      state.bookingId = out.booking_id;
      state.pendingKey = key;
      state.phone = B.phone($("phone").value);
      state.busy = false;
      $("otp").value = "";
      B.fieldError("otp", "");
      go("otp");
      $("otp").focus();
    } catch (err) {
      state.busy = false;
      await refused(err, true);
    }
  });

  $("otp-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const otp = String($("otp").value || "").replace(/\s/g, "");
    const form = new RegExp("^\\d{" + state.info.otp_digits + "}$");
    B.fieldError("otp", form.test(otp) ? "" : t("otp_form", { n: state.info.otp_digits }));
    if (!form.test(otp) || state.busy) return;
    state.busy = true; state.error = ""; render();
    try {
      state.done = await api("POST", "/bookings/" + encodeURIComponent(state.bookingId) + "/confirm", { otp });
      state.busy = false;
      $("cccd").value = "";  // nothing of the identity stays in the page once booked
      go("done");
    } catch (err) {
      state.busy = false;
      await refused(err, true);
    }
  });

  $("resend").addEventListener("click", async () => {
    if (state.busy) return;
    state.busy = true; state.error = ""; state.resent = false; render();
    try {
      await api("POST", "/bookings/" + encodeURIComponent(state.bookingId) + "/resend", {});
      state.resent = true;
    } catch (err) {
      state.busy = false;
      return refused(err, false);
    }
    state.busy = false;
    render();
  });

  $("back").addEventListener("click", () => {
    const i = STEPS.indexOf(state.step);
    const prev = STEPS[Math.max(0, i - 1)];
    go(prev === "otp" ? "identity" : prev);
  });
  $("restart").addEventListener("click", () => {
    Object.assign(state, { dept: null, service: null, day: null, slot: null, slots: null, bookingId: null, done: null });
    go("dept");
  });

  B.setupLang(render);
  load();
})();
