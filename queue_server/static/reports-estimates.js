/* The reports page's table of how far the wait estimates held (GET /api/v1/reports/estimates): each ticket's
 * estimate at issue against its real wait, per ISO week and service, and overall. reports.js calls
 * Q.estimates.load with the report's period after each report it shows. */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, el, t } = Q;
  Q.words({
    est_title: 'Độ chính xác của thời gian chờ ước tính (theo dịch vụ và tuần)', est_week: 'Tuần', est_service: 'Dịch vụ',
    est_estimates: 'Số ước tính', est_called: 'Đã gọi', est_mae: 'Sai số trung bình (phút)', est_median: 'Sai số trung vị (phút)',
    est_within5: 'Lệch ≤ 5 phút', est_within25: 'Lệch ≤ 25 %', est_in_range: 'Nằm trong khoảng', est_short: 'Ước tính ngắn hơn',
    est_total: 'Toàn kỳ', est_none: 'Chưa có phiếu nào được ước tính trong kỳ này.',
  }, {
    est_title: 'How far the wait estimates held (by service and week)', est_week: 'Week', est_service: 'Service',
    est_estimates: 'Estimates', est_called: 'Called', est_mae: 'Mean error (min)', est_median: 'Median error (min)',
    est_within5: 'Within 5 min', est_within25: 'Within 25 %', est_in_range: 'Within the range', est_short: 'Too short',
    est_total: 'Whole period', est_none: 'No ticket was given an estimate in this period.',
  });
  const COLS = ['est_estimates', 'est_called', 'est_mae', 'est_median', 'est_within5', 'est_within25', 'est_in_range', 'est_short'];
  const KEYS = ['estimates', 'called', 'mae_min', 'median_abs_min', 'within_5_min', 'within_25_pct', 'in_range', 'too_short'];

  function cell(key, v) {
    if (v === null || v === undefined) return '–';
    if (key.startsWith('within') || key === 'in_range' || key === 'too_short') return Math.round(v * 100) + ' %';
    return String(v).replace('.', Q.lang === 'vi' ? ',' : '.');
  }

  function row(week, service, f, cls) {
    return el('tr', { class: cls || '', 'data-service': service.id || '' }, el('td', { text: week }), el('td', { text: service.label }),
      ...KEYS.map((k) => el('td', { class: 'num', 'data-key': k, text: cell(k, f[k]) })));
  }

  async function load(params) {
    const table = $('#estimates-table');
    try {
      const p = new URLSearchParams(params); p.delete('group_by'); p.delete('lang');
      const r = await Q.api('GET', '/reports/estimates?' + p.toString());
      const head = el('thead', {}, el('tr', {}, el('th', { text: t('est_week') }), el('th', { text: t('est_service') }),
        ...COLS.map((c) => el('th', { class: 'num', text: t(c) }))));
      const body = r.rows.length
        ? r.rows.map((x) => row(x.week, { id: x.service, label: Q.lang === 'en' ? x.name_en : x.name }, x))
        : [el('tr', {}, el('td', { colspan: 10, class: 'muted', text: t('est_none') }))];
      table.replaceChildren(head, el('tbody', {}, ...body, row('', { label: t('est_total') }, r.total, 'total')));
    } catch (e) {
      table.replaceChildren(el('tr', {}, el('td', { class: 'error', text: e.message })));
    }
  }

  Q.estimates = { load };
})();
