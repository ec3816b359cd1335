/* The status page's notice line: a supervisor's message to everyone waiting for this ticket's service (a delay,
 * a counter closing), from the page's data when it opens and live as `service.notice` (status.js passes it on
 * as the document event "qms:service-notice"). Shown while the ticket waits; an empty text takes it down. */
(function () {
  "use strict";
  const Q = window.QMS;
  const PAGE = Q.page();
  const box = Q.byId("service-notice");
  let notice = PAGE.notice || null;

  function render() {
    const text = notice ? (Q.lang === "en" ? notice.text_en || notice.text : notice.text) : "";
    box.textContent = text;
    box.hidden = !text;
  }

  document.addEventListener("qms:service-notice", (ev) => {
    const m = ev.detail || {};
    if (m.service !== PAGE.ticket.service) return;
    notice = m.text ? { text: m.text, text_en: m.text_en } : null;
    render();
  });
  for (const id of ["lang-vi", "lang-en"]) Q.byId(id).addEventListener("click", () => setTimeout(render, 0));
  render();
})();
