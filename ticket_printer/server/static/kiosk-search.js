/* The kiosk's search of the procedure catalogue: an on-screen keyboard, a query sent as the citizen types
 * (GET /api/v1/procedures), and the matches shown as service buttons that issue a ticket. */
(function () {
  "use strict";
  const Q = window.QMS;
  const { el, t, pick } = Q;
  const $ = Q.byId;
  const KEYS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm."];

  Q.words({
    search_placeholder: "Tìm thủ tục theo tên hoặc mã (ví dụ: dang ky khai sinh, 1.001193)",
    search_input: "Nhập tên hoặc mã thủ tục", clear: "Xóa",
    no_results: "Không tìm thấy thủ tục phù hợp. Hãy thử từ khóa khác, hoặc quay lại và chọn cơ quan.",
    results: "{n} thủ tục phù hợp", results_more: "{n} thủ tục phù hợp — {shown} thủ tục đầu tiên; gõ thêm để thu hẹp",
    type_more: "Gõ tên thủ tục (không cần dấu) hoặc mã thủ tục",
    processing: "Thời hạn: {t}", fee: "Phí, lệ phí: {f}", queue_in: "Lấy số: {s}",
  }, {
    search_placeholder: "Search a procedure by name or code (e.g. birth registration, 1.001193)",
    search_input: "Type a procedure name or code", clear: "Clear",
    no_results: "No procedure found. Try other words, or go back and choose a department.",
    results: "{n} matching procedures", results_more: "{n} matching procedures — the first {shown}; type more to narrow",
    type_more: "Type a procedure name (accents not needed) or its code",
    processing: "Processing time: {t}", fee: "Fees: {f}", queue_in: "Queue: {s}",
  });

  /** k: {kiosk, state, serviceButton(svc, extraLines, onpick), issue(serviceId, procedure), touch()} */
  Q.kioskSearch = function (k) {
    const state = k.state;

    function build() {
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
          if (!state.services[p.service]) {
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
        const live = state.services[p.service] || p;
        const svc = Object.assign({}, live, { id: p.service, name: p.name, name_en: p.name_en });
        const dept = pick(p, "department_name");
        const extra = [p.code + (p.field ? " · " + p.field : ""),
                       t("queue_in", { s: pick({ name: p.service_name, name_en: p.service_name_en }, "name") + " — " + dept }),
                       p.processing_time ? t("processing", { t: p.processing_time }) + (p.fee ? " · " + t("fee", { f: p.fee }) : "") : ""];
        const b = k.serviceButton(svc, extra, () => k.issue(p.service, p));
        b.dataset.procedure = p.code;
        b.dataset.service = p.service;
        box.appendChild(b);
      }
    }

    return { build, onQuery, search, render };
  };
})();
