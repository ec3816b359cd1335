/* The kiosk's search of the procedure catalogue: an on-screen keyboard, a query sent as the citizen types
 * (GET /api/v1/procedures), and the matches shown as service buttons that issue a ticket; a procedure handled
 * elsewhere says where to go and issues nothing. Also the kiosk's icons (inline SVG: no emoji font needed) and
 * its on-screen keys (Q.kioskKeys), used by the setup screen too. */
(function () {
  "use strict";
  const Q = window.QMS;
  const { el, t, pick } = Q;
  const $ = Q.byId;
  const KEYS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm."];

  Q.words({
    search_placeholder: "Tìm thủ tục theo tên hoặc mã (ví dụ: dang ky khai sinh, 1.001193)",
    search_input: "Nhập tên hoặc mã thủ tục", clear: "Xóa", space: "Dấu cách", backspace: "Xóa lùi", shift: "Chữ hoa",
    no_results: "Không tìm thấy thủ tục phù hợp. Hãy thử từ khóa khác, hoặc quay lại và chọn cơ quan.",
    results: "{n} thủ tục phù hợp", results_more: "{n} thủ tục phù hợp — {shown} thủ tục đầu tiên; gõ thêm để thu hẹp",
    type_more: "Gõ tên thủ tục (không cần dấu) hoặc mã thủ tục",
    processing: "Thời hạn: {t}", fee: "Phí, lệ phí: {f}", queue_in: "Lấy số: {s}",
    elsewhere_tag: "Không giải quyết tại Trung tâm", elsewhere_go: "Nơi giải quyết: {w}",
    elsewhere_title: "Thủ tục này không giải quyết tại Trung tâm",
    elsewhere_text: "{p}: công dân vui lòng đến {w}. Máy không cấp số cho thủ tục này.",
  }, {
    search_placeholder: "Search a procedure by name or code (e.g. birth registration, 1.001193)",
    search_input: "Type a procedure name or code", clear: "Clear", space: "Space", backspace: "Backspace", shift: "Capitals",
    no_results: "No procedure found. Try other words, or go back and choose a department.",
    results: "{n} matching procedures", results_more: "{n} matching procedures — the first {shown}; type more to narrow",
    type_more: "Type a procedure name (accents not needed) or its code",
    processing: "Processing time: {t}", fee: "Fees: {f}", queue_in: "Queue: {s}",
    elsewhere_tag: "Not handled at this centre", elsewhere_go: "Where to go: {w}",
    elsewhere_title: "This procedure is not handled at this centre",
    elsewhere_text: "{p}: please go to {w}. No ticket is issued for it here.",
  });

  // ------------------------------------------------------------------ icons
  const ICONS = {
    search: "M10 3a7 7 0 1 0 4.2 12.6l5.1 5.1 1.4-1.4-5.1-5.1A7 7 0 0 0 10 3zm0 2a5 5 0 1 1 0 10 5 5 0 0 1 0-10z",
    backspace: "M9 5h11a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H9l-6-7 6-7zm3.4 3L11 9.4l2.6 2.6-2.6 2.6 1.4 1.4 2.6-2.6 2.6 2.6 1.4-1.4-2.6-2.6 2.6-2.6L17.6 8 15 10.6 12.4 8z",
    shift: "M12 3l8 8h-5v8H9v-8H4l8-8z",
    gear: "M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7 7 0 0 0-1.7-1L15 3h-4l-.4 2.9a7 7 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7 7 0 0 0 1.7 1L11 21h4l.4-2.9a7 7 0 0 0 1.7-1l2.5 1 2-3.5-2.2-1.6zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z",
    place: "M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z",
    receipt: "M6 2h9l5 5v15H6V2zm8 1.5V8h4.5L14 3.5zM8.5 11v1.6h7V11h-7zm0 3.5v1.6h7v-1.6h-7zm0 3.5v1.6h4.5V18H8.5z",
  };
  /** An inline SVG icon (currentColor), sized by CSS (1em by default). */
  Q.kioskIcon = function (name) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "icon icon-" + name);
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  };

  /** On-screen keys in `box`: rows of characters, then the special keys listed in `specials` ("space",
   * "backspace", "shift"); onKey(ch) gets a character, " ", "\b", or the key's name. */
  Q.kioskKeys = function (box, rows, specials, onKey) {
    box.replaceChildren();
    for (const row of rows) {
      box.appendChild(el("div", { class: "row" }, [...row].map((ch) =>
        el("button", { type: "button", "data-key": ch, text: ch, onclick: () => onKey(ch) }))));
    }
    const special = {
      space: () => el("button", { type: "button", class: "wide", "data-key": "space", "data-t": "space", text: t("space"),
                                  onclick: () => onKey(" ") }),
      backspace: () => el("button", { type: "button", class: "wide", "data-key": "backspace", "aria-label": t("backspace"),
                                      onclick: () => onKey("\b") }, Q.kioskIcon("backspace")),
      shift: () => el("button", { type: "button", class: "wide", "data-key": "shift", "aria-label": t("shift"),
                                  "aria-pressed": "false", onclick: () => onKey("shift") }, Q.kioskIcon("shift")),
    };
    if (specials.length) box.appendChild(el("div", { class: "row" }, specials.map((k) => special[k]())));
  };

/** k: {kiosk, state, serviceButton(svc, extraLines, onpick), issue(serviceId, procedure), touch()} */
  Q.kioskSearch = function (k) {
    const state = k.state;

    function build() {
      Q.kioskKeys($("keyboard"), KEYS, ["space", "backspace"], typeKey);
    }

    function typeKey(ch) {
      const input = $("search-input");
      input.value = ch === "\b" ? input.value.slice(0, -1) : input.value + ch;
      onQuery();
    }

    let timer = null;
    function onQuery() {
      k.touch();
      clearTimeout(timer);
      timer = setTimeout(() => search($("search-input").value), 120);
    }

    async function search(q) {
      state.query = q;
      const seq = ++state.searchSeq;
      if (!q.trim()) {
        state.results = [];
        $("search-status").textContent = t("type_more");
        render();
        return;
      }
      try {
        const r = await fetch("/api/v1/procedures?limit=20&kiosk=" + encodeURIComponent(k.kiosk.id) + "&q=" + encodeURIComponent(q),
                              { headers: { "Accept-Language": Q.lang } });
        const body = await r.json();
        if (seq !== state.searchSeq) return;  // a newer query is on its way
        state.results = r.ok ? body.procedures : [];
        $("search-status").textContent = r.ok ? (!body.count ? t("no_results") : body.matches > body.count
          ? t("results_more", { n: body.matches, shown: body.count }) : t("results", { n: body.count })) : (body.message || "");
        for (const p of state.results) {
          if (p.service && !state.services[p.service]) {
            state.services[p.service] = { id: p.service, name: p.service_name, name_en: p.service_name_en, state: p.state,
                                          reason: p.reason, opens_at: p.opens_at, waiting: p.waiting,
                                          estimated_wait_minutes: p.estimated_wait_minutes, wait: p.wait };
          }
        }
        render();
      } catch (e) {
        if (seq === state.searchSeq) $("search-status").textContent = t("network_error");
      }
    }

    function render() {
      const box = $("search-results");
      box.replaceChildren();
      for (const p of state.results) {
        const field = pick(p, "field");
        const code = p.code + (field ? " · " + field : "");
        const time = pick(p, "processing_time");
        const fee = pick(p, "fee");
        const terms = time ? t("processing", { t: time }) + (fee ? " · " + t("fee", { f: fee }) : "") : "";
        if (p.state === "elsewhere") {
          box.appendChild(elsewhereButton(p, code, terms));
          continue;
        }
        const live = state.services[p.service] || p;
        const svc = Object.assign({}, live, { id: p.service, name: p.name, name_en: p.name_en });
        const dept = pick(p, "department_name");
        const extra = [code, t("queue_in", { s: pick({ name: p.service_name, name_en: p.service_name_en }, "name") + " — " + dept }),
                       terms];
        const b = k.serviceButton(svc, extra, () => k.issue(p.service, p));
        b.dataset.procedure = p.code;
        b.dataset.service = p.service;
        box.appendChild(b);
      }
    }

    /** A procedure not handled here: where to go instead, and no ticket (a touch says so again, larger). */
    function elsewhereButton(p, code, terms) {
      const where = pick(p, "elsewhere");
      const b = el("button", { type: "button", class: "item elsewhere", "data-procedure": p.code, "data-state": "elsewhere",
                               onclick: () => k.explain(t("elsewhere_title"), t("elsewhere_text", { p: pick(p, "name"), w: where })) },
        el("span", { class: "name", text: pick(p, "name") }),
        el("span", { class: "meta", text: code }),
        el("span", { class: "why" }, Q.kioskIcon("place"), " " + t("elsewhere_tag")),
        el("span", { class: "where", text: t("elsewhere_go", { w: where }) }),
        terms ? el("span", { class: "meta", text: terms }) : null);
      return b;
    }

    return { build, onQuery, search, render };
  };
})();
