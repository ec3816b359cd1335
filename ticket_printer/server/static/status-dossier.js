/* The phone status page's dossier look-up: the receipt's code typed (or pasted) on the phone, the answer of
 * GET /api/v1/dossiers/<code> shown with the applicant's name masked, as at the kiosk. Shown only when the
 * centre has a dossier source (GET /api/v1/dossiers). */
(function () {
  "use strict";
  const Q = window.QMS;
  const { el, t } = Q;
  const WAIT_MS = 2800;

  Q.words({
    pd_title: "Tra cứu hồ sơ", pd_placeholder: "Mã hồ sơ trên phiếu hẹn", pd_find: "Tra cứu",
    pd_searching: "Đang tra cứu…", pd_down: "Hệ thống tra cứu hồ sơ đang không trả lời. Vui lòng thử lại sau.",
    pd_procedure: "Thủ tục", pd_applicant: "Người nộp", pd_received: "Ngày tiếp nhận", pd_appointment: "Ngày hẹn trả",
    pd_collect: "Nơi nhận kết quả",
  }, {
    pd_title: "Dossier look-up", pd_placeholder: "Dossier code on your receipt", pd_find: "Look up",
    pd_searching: "Looking up…", pd_down: "The dossier system is not answering. Please try again later.",
    pd_procedure: "Procedure", pd_applicant: "Applicant", pd_received: "Received", pd_appointment: "Result due",
    pd_collect: "Collect at",
  });

  const input = el("input", { id: "pd-code", type: "text", autocomplete: "off", spellcheck: "false", "aria-label": "code" });
  const out = el("div", { id: "pd-result", class: "pd-result", role: "status" });
  const section = el("section", { id: "pd", class: "status pd", hidden: true }, [
    el("div", { class: "status-text", "data-t": "pd_title" }),
    el("form", { class: "pd-form", onsubmit: (ev) => { ev.preventDefault(); find(); } }, [
      input, el("button", { type: "submit", id: "pd-find", "data-t": "pd_find" })]),
    out]);
  let answer = null, seq = 0;

  function date(iso) { return iso ? iso.split("-").reverse().join("/") : "—"; }

  function render() {
    input.placeholder = t("pd_placeholder");
    out.replaceChildren();
    if (!answer) return;
    if (answer.text) { out.append(el("div", { class: "pd-note", text: t(answer.text) })); return; }
    if (answer.message) { out.append(el("div", { class: "pd-note", text: answer.message })); return; }
    const d = answer.dossier;
    out.append(el("div", { id: "pd-state", class: "pd-state " + d.status, text: Q.lang === "en" ? d.status_text_en : d.status_text }),
      ...[["pd_procedure", d.procedure], ["pd_applicant", d.applicant], ["pd_received", date(d.received)],
          ["pd_appointment", date(d.appointment)], ["pd_collect", d.collect_at]].map(([k, v]) =>
        el("div", { class: "pd-line" }, [el("span", { class: "pd-label", text: t(k) }), el("span", { class: "pd-value", text: v || "—" })])));
  }

  async function find() {
    const code = input.value.trim();
    if (!code) return;
    const mine = ++seq;
    answer = { text: "pd_searching" };
    render();
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), WAIT_MS);
    let got;
    try {
      const r = await fetch("/api/v1/dossiers/" + encodeURIComponent(code), { headers: { "Accept-Language": Q.lang }, signal: ctrl.signal });
      const body = await r.json();
      got = r.ok ? body : r.status === 503 ? { text: "pd_down" } : { message: body.message };
    } catch (e) {
      got = { text: "pd_down" };
    } finally {
      clearTimeout(timer);
    }
    if (mine !== seq) return;
    answer = got;
    render();
  }

  const alerts = document.querySelector("section.alerts");
  alerts.before(section);
  for (const id of ["lang-vi", "lang-en"]) Q.byId(id).addEventListener("click", () => setTimeout(render, 0));
  fetch("/api/v1/dossiers").then((r) => r.json()).then((setup) => {
    section.hidden = !setup.enabled;
    Q.applyI18n(section);
    render();
  }).catch(() => { /* no look-up while the server cannot be reached */ });
})();
