/* The counter terminal's dossier codes: while a ticket is called or served here, the officer attaches the code
 * of the dossier being handled (typed, or scanned from the receipt: a scanner types it and Enter) with
 * POST /api/v1/tickets/<id>/dossiers; the ticket's codes show under its number. Reports count tickets per
 * dossier (GET /api/v1/reports/dossiers). Reads the terminal's state from window.qmsTerminal. */
(function () {
  "use strict";
  const Q = window.QMS;
  const { el, t } = Q;

  Q.words({ td_label: "Hồ sơ", td_placeholder: "Quét hoặc nhập mã hồ sơ", td_attach: "Gắn mã", td_none: "chưa gắn mã hồ sơ" },
          { td_label: "Dossiers", td_placeholder: "Scan or type a dossier code", td_attach: "Attach", td_none: "no dossier code yet" });

  const card = document.getElementById("current-card");
  const codeEl = document.getElementById("current-code");
  if (!card || !codeEl) return;
  const input = el("input", { id: "td-code", type: "text", autocomplete: "off", spellcheck: "false", maxlength: "60" });
  const list = el("span", { id: "td-codes", class: "td-codes" });
  const note = el("div", { id: "td-note", class: "td-note", role: "status" });
  const box = el("div", { id: "td-box", class: "td-box", hidden: true }, [
    el("div", { class: "td-line" }, [el("span", { class: "td-label", "data-i18n": "td_label" }), list]),
    el("form", { class: "td-form", onsubmit: (ev) => { ev.preventDefault(); attach(); } }, [
      input, el("button", { type: "submit", id: "td-attach", class: "small", "data-i18n": "td_attach" })]),
    note]);
  card.appendChild(box);
  const me = { ticket: "", codes: [] };

  function show() {
    list.textContent = me.codes.length ? me.codes.join(", ") : t("td_none");
    input.placeholder = t("td_placeholder");
    Q.applyI18n(box);
  }

  async function follow() {
    const ticket = codeEl.dataset.ticket || "";
    const active = ["called", "serving"].includes(card.dataset.status);
    box.hidden = !(ticket && active);
    if (ticket === me.ticket) return;
    me.ticket = ticket;
    me.codes = [];
    note.textContent = "";
    show();
    if (!ticket) return;
    try {
      const out = await Q.api("GET", "/tickets/" + ticket + "/dossiers", undefined, { token: window.qmsTerminal.token });
      if (me.ticket === ticket) { me.codes = out.codes; show(); }
    } catch (e) { /* shown again with the next change */ }
  }

  async function attach() {
    const code = input.value.trim();
    const S = window.qmsTerminal;
    if (!code || !me.ticket) return;
    const ticket = me.ticket;
    try {
      const out = await Q.api("POST", "/tickets/" + ticket + "/dossiers", { counter: S.counterId, code }, { token: S.token });
      if (me.ticket === ticket) { me.codes = out.codes; input.value = ""; note.textContent = ""; show(); }
    } catch (e) {
      note.textContent = e.message;
    }
  }

  new MutationObserver(follow).observe(card, { subtree: true, attributes: true, attributeFilter: ["data-status", "data-ticket"] });
  document.getElementById("btn-lang").addEventListener("click", () => setTimeout(show, 0));
  follow();
})();
