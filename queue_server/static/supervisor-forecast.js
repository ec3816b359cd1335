/* The forecast of today on the supervisor dashboard (GET /api/v1/forecast, pushed as `forecast.updated`):
 * when each service's queue should empty, waits that will pass their target, what one more counter would change.
 * supervisor.js hands it what the server sends (Q.forecast.show) and asks it to draw again on a language change. */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, el, t } = Q;
  Q.words({
    forecast_title: 'Dự báo đến cuối ngày', forecast_at: 'cập nhật lúc {t}', forecast_pending: 'Đang tính dự báo…',
    forecast_none: 'Không có hàng đợi nào cần dự báo.',
  }, {
    forecast_title: 'Forecast to the end of the day', forecast_at: 'updated at {t}', forecast_pending: 'Working out the forecast…',
    forecast_none: 'No queue to forecast.',
  });

  let latest = null;

  function kind(s) { return s.empties_at === null ? 'late' : (s.over_target ? 'over' : 'ok'); }

  function render() {
    const box = $('#forecast');
    if (!box) return;
    const f = latest;
    box.dataset.state = f ? f.state : 'pending';
    $('#forecast-at').textContent = f && f.at ? t('forecast_at', { t: f.at }) : '';
    const list = $('#forecast-list');
    if (!f || f.state !== 'ready') { list.replaceChildren(el('li', { class: 'muted', text: t('forecast_pending') })); return; }
    if (!f.services.length) { list.replaceChildren(el('li', { class: 'muted', text: t('forecast_none') })); return; }
    list.replaceChildren(...f.services.map((s) => {
      const lines = s.text[Q.lang] || s.text.vi;
      return el('li', { 'data-service': s.service, 'data-kind': kind(s) },
        el('div', { class: 'fc-main', text: lines[0] }),
        ...lines.slice(1).map((line) => el('div', {
          class: 'fc-more' + (line.startsWith('+1') ? ' fc-plus' : ' fc-over'), text: line })));
    }));
  }

  Q.forecast = {
    show(f) { if (f) { latest = f; render(); } },
    render,
  };
})();
