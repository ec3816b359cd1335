/* The ticket machine page: departments -> services -> ticket, or search the procedure catalogue.
 *
 * The kiosk's device token is never sent by the server in this page. It arrives once in the address
 * (?token=..., e.g. in the kiosk browser's start URL) or is typed on the setup screen (kiosk-setup.js: behind
 * the kiosk's staff PIN; citizens see "Máy đang bảo trì"); the page checks it with GET /api/v1/me, keeps it in
 * localStorage and removes it from the address bar. Every return to the start screen is in Vietnamese.
 * Its words (Vietnamese, English) are in kiosk-words.js.
 */
(function () {
  "use strict";
  const Q = window.QMS;
  const PAGE = Q.page();
  const K = PAGE.kiosk;
  const { el, pick, t } = Q;
  const TOKEN_KEY = "qms.kiosk.token." + K.id;
  const $ = Q.byId;

  const state = {
    token: null, departments: [], services: {}, screen: "home", dept: null, ticket: null,
    procedure: null, busy: false, live: null, lastTouch: Date.now(), searchSeq: 0, results: [],
    prints: new Map(), refreshTimer: null, refreshedAt: 0, catalogue: !!PAGE.catalogue, modalTimer: null, query: "",
  };
  const hooks = { ticket: [], home: [] };  // the plug-ins' own lines on the ticket, their reset at "home"

  // ------------------------------------------------------------------ screens and language
  function show(screen) {
    state.screen = screen;
    for (const s of ["setup", "home", "services", "search", "ticket"]) $("screen-" + s).hidden = s !== screen;
    touch();
    render();
  }

  function applyTexts() {
    Q.applyI18n();
    $("search-input").placeholder = t("search_input");
    $("centre-name").textContent = pick(PAGE.centre, "name");
    $("kiosk-name").textContent = pick(K, "name") || K.id;
    $("lang-vi").setAttribute("aria-pressed", String(Q.lang === "vi"));
    $("lang-en").setAttribute("aria-pressed", String(Q.lang === "en"));
  }

  function setLang(lang) {
    Q.setLang(lang);
    applyTexts();
    render();
    if (state.screen === "search" && state.query) finder.search(state.query);
  }

  function render() {
    if (state.screen === "home") renderDepartments();
    else if (state.screen === "services") renderServices();
    else if (state.screen === "search") finder.render();
    else if (state.screen === "ticket") renderTicket();
  }

  // ------------------------------------------------------------------ departments and services
  function visibleDepartments() {
    const only = K.departments.length ? new Set(K.departments) : null;
    return state.departments.filter((d) => !only || only.has(d.id));
  }

  function renderDepartments() {
    const box = $("departments");
    box.replaceChildren();
    for (const d of visibleDepartments()) {
      const svcs = d.services.map((id) => state.services[id]).filter(Boolean);
      const open = svcs.filter((s) => s.state === "open");
      const waiting = svcs.reduce((n, s) => n + (s.waiting || 0), 0);
      const meta = open.length
        ? t("services_open", { open: open.length, total: svcs.length }) + " · " + t("waiting") + ": " + waiting
        : t("dept_closed");
      box.appendChild(el("button", { type: "button", class: "tile" + (open.length ? "" : " off"), "data-department": d.id,
                                     onclick: () => openDepartment(d.id) },
        [el("span", { class: "name", text: pick(d, "name") }), el("span", { class: "meta", text: meta })]));
    }
  }

  function openDepartment(id) {
    state.dept = id;
    show("services");
  }

  function serviceButton(svc, extra, onpick) {
    const off = svc.state !== "open";
    const side = el("span", { class: "side" }, [
      el("span", { class: "n", text: String(svc.waiting || 0) }), t("waiting").toLowerCase()]);
    const parts = [el("span", { class: "name", text: pick(svc, "name") })];
    for (const line of extra || []) if (line) parts.push(el("span", { class: "meta", text: line }));
    if (off) parts.push(el("span", { class: "why", text: Q.reasonText(svc, Q.lang) }));
    else if (svc.wait && svc.wait.short) parts.push(el("span", { class: "meta wait", "data-wait": svc.wait.state,
                                                          text: svc.wait.short[Q.lang === "en" ? "en" : "vi"] }));
    parts.push(side);
    return el("button", { type: "button", class: "item" + (off ? " off" : ""), "data-service": svc.id,
                          "data-state": svc.state, "aria-disabled": off ? "true" : null,
                          onclick: () => { if (!off) onpick(); } }, parts);
  }

  function renderServices() {
    const d = state.departments.find((x) => x.id === state.dept);
    const box = $("services");
    box.replaceChildren();
    if (!d) return;
    $("dept-title").textContent = pick(d, "name");
    for (const id of d.services) {
      const svc = state.services[id];
      if (svc) box.appendChild(serviceButton(svc, [], () => issue(id, null)));
    }
  }

  const finder = Q.kioskSearch({ kiosk: K, state, serviceButton, issue: (id, p) => issue(id, p), touch: () => touch(),
                                 explain: (title, text) => showMessage(title, text) });
  const setup = Q.kioskSetup({ kiosk: K, demo: !!PAGE.demo, useToken: (token) => useToken(token), touch: () => touch() });
  if (Q.kioskDossier) Q.kioskDossier({ kiosk: K, state, issue: (id, p, o) => issue(id, p, o), touch: () => touch() });  // kiosk-dossier.js
  if (Q.kioskCheckin) Q.kioskCheckin({ kiosk: K, page: PAGE, state, hooks, issue: (id, p, o) => issue(id, p, o), touch: () => touch(),
                                       show: (s) => show(s), showTicket: (tk) => { state.ticket = tk; state.procedure = null; show("ticket"); },
                                       goHome: () => goHome(), showError: (text) => showError(text) });  // kiosk-checkin.js

  // ------------------------------------------------------------------ issuing and the ticket
  // opts: {body: more fields (a card's cccd_qr), refused(err): true when the caller explains the refusal itself}
  async function issue(serviceId, procedure, opts) {
    if (state.busy) return;
    opts = opts || (hooks.issue && hooks.issue(serviceId));  // a citizen ID card held for this choice (kiosk-checkin.js)
    state.busy = true;
    $("busy").hidden = false;
    try {
      state.ticket = await Q.api("POST", "/tickets", Object.assign({ service: serviceId }, (opts || {}).body), { token: state.token });
      state.procedure = procedure;
      show("ticket");
    } catch (e) {
      if (e.status === 401) forgetToken(t("setup_bad"));
      else if (!(opts && opts.refused && opts.refused(e))) showError(failure(e));
      if (e.status && e.status !== 401) refreshServices();
    } finally {
      state.busy = false;
      $("busy").hidden = true;
    }
  }

  function renderTicket() {
    const tk = state.ticket;
    if (!tk) return;
    $("ticket-code").textContent = tk.code;
    $("ticket-service").textContent = pick(tk, "service_name");
    $("ticket-department").textContent = pick(tk, "department_name");
    $("ticket-procedure").textContent = state.procedure ? pick(state.procedure, "name") + " (" + state.procedure.code + ")" : "";
    $("ticket-ahead").textContent = t("ahead", { n: tk.waiting_ahead ?? 0 });
    // the estimate's one honest sentence (core/estimate.py): a range, "next", or no counter open
    $("ticket-wait").textContent = tk.wait && tk.wait.text ? tk.wait.text[Q.lang === "en" ? "en" : "vi"] : "";
    $("ticket-wait").dataset.wait = tk.wait ? tk.wait.state : "";
    const qr = "/t/" + encodeURIComponent(tk.token) + "/qr.svg";
    if ($("ticket-qr").getAttribute("src") !== qr) $("ticket-qr").setAttribute("src", qr);
    $("ticket-footer").textContent = Q.lang === "en" ? PAGE.footer_en : PAGE.footer;
    for (const f of hooks.ticket) f(tk);
    renderPrint();
  }

  // print.status {ticket_id, kiosk, state: queued|printing|printed|failed, reason, message, message_en, reprint}
  // from the print jobs (ticket_printer/server/jobs.py).
  // A kiosk with no printer gets none: the ticket is simply shown.
  function onPrintStatus(ev) {
    if (!ev || ev.ticket_id === undefined) return;
    state.prints.set(ev.ticket_id, ev);
    if (state.prints.size > 20) state.prints.delete(state.prints.keys().next().value);
    if (state.ticket && state.ticket.id === ev.ticket_id) {
      if (ev.state === "failed") touch();  // give the citizen time to press "In lại"
      renderPrint();
    }
  }

  function renderPrint() {
    const box = $("print-status");
    const ev = state.ticket && state.prints.get(state.ticket.id);
    $("reprint").hidden = !(ev && ev.state === "failed");
    if (!ev) { box.hidden = true; return; }
    box.hidden = false;
    box.className = "print-status " + ev.state;
    box.dataset.state = ev.state;
    const why = (Q.lang === "en" ? ev.message_en : ev.message) || ev.message || ev.reason || "?";
    box.textContent = ev.state === "failed" ? t("print_failed", { reason: why }) : t("print_" + ev.state);
    const others = ev.state === "failed" && ev.printer_down ? (ev.other_kiosks || []).map((k) => k.name || k.id) : [];
    if (others.length) box.textContent += " " + t("print_elsewhere", { kiosks: others.join(", ") });
  }

  async function reprint() {
    const tk = state.ticket;
    if (!tk || state.busy) return;
    state.busy = true;
    try {
      const job = ((await Q.api("POST", "/tickets/" + tk.id + "/reprint", undefined, { token: state.token })) || {}).job || {};
      const now = state.prints.get(tk.id) || {};
      if (now.state === "failed" && now.job_id !== job.id) {  // the new job's own push may have come first
        state.prints.set(tk.id, { ticket_id: tk.id, job_id: job.id, state: "queued", reprint: true });
      }
      renderPrint();
    } catch (e) {
      showError(failure(e));
    } finally {
      state.busy = false;
    }
  }

  // ------------------------------------------------------------------ idle timeout
  function touch() { state.lastTouch = Date.now(); }

  function tick() {
    $("clock").textContent = Q.clock(PAGE.centre.timezone, Q.lang, false);
    const left = Math.ceil((K.idle_seconds * 1000 - (Date.now() - state.lastTouch)) / 1000);
    if (state.screen === "setup") {  // staff left the PIN or token form open: back to the notice
      if (left <= 0 && setup.open()) { setup.reset(); touch(); }
      return;
    }
    if (state.screen === "home") {
      if (left <= 0 && Q.lang !== "vi") setLang("vi");  // the next citizen starts in Vietnamese
      return;
    }
    if (state.screen === "ticket") $("ticket-countdown").textContent = t("returning", { n: Math.max(0, left) });
    if (left <= 0) goHome();
  }

  function goHome() {
    $("search-input").value = "";
    state.query = "";
    state.results = [];
    state.ticket = null;
    state.procedure = null;
    state.dept = null;
    $("modal").hidden = true;
    for (const f of hooks.home) f();
    if (Q.lang !== "vi") setLang("vi");  // the next citizen starts in Vietnamese
    show("home");
  }

  // ------------------------------------------------------------------ errors
  /** The server's own words for a refusal; "cannot reach the server" when there was no usable answer. */
  function failure(err) {
    return err.status && err.code !== "bad_response" ? err.message : t("network_error");
  }

  function showError(text) {
    showMessage(t("error_title"), text);
  }

  function showMessage(title, text) {
    $("modal-title").textContent = title;
    $("modal-text").textContent = text;
    $("modal").hidden = false;
    clearTimeout(state.modalTimer);
    state.modalTimer = setTimeout(() => { $("modal").hidden = true; }, 10000);
  }

  function banner(text) {
    $("banner").textContent = text || "";
    $("banner").hidden = !text;
  }

  // ------------------------------------------------------------------ live state
  function setServices(list) {
    for (const s of list) state.services[s.id] = Object.assign(state.services[s.id] || {}, s);
  }

  // No catalogue imported: no search button, until one is (checked with the periodic refresh).
  async function checkCatalogue() {
    if (state.catalogue) return;
    try {
      const r = await fetch("/api/v1/procedures?limit=1");
      if (r.ok && (await r.json()).total > 0) state.catalogue = true;
    } catch (e) { /* offline */ }
    $("search-open").hidden = !state.catalogue;
  }

  async function refreshServices() {
    checkCatalogue();
    try {
      setServices((await Q.api("GET", "/services", undefined, { token: null })).services);
      state.refreshedAt = Date.now();
      render();
    } catch (e) { /* the socket banner says we are offline */ }
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshServices, 300);
  }

  function connect() {
    if (state.live) state.live.close();
    state.live = Q.live({
      room: "kiosk:" + K.id, token: () => state.token, lang: () => Q.lang, io: { reconnectionDelay: 1000 },
      onState: (s) => banner(s === "offline" ? t("offline") : ""),
      onRefused: (code) => {
        if (code !== "unauthenticated") return false;
        forgetToken(t("setup_bad"));
        return true;
      },
      on: {
        snapshot: (msg) => {
          const st = (msg && msg.state) || {};
          if (st.departments) state.departments = st.departments;
          if (st.services) setServices(st.services);
          render();
        },
        "queue.updated": (msg) => {
          let changed = false;
          for (const [id, q] of Object.entries((msg && msg.services) || {})) {
            const svc = state.services[id];
            if (!svc) continue;
            if (svc.state !== q.state || svc.reason !== q.reason) changed = true;
            Object.assign(svc, { waiting: q.waiting, state: q.state, reason: q.reason });
            if (q.state === "open") svc.opens_at = null;
          }
          render();
          // opens_at and the estimated waits come with the full service list: at once when a state changed,
          // else at most every 10 s.
          if (changed || Date.now() - state.refreshedAt > 10000) scheduleRefresh();
        },
        "print.status": onPrintStatus,
      },
    });
  }

  // ------------------------------------------------------------------ the token
  async function checkToken(token) {
    try {
      const me = await Q.api("GET", "/me", undefined, { token });
      return me.kind === "device" && me.device_kind === "kiosk" && me.device_id === K.id;
    } catch (e) {
      return e.status === 401 ? false : null;  // null: the server cannot be reached, keep the token and try later
    }
  }

  function forgetToken(message) {
    localStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (state.live) { state.live.close(); state.live = null; }
    $("setup-error").textContent = message || "";
    setup.reset(true);
    show("setup");
  }

  async function useToken(token) {
    const ok = await checkToken(token);
    if (ok === false) { forgetToken(t("setup_bad")); return; }
    localStorage.setItem(TOKEN_KEY, token);
    state.token = token;
    $("setup-error").textContent = "";
    connect();
    refreshServices();
    show("home");
  }

  function start() {
    $("search-open").hidden = !state.catalogue;
    applyTexts();
    finder.build();
    const fromUrl = Q.takeUrlToken();  // not left in the address bar or the history
    if (new URLSearchParams(window.location.search).get("lang") === "en") Q.setLang("en");
    applyTexts();

    for (const e of ["pointerdown", "keydown", "touchstart"]) document.addEventListener(e, touch, { passive: true });
    $("lang-vi").addEventListener("click", () => setLang("vi"));
    $("lang-en").addEventListener("click", () => setLang("en"));
    for (const b of document.querySelectorAll(".back")) {
      b.addEventListener("click", () => show("home"));
    }
    $("search-open").addEventListener("click", () => {
      show("search");
      $("search-status").textContent = t("type_more");
      $("search-input").focus();
    });
    $("search-input").addEventListener("input", finder.onQuery);
    $("search-clear").addEventListener("click", () => { $("search-input").value = ""; finder.onQuery(); });
    $("ticket-done").addEventListener("click", goHome);
    $("reprint").addEventListener("click", reprint);
    $("modal-ok").addEventListener("click", () => { $("modal").hidden = true; });
    setInterval(tick, 250);
    setInterval(refreshServices, 30000);  // opening hours change with the clock, not with events
    tick();

    const token = fromUrl || localStorage.getItem(TOKEN_KEY);
    if (token) useToken(token);
    else { setup.reset(); show("setup"); }
  }

  start();
})();
