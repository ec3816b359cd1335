/* The kiosk's dossier look-up (tra cứu hồ sơ): a citizen scans the receipt's barcode or QR code (a USB scanner
 * types the code, then Enter) or types the code on the on-screen keyboard; the kiosk shows the dossier's
 * status, procedure, dates and where to collect, the applicant's name masked (GET /api/v1/dossiers/<code>).
 * When the result is ready, one touch takes a ticket for the return-of-results service; when the dossier
 * system is down or slow the kiosk says so within 3 s and offers that ticket anyway.
 * The ticket carries the dossier's code (POST /tickets {dossier}), so the officer who calls it has it at once.
 * kiosk.js calls Q.kioskDossier({kiosk, state, issue(serviceId, procedure, opts), touch()}) once. */
(function () {
  "use strict";
  const Q = window.QMS;
  const { el, t, pick } = Q;
  const $ = Q.byId;
  const KEYS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM.-/"];
  const WAIT_MS = 2800;  // the answer, or "the system is not answering", within 3 s
  const SCAN_GAP_MS = 400;  // a scanner types fast; a longer pause starts a new code
  const CODE_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._\/-]{2,59}$/;  // a receipt's code, as the server checks it (core/dossiers.py)

  Q.words({
    dossier_open: "Tra cứu hồ sơ — quét mã trên phiếu hẹn hoặc nhập mã hồ sơ",
    dossier_title: "Tra cứu hồ sơ", dossier_hint: "Đưa mã vạch hoặc mã QR trên phiếu hẹn vào máy quét, hoặc nhập mã hồ sơ",
    dossier_find: "Tra cứu", dossier_searching: "Đang tra cứu hồ sơ {code}…",
    dossier_code: "Mã hồ sơ", dossier_procedure: "Thủ tục", dossier_applicant: "Người nộp",
    dossier_received: "Ngày tiếp nhận", dossier_appointment: "Ngày hẹn trả", dossier_collect: "Nơi nhận kết quả",
    dossier_take: "Lấy số nhận kết quả: {s}", dossier_take_anyway: "Lấy số nhận kết quả: {s}",
    dossier_down: "Hệ thống tra cứu hồ sơ đang không trả lời. Vui lòng thử lại sau, hoặc lấy số để cán bộ kiểm tra giúp.",
    dossier_collect_name: "Nhận kết quả hồ sơ",
  }, {
    dossier_open: "Look up a dossier — scan your receipt or type its code",
    dossier_title: "Dossier look-up", dossier_hint: "Hold the barcode or QR code of your receipt to the scanner, or type the dossier code",
    dossier_find: "Look up", dossier_searching: "Looking up dossier {code}…",
    dossier_code: "Dossier code", dossier_procedure: "Procedure", dossier_applicant: "Applicant",
    dossier_received: "Received", dossier_appointment: "Result due", dossier_collect: "Collect at",
    dossier_take: "Take a number to collect: {s}", dossier_take_anyway: "Take a number to collect: {s}",
    dossier_down: "The dossier system is not answering. Please try again later, or take a number and staff will check for you.",
    dossier_collect_name: "Collect the result of dossier",
  });

  function dateText(iso) {
    if (!iso) return "—";
    const [y, m, d] = iso.split("-");
    return d + "/" + m + "/" + y;
  }

  Q.kioskDossier = function (k) {
    const state = k.state;
    const me = { enabled: false, service: null, answer: null, code: "", seq: 0, scan: "", scanAt: 0 };
    const screen = el("section", { id: "screen-dossier", class: "screen dossier", hidden: true });
    const input = el("input", { id: "dossier-input", type: "text", autocomplete: "off", spellcheck: "false",
                                enterkeyhint: "search", "aria-label": "code" });
    const status = el("p", { id: "dossier-status", class: "hint", role: "status" });
    const result = el("div", { id: "dossier-result", class: "dossier-result" });
    const keyboard = el("div", { id: "dossier-keyboard", class: "keyboard", "aria-hidden": "true" });
    const back = el("button", { type: "button", class: "back", "data-t": "back", onclick: close });
    screen.append(
      el("div", { class: "bar" }, [back, input,
        el("button", { type: "button", id: "dossier-find", class: "clear", "data-t": "dossier_find", onclick: () => find(input.value) })]),
      el("p", { class: "hint", "data-t": "dossier_hint" }), status, result, keyboard);
    for (const row of KEYS) {
      keyboard.appendChild(el("div", { class: "row" }, [...row].map((ch) =>
        el("button", { type: "button", "data-key": ch, text: ch, onclick: () => { input.value += ch; k.touch(); } }))));
    }
    keyboard.appendChild(el("div", { class: "row" }, [
      el("button", { type: "button", class: "wide", "data-key": "backspace", "aria-label": t("backspace"),
                     onclick: () => { input.value = input.value.slice(0, -1); k.touch(); } }, Q.kioskIcon("backspace")),
    ]));
    const opener = el("button", { type: "button", id: "dossier-open", class: "search-open dossier-open", hidden: true,
                                  onclick: () => open("") },
      [Q.kioskIcon("receipt"), el("span", { "data-t": "dossier_open" })]);

    document.querySelector("main").appendChild(screen);
    $("search-open").after(opener);
    document.head.appendChild(el("link", { rel: "stylesheet", href: "/ticket-printer/static/kiosk-dossier.css" }));

    // Another screen shown by the kiosk (home after the idle timeout, the ticket) hides this one.
    new MutationObserver(() => {
      const other = [...document.querySelectorAll("main > .screen")].some((s) => s !== screen && !s.hidden);
      if (other && !screen.hidden) screen.hidden = true;
    }).observe(document.querySelector("main"), { subtree: true, attributes: true, attributeFilter: ["hidden"] });

    function open(code) {
      for (const s of document.querySelectorAll("main > .screen")) s.hidden = s !== screen;
      screen.hidden = false;
      state.screen = "dossier";
      k.touch();
      input.value = code || "";
      me.answer = null;
      status.textContent = "";
      result.replaceChildren();
      if (code) find(code);
      else input.focus();
    }

    function close() {
      me.seq++;
      $("screen-home").hidden = false;
      state.screen = "home";
    }

    async function find(raw) {
      const code = (raw || "").trim().toUpperCase();
      if (!code) return;
      const seq = ++me.seq;
      me.code = code;
      me.answer = { pending: true };
      input.value = code;
      render();
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), WAIT_MS);
      let answer;
      try {
        const r = await fetch("/api/v1/dossiers/" + encodeURIComponent(code),
                              { headers: Object.assign({ "Accept-Language": Q.lang }, state.token ? { Authorization: "Bearer " + state.token } : {}),
                                signal: ctrl.signal });
        const body = await r.json();
        answer = r.ok ? { dossier: body.dossier, service: body.return_service }
          : r.status === 503 ? { down: true } : { message: body.message || String(r.status) };
      } catch (e) {
        answer = { down: true };  // aborted after WAIT_MS, or no answer at all
      } finally {
        clearTimeout(timer);
      }
      if (seq !== me.seq) return;
      me.answer = answer;
      k.touch();
      render();
    }

    function row(label, value, id) {
      return el("div", { class: "row-line" }, [el("span", { class: "label", text: t(label) }),
                                               el("span", { class: "value", id, text: value || "—" })]);
    }

    function takeButton(service) {
      return el("button", { type: "button", id: "dossier-ticket", class: "dossier-ticket",
                             text: t("dossier_take", { s: pick(service, "name") }),
                             onclick: () => k.issue(service.id, { name: t("dossier_collect_name"), name_en: t("dossier_collect_name"), code: me.code },
                                                    // the code goes on the ticket: the officer who calls it has the dossier at once
                                                    CODE_SHAPE.test(me.code) ? { body: { dossier: me.code } } : undefined) });
    }

    function render() {
      const a = me.answer;
      result.replaceChildren();
      status.className = "hint";
      if (!a) { status.textContent = ""; return; }
      if (a.pending) { status.textContent = t("dossier_searching", { code: me.code }); return; }
      if (a.down) {
        status.textContent = t("dossier_down");
        status.className = "hint dossier-down";
        if (me.service) result.appendChild(takeButton(me.service));
        return;
      }
      if (a.message) { status.textContent = a.message; status.className = "hint dossier-missing"; return; }
      const d = a.dossier;
      status.textContent = "";
      result.append(el("div", { class: "dossier-card", "data-status": d.status }, [
        el("div", { id: "dossier-state", class: "dossier-state " + d.status, text: Q.lang === "en" ? d.status_text_en : d.status_text }),
        row("dossier_code", d.code, "dossier-code"), row("dossier_procedure", d.procedure, "dossier-procedure"),
        row("dossier_applicant", d.applicant, "dossier-applicant"),
        row("dossier_received", dateText(d.received), "dossier-received"),
        row("dossier_appointment", dateText(d.appointment), "dossier-appointment"),
        row("dossier_collect", d.collect_at, "dossier-collect"),
      ]));
      if (d.collectable && a.service) result.appendChild(takeButton(a.service));
    }

    // A scanner types the code and Enter, wherever the kiosk is waiting (not while a field has the focus).
    document.addEventListener("keydown", (ev) => {
      if (!me.enabled) return;
      if (ev.target === input) {
        if (ev.key === "Enter") { ev.preventDefault(); find(input.value); }
        return;
      }
      if (!["home", "services", "ticket", "dossier"].includes(state.screen)) return;
      if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement) return;
      const now = Date.now();
      if (now - me.scanAt > SCAN_GAP_MS) me.scan = "";
      me.scanAt = now;
      if (ev.key === "Enter") {
        const code = me.scan;
        me.scan = "";
        if (code.length >= 3) { ev.preventDefault(); open(code); }
      } else if (ev.key.length === 1) {
        me.scan += ev.key;
      }
    }, true);

    for (const id of ["lang-vi", "lang-en"]) $(id).addEventListener("click", () => setTimeout(render, 0));  // after kiosk.js set the language

    fetch("/api/v1/dossiers").then((r) => r.json()).then((setup) => {
      me.enabled = !!setup.enabled;
      me.service = setup.return_service || null;
      opener.hidden = !me.enabled;
      Q.applyI18n();
    }).catch(() => { /* no look-up while the server cannot be reached */ });

    return { open, find };
  };
})();
