/* The ticket machine page: departments -> services -> ticket, or search the procedure catalogue.
 *
 * The kiosk's device token is never sent by the server in this page. It arrives once in the address
 * (?token=..., e.g. in the kiosk browser's start URL) or is typed on the setup screen; the page checks it
 * with GET /api/v1/me, keeps it in localStorage and removes it from the address bar.
 */
(function () {
  "use strict";
  const PAGE = JSON.parse(document.getElementById("page").textContent);
  const K = PAGE.kiosk;
  const { el, fill, pick, reasonText } = window.QMS;
  const TOKEN_KEY = "qms.kiosk.token." + K.id;
  const $ = (id) => document.getElementById(id);

  const STRINGS = {
    vi: {
      choose_department: "Chọn cơ quan, đơn vị giải quyết", choose_service: "Chạm vào dịch vụ để lấy số thứ tự",
      search_placeholder: "Tìm thủ tục theo tên hoặc mã (ví dụ: dang ky khai sinh, 1.001193)",
      search_input: "Nhập tên hoặc mã thủ tục", back: "← Quay lại", clear: "Xóa", done: "Xong",
      waiting: "Đang chờ", people: "người", est: "Chờ khoảng {n} phút", services_open: "{open}/{total} dịch vụ đang nhận số",
      dept_closed: "Tạm ngừng nhận số", your_number: "Số thứ tự của bạn",
      ahead: "Số người đang chờ trước bạn: {n}", est_wait: "Thời gian chờ dự kiến: khoảng {n} phút",
      soon: "Bạn sắp được gọi, vui lòng chú ý màn hình", qr_hint: "Quét mã QR để theo dõi số thứ tự trên điện thoại",
      returning: "Tự động quay lại màn hình chính sau {n} giây", issuing: "Đang lấy số…",
      print_queued: "Đang chờ in phiếu…", print_printing: "Đang in phiếu…",
      print_printed: "Đã in xong — mời nhận phiếu", print_failed: "Máy in lỗi: {reason}", reprint: "In lại",
      reprint_sent: "Đã gửi lệnh in lại…", offline: "Mất kết nối với máy chủ — đang kết nối lại…",
      setup_title: "Cài đặt máy lấy số",
      setup_help: "Nhập mã thiết bị (token) của máy lấy số này: trong config.yaml (mục devices.kiosks) hoặc tạo bằng lệnh “qms device-token kiosk <mã máy>”.",
      setup_save: "Lưu", setup_bad: "Mã thiết bị không đúng cho máy lấy số này.",
      no_results: "Không tìm thấy thủ tục phù hợp. Hãy thử từ khóa khác, hoặc quay lại và chọn cơ quan.",
      results: "{n} thủ tục phù hợp", results_more: "{n} thủ tục phù hợp — {shown} thủ tục đầu tiên; gõ thêm để thu hẹp", type_more: "Gõ tên thủ tục (không cần dấu) hoặc mã thủ tục",
      error_title: "Không lấy được số", network_error: "Không kết nối được máy chủ. Vui lòng thử lại.",
      ok: "Đóng", processing: "Thời hạn: {t}", fee: "Phí, lệ phí: {f}", queue_in: "Lấy số: {s}",
    },
    en: {
      choose_department: "Choose a department", choose_service: "Touch a service to take a number",
      search_placeholder: "Search a procedure by name or code (e.g. birth registration, 1.001193)",
      search_input: "Type a procedure name or code", back: "← Back", clear: "Clear", done: "Done",
      waiting: "Waiting", people: "people", est: "About {n} min wait", services_open: "{open}/{total} services issuing",
      dept_closed: "Not issuing now", your_number: "Your number",
      ahead: "People waiting ahead of you: {n}", est_wait: "Estimated wait: about {n} minutes",
      soon: "You will be called shortly; please watch the screen", qr_hint: "Scan the QR code to follow your number on your phone",
      returning: "Back to the start screen in {n} s", issuing: "Taking a number…",
      print_queued: "Waiting for the printer…", print_printing: "Printing your ticket…",
      print_printed: "Printed — please take your ticket", print_failed: "Printer error: {reason}", reprint: "Print again",
      reprint_sent: "Printing again…", offline: "No connection to the server — reconnecting…",
      setup_title: "Set up this ticket machine",
      setup_help: "Enter this kiosk's device token: from config.yaml (devices.kiosks) or made with “qms device-token kiosk <id>”.",
      setup_save: "Save", setup_bad: "This device token does not belong to this kiosk.",
      no_results: "No procedure found. Try other words, or go back and choose a department.",
      results: "{n} matching procedures", results_more: "{n} matching procedures — the first {shown}; type more to narrow", type_more: "Type a procedure name (accents not needed) or its code",
      error_title: "No ticket issued", network_error: "Cannot reach the server. Please try again.",
      ok: "Close", processing: "Processing time: {t}", fee: "Fees: {f}", queue_in: "Queue: {s}",
    },
  };

  const state = {
    lang: "vi", token: null, departments: [], services: {}, screen: "home", dept: null, ticket: null,
    procedure: null, busy: false, socket: null, lastTouch: Date.now(), searchSeq: 0, results: [],
    prints: new Map(), refreshTimer: null, refreshedAt: 0, catalogue: !!PAGE.catalogue, modalTimer: null, query: "",
  };
  const t = (key, values) => fill(STRINGS[state.lang][key] || STRINGS.vi[key] || key, values || {});

  // ------------------------------------------------------------------ screens and language
  function show(screen) {
    state.screen = screen;
    for (const s of ["setup", "home", "services", "search", "ticket"]) $("screen-" + s).hidden = s !== screen;
    touch();
    render();
  }

  function applyTexts() {
    document.documentElement.lang = state.lang;
    for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
    $("search-input").placeholder = t("search_input");
    $("centre-name").textContent = pick(PAGE.centre, "name", state.lang);
    $("kiosk-name").textContent = K.name || K.id;
    $("lang-vi").setAttribute("aria-pressed", String(state.lang === "vi"));
    $("lang-en").setAttribute("aria-pressed", String(state.lang === "en"));
  }

  function setLang(lang) {
    state.lang = lang;
    applyTexts();
    render();
    if (state.screen === "search" && state.query) search(state.query);
  }

  function render() {
    if (state.screen === "home") renderDepartments();
    else if (state.screen === "services") renderServices();
    else if (state.screen === "search") renderResults();
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
        [el("span", { class: "name", text: pick(d, "name", state.lang) }), el("span", { class: "meta", text: meta })]));
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
    const parts = [el("span", { class: "name", text: pick(svc, "name", state.lang) })];
    for (const line of extra || []) if (line) parts.push(el("span", { class: "meta", text: line }));
    if (off) parts.push(el("span", { class: "why", text: reasonText(svc, state.lang) }));
    else if (svc.estimated_wait_minutes) parts.push(el("span", { class: "meta", text: t("est", { n: svc.estimated_wait_minutes }) }));
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
    $("dept-title").textContent = pick(d, "name", state.lang);
    for (const id of d.services) {
      const svc = state.services[id];
      if (svc) box.appendChild(serviceButton(svc, [], () => issue(id, null)));
    }
  }

  // ------------------------------------------------------------------ search (the catalogue)
  const KEYS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm."];

  function buildKeyboard() {
    const kb = $("keyboard");
    for (const row of KEYS) {
      kb.appendChild(el("div", { class: "row" }, [...row].map((ch) =>
        el("button", { type: "button", "data-key": ch, text: ch, onclick: () => typeKey(ch) }))));
    }
    kb.appendChild(el("div", { class: "row" }, [
      el("button", { type: "button", class: "wide", "data-key": "space", text: "␣", onclick: () => typeKey(" ") }),
      el("button", { type: "button", class: "wide", "data-key": "backspace", text: "⌫", onclick: () => typeKey("\b") }),
    ]));
  }

  function typeKey(ch) {
    const input = $("search-input");
    input.value = ch === "\b" ? input.value.slice(0, -1) : input.value + ch;
    onQuery();
  }

  let searchTimer = null;
  function onQuery() {
    touch();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search($("search-input").value), 120);
  }

  async function search(q) {
    state.query = q;
    const seq = ++state.searchSeq;
    if (!q.trim()) {
      state.results = [];
      $("search-status").textContent = t("type_more");
      renderResults();
      return;
    }
    try {
      const r = await fetch("/api/v1/procedures?limit=20&kiosk=" + encodeURIComponent(K.id) + "&q=" + encodeURIComponent(q),
                            { headers: { "Accept-Language": state.lang } });
      const body = await r.json();
      if (seq !== state.searchSeq) return;  // a newer query is on its way
      state.results = r.ok ? body.procedures : [];
      $("search-status").textContent = r.ok ? (!body.count ? t("no_results") : body.matches > body.count
        ? t("results_more", { n: body.matches, shown: body.count }) : t("results", { n: body.count })) : (body.message || "");
      for (const p of state.results) {
        if (!state.services[p.service]) {
          state.services[p.service] = { id: p.service, name: p.service_name, name_en: p.service_name_en, state: p.state,
                                        reason: p.reason, opens_at: p.opens_at, waiting: p.waiting,
                                        estimated_wait_minutes: p.estimated_wait_minutes };
        }
      }
      renderResults();
    } catch (e) {
      if (seq === state.searchSeq) $("search-status").textContent = t("network_error");
    }
  }

  function renderResults() {
    const box = $("search-results");
    box.replaceChildren();
    for (const p of state.results) {
      const live = state.services[p.service] || p;
      const svc = Object.assign({}, live, { id: p.service, name: p.name, name_en: p.name_en });
      const dept = pick(p, "department_name", state.lang);
      const extra = [p.code + (p.field ? " · " + p.field : ""),
                     t("queue_in", { s: pick({ name: p.service_name, name_en: p.service_name_en }, "name", state.lang) + " — " + dept }),
                     p.processing_time ? t("processing", { t: p.processing_time }) + (p.fee ? " · " + t("fee", { f: p.fee }) : "") : ""];
      const b = serviceButton(svc, extra, () => issue(p.service, p));
      b.dataset.procedure = p.code;
      b.dataset.service = p.service;
      box.appendChild(b);
    }
  }

  // ------------------------------------------------------------------ issuing and the ticket
  async function issue(serviceId, procedure) {
    if (state.busy) return;
    state.busy = true;
    $("busy").hidden = false;
    try {
      const r = await fetch("/api/v1/tickets", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Authorization": "Bearer " + state.token, "Accept-Language": state.lang },
        body: JSON.stringify({ service: serviceId }),
      });
      const body = await r.json().catch(() => ({}));
      if (r.status === 201) {
        state.ticket = body;
        state.procedure = procedure;
        show("ticket");
      } else if (r.status === 401) {
        forgetToken(t("setup_bad"));
      } else {
        showError(body.message || t("network_error"));
        refreshServices();
      }
    } catch (e) {
      showError(t("network_error"));
    } finally {
      state.busy = false;
      $("busy").hidden = true;
    }
  }

  function renderTicket() {
    const tk = state.ticket;
    if (!tk) return;
    $("ticket-code").textContent = tk.code;
    $("ticket-service").textContent = pick(tk, "service_name", state.lang);
    $("ticket-department").textContent = pick(tk, "department_name", state.lang);
    $("ticket-procedure").textContent = state.procedure ? pick(state.procedure, "name", state.lang) + " (" + state.procedure.code + ")" : "";
    $("ticket-ahead").textContent = t("ahead", { n: tk.waiting_ahead ?? 0 });
    $("ticket-wait").textContent = tk.waiting_ahead ? t("est_wait", { n: tk.estimated_wait_minutes ?? "?" }) : t("soon");
    const qr = "/t/" + encodeURIComponent(tk.token) + "/qr.svg";
    if ($("ticket-qr").getAttribute("src") !== qr) $("ticket-qr").setAttribute("src", qr);
    $("ticket-footer").textContent = state.lang === "en" ? PAGE.footer_en : PAGE.footer;
    renderPrint();
  }

  // print.status {ticket_id, kiosk, state: queued|printing|printed|failed, reason, message, message_en, reprint}
  // from the print jobs (ticket_printer/jobs.py).
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
    const why = (state.lang === "en" ? ev.message_en : ev.message) || ev.message || ev.reason || "?";
    box.textContent = ev.state === "failed" ? t("print_failed", { reason: why }) : t("print_" + ev.state);
  }

  async function reprint() {
    const tk = state.ticket;
    if (!tk || state.busy) return;
    state.busy = true;
    try {
      const r = await fetch("/api/v1/tickets/" + tk.id + "/reprint", {
        method: "POST", headers: { "Authorization": "Bearer " + state.token, "Accept-Language": state.lang },
      });
      const body = await r.json().catch(() => ({}));
      if (r.ok) {
        if ((state.prints.get(tk.id) || {}).state === "failed") {
          state.prints.set(tk.id, { ticket_id: tk.id, state: "queued", reprint: true });
        }
        renderPrint();
      } else {
        showError(body.message || t("network_error"));
      }
    } catch (e) {
      showError(t("network_error"));
    } finally {
      state.busy = false;
    }
  }

  // ------------------------------------------------------------------ idle timeout
  function touch() { state.lastTouch = Date.now(); }

  function tick() {
    $("clock").textContent = window.QMS.clock(PAGE.centre.timezone, state.lang, false);
    const resting = state.screen === "home" || state.screen === "setup";
    if (resting) return;
    const left = Math.ceil((K.idle_seconds * 1000 - (Date.now() - state.lastTouch)) / 1000);
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
    show("home");
  }

  // ------------------------------------------------------------------ errors
  function showError(text) {
    $("modal-title").textContent = t("error_title");
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
      const r = await fetch("/api/v1/services", { headers: { "Accept-Language": state.lang } });
      if (!r.ok) return;
      setServices((await r.json()).services);
      state.refreshedAt = Date.now();
      render();
    } catch (e) { /* the socket banner says we are offline */ }
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshServices, 300);
  }

  function connect() {
    if (state.socket) state.socket.disconnect();
    const socket = window.io({ auth: (cb) => cb({ room: "kiosk:" + K.id, token: state.token, lang: state.lang }) });
    state.socket = socket;
    socket.on("connect", () => banner(""));
    socket.on("disconnect", () => banner(t("offline")));
    socket.on("connect_error", (err) => {
      const code = err && err.data && err.data.error;
      if (code === "unauthenticated") { socket.disconnect(); forgetToken(t("setup_bad")); return; }
      banner(t("offline"));
    });
    socket.on("snapshot", (msg) => {
      const st = (msg && msg.state) || {};
      if (st.departments) state.departments = st.departments;
      if (st.services) setServices(st.services);
      render();
    });
    socket.on("queue.updated", (msg) => {
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
    });
    socket.on("print.status", onPrintStatus);
  }

  // ------------------------------------------------------------------ the token
  async function checkToken(token) {
    try {
      const r = await fetch("/api/v1/me", { headers: { "Authorization": "Bearer " + token } });
      if (r.status === 401) return false;
      if (!r.ok) return null;
      const me = await r.json();
      return me.kind === "device" && me.device_kind === "kiosk" && me.device_id === K.id;
    } catch (e) {
      return null;  // the server cannot be reached: keep the token and try again later
    }
  }

  function forgetToken(message) {
    localStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    $("setup-error").textContent = message || "";
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
    buildKeyboard();
    const url = new URL(window.location.href);
    const fromUrl = url.searchParams.get("token");
    if (fromUrl !== null) {
      url.searchParams.delete("token");  // not left in the address bar or the history
      window.history.replaceState(null, "", url.pathname + (url.search || "") + url.hash);
    }
    if (url.searchParams.get("lang") === "en") state.lang = "en";
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
    $("search-input").addEventListener("input", onQuery);
    $("search-clear").addEventListener("click", () => { $("search-input").value = ""; onQuery(); });
    $("ticket-done").addEventListener("click", goHome);
    $("reprint").addEventListener("click", reprint);
    $("modal-ok").addEventListener("click", () => { $("modal").hidden = true; });
    $("setup-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const token = $("setup-token").value.trim();
      $("setup-token").value = "";
      $("setup-error").textContent = "";
      if (token) useToken(token);
    });
    setInterval(tick, 250);
    setInterval(refreshServices, 30000);  // opening hours change with the clock, not with events
    tick();

    const token = fromUrl || localStorage.getItem(TOKEN_KEY);
    if (token) useToken(token);
    else show("setup");
  }

  start();
})();
