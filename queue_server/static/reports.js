/* Reports page (GET /reports): GET /api/v1/reports for a day, week, month or range, grouped one way;
 * Chart.js charts (served from /static/vendor; horizontal bars per group, long names wrapped, not cut), the
 * heatmap of arrivals, the full table underneath (columns in groups, scrolling inside its card, the first column
 * kept in view); XLSX, semicolon CSV and comma CSV from GET /api/v1/reports/export (fetched with the sign-in
 * token, saved as a file). */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, el, t } = Q;
  Q.words({
    period: 'Kỳ báo cáo', p_day: 'Ngày', p_week: 'Tuần', p_month: 'Tháng', p_range: 'Khoảng ngày', date_from: 'Từ ngày',
    date_to: 'Đến ngày', group_by: 'Theo', g_department: 'Sở, ngành', g_service: 'Dịch vụ', g_counter: 'Quầy',
    g_officer: 'Cán bộ', g_hour: 'Giờ', g_day: 'Ngày', g_total: 'Toàn trung tâm', show: 'Xem báo cáo',
    export_csv: 'CSV (dấu phẩy)', export_xlsx: 'Tải Excel (XLSX)', export_csv_semicolon: 'CSV (dấu chấm phẩy, Excel tiếng Việt)', export_766: 'Đánh giá hài lòng (mẫu 766, XLSX)',
    other_formats: 'Định dạng khác:', chart_outcomes: 'Kết quả phục vụ', chart_waits: 'Thời gian chờ (phút)',
    chart_satisfaction: 'Mức độ hài lòng', chart_hours: 'Số phát theo giờ',
    heatmap: 'Giờ cao điểm (số phiếu phát theo thứ và giờ)', definitions_note: 'Định nghĩa các chỉ số: docs/reports.md.',
    served: 'Đã phục vụ', no_show: 'Vắng mặt', cancelled: 'Đã hủy', unserved: 'Không được phục vụ', transferred: 'Chuyển đi',
    wait_avg: 'Chờ trung bình', wait_p90: 'Chờ P90', issued: 'Số phát', abandoned: 'Bỏ về (tổng)',
    within: 'Gọi đúng hạn', satisfaction: 'Tỷ lệ hài lòng', serve_avg: 'Phục vụ trung bình', rated: 'Phiếu được đánh giá',
    minutes: 'phút', title: 'Báo cáo {from} – {to}, theo {g}', no_ratings: 'Chưa có bảng đánh giá: mức hài lòng bằng 0.',
    apart: 'Tính riêng: bấm lặp lại {r}, bị gắn cờ {f}, không gắn được số {u}.', issued_by_hour: 'Số phát',
  }, {
    period: 'Period', p_day: 'Day', p_week: 'Week', p_month: 'Month', p_range: 'Range', date_from: 'From',
    date_to: 'To', group_by: 'Group by', g_department: 'Department', g_service: 'Service', g_counter: 'Counter',
    g_officer: 'Officer', g_hour: 'Hour', g_day: 'Day', g_total: 'Whole centre', show: 'Show report',
    export_csv: 'CSV (commas)', export_xlsx: 'Download Excel (XLSX)', export_csv_semicolon: 'CSV (semicolons, Vietnamese Excel)', export_766: 'Satisfaction (Decision 766 layout, XLSX)',
    other_formats: 'Other formats:', chart_outcomes: 'Outcomes', chart_waits: 'Waiting time (min)',
    chart_satisfaction: 'Satisfaction', chart_hours: 'Issued by hour',
    heatmap: 'Busiest hours (tickets issued by weekday and hour)', definitions_note: 'Definitions of every figure: docs/reports.md.',
    served: 'Served', no_show: 'No-show', cancelled: 'Cancelled', unserved: 'Unserved', transferred: 'Transferred out',
    wait_avg: 'Average wait', wait_p90: '90th percentile wait', issued: 'Issued', abandoned: 'Abandoned (total)',
    within: 'Called within target', satisfaction: 'Satisfaction rate', serve_avg: 'Average serving time', rated: 'Rated tickets',
    minutes: 'min', title: 'Report {from} – {to}, by {g}', no_ratings: 'No ratings table yet: satisfaction shows zero.',
    apart: 'Shown apart: repeated presses {r}, flagged {f}, unattributed {u}.', issued_by_hour: 'Issued',
  });

  const S = { report: null, charts: {} };
  const COLORS = { served: '#1a7f37', no_show: '#c62828', cancelled: '#8d6e63', unserved: '#b35900', transferred: '#1f5fa8' };
  const LEVEL_COLORS = ['#1a7f37', '#7cb342', '#fbc02d', '#ef6c00', '#c62828'];

  function params() {
    const period = $('#period').value;
    const p = new URLSearchParams({ group_by: $('#group-by').value, lang: Q.lang });
    if (period === 'range') { p.set('from', $('#date-from').value); p.set('to', $('#date-to').value || $('#date-from').value); }
    else { p.set('period', period); p.set('date', $('#date-from').value); }
    return p;
  }

  async function load() {
    $('#report-error').textContent = '';
    try {
      S.report = await Q.api('GET', '/reports?' + params().toString());
      render();
      if (Q.estimates) Q.estimates.load(params());
    } catch (e) {
      $('#report-error').textContent = e.message;
    }
  }

  async function download(format, path) {
    $('#report-error').textContent = '';
    const p = params(); p.set('format', format);
    try {
      const res = await Q.api('GET', (path || '/reports/export') + '?' + p.toString(), undefined, { raw: true });
      const blob = await res.blob();
      const m = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
      const a = el('a', { href: URL.createObjectURL(blob), download: m ? m[1] : 'bao-cao.' + (format === 'xlsx' ? 'xlsx' : 'csv') });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) { $('#report-error').textContent = e.message; }
  }

  const dmy = (iso) => iso.split('-').reverse().join('/');

  function render() {
    const r = S.report;
    if (!r) return;
    $('#report').hidden = false;
    $('#report-title').textContent = t('title', { from: dmy(r.from), to: dmy(r.to), g: r.group_header });
    const tot = r.total;
    const figs = [
      [t('issued'), tot.issued], [t('served'), tot.served], [t('abandoned'), tot.abandoned],
      [t('wait_avg'), Q.fmtMinutes(tot.wait_avg_s) + ' ' + t('minutes')], [t('wait_p90'), Q.fmtMinutes(tot.wait_p90_s) + ' ' + t('minutes')],
      [t('within'), Q.fmtPercent(tot.within_target)], [t('serve_avg'), Q.fmtMinutes(tot.serve_avg_s) + ' ' + t('minutes')],
      [t('satisfaction'), Q.fmtPercent(tot.satisfaction_rate)], [t('rated'), tot.rated_tickets],
    ];
    $('#summary').replaceChildren(...figs.map(([k, v]) => el('div', { class: 'figure' }, el('b', { text: String(v) }), k)),
      el('div', { class: 'muted', text: r.ratings_available ? t('apart', { r: tot.ratings_repeat, f: tot.ratings_flagged, u: tot.ratings_unattributed }) : t('no_ratings') }));
    renderCharts(r);
    renderHeatmap(r);
    renderTable(r);
  }

  function chart(id, config) {
    if (S.charts[id]) S.charts[id].destroy();
    if (typeof Chart === 'undefined') return;
    S.charts[id] = new Chart(document.getElementById(id), config);
  }

  /** A long name as lines of at most `width` characters, broken between words (Chart.js draws an array as lines). */
  function wrap(text, width) {
    const lines = [];
    let line = '';
    for (const word of String(text).split(/\s+/)) {
      if (line && (line + ' ' + word).length > width) { lines.push(line); line = word; } else line = line ? line + ' ' + word : word;
    }
    if (line) lines.push(line);
    return lines.length > 1 ? lines : lines[0] || '';
  }

  const LABEL_CHARS = 28;
  /** Bars per group lie horizontally: one row per group, as tall as its wrapped name, so every name is read whole. */
  function barsByGroup(id, r, datasets, stacked, counts) {
    const labels = r.rows.map((x) => wrap(x.label, LABEL_CHARS));
    const lines = labels.reduce((n, l) => n + (Array.isArray(l) ? l.length : 1), 0);
    document.getElementById(id).parentElement.style.height = Math.max(160, 70 + lines * 15 + r.rows.length * 14) + 'px';
    chart(id, { type: 'bar', data: { labels, datasets },
      options: { indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { stacked, beginAtZero: true, ticks: counts ? { precision: 0 } : {} }, y: { stacked, ticks: { autoSkip: false } } } } });
  }

  function renderCharts(r) {
    barsByGroup('chart-outcomes', r, ['served', 'no_show', 'cancelled', 'unserved', 'transferred'].map((k) => ({
      label: t(k), data: r.rows.map((x) => x[k]), backgroundColor: COLORS[k] })), true, true);
    const minutes = (v) => (v === null ? null : Math.round(v / 6) / 10);
    barsByGroup('chart-waits', r, [
      { label: t('wait_avg'), data: r.rows.map((x) => minutes(x.wait_avg_s)), backgroundColor: '#1f5fa8' },
      { label: t('wait_p90'), data: r.rows.map((x) => minutes(x.wait_p90_s)), backgroundColor: '#a50f15' }], false);
    barsByGroup('chart-satisfaction', r, r.rating_levels.map((lv, i) => ({
      label: Q.lang === 'en' && lv.label_en ? lv.label_en : lv.label, data: r.rows.map((x) => x.rating_levels[String(lv.value)] || 0),
      backgroundColor: LEVEL_COLORS[Math.round(i * (LEVEL_COLORS.length - 1) / Math.max(1, r.rating_levels.length - 1))] })), true, true);
    const hours = r.heatmap.hours.length ? r.heatmap.hours : [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
    chart('chart-hours', { type: 'bar', data: { labels: hours.map((h) => Q.pad(h) + ':00'), datasets: [
      { label: t('issued_by_hour'), data: hours.map((h) => r.heatmap.by_hour[h]), backgroundColor: '#a50f15' }] },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } } });
  }

  function renderHeatmap(r) {
    const h = r.heatmap;
    const hours = h.hours;
    const max = Math.max(1, ...h.counts.flat());
    const names = Q.lang === 'en' ? h.weekdays_en : h.weekdays_vi;
    const head = el('tr', {}, el('th'), ...hours.map((x) => el('th', { text: Q.pad(x) })));
    const rows = h.counts.map((row, wd) => el('tr', { 'data-weekday': wd }, el('th', { text: names[wd] }),
      ...hours.map((x) => {
        const n = row[x];
        const a = n / max;
        return el('td', { 'data-hour': x, title: names[wd] + ' ' + Q.pad(x) + ':00 — ' + n,
          style: 'background: rgba(165, 15, 21, ' + (0.08 + 0.92 * a).toFixed(2) + '); color: ' + (a > 0.5 ? '#fff' : '#222'),
          text: n || '' });
      })));
    $('#heatmap').replaceChildren(el('table', { class: 'heat' }, el('thead', {}, head), el('tbody', {}, ...rows)));
  }

  function cell(kind, v) {
    if (v === null || v === undefined) return '–';
    if (kind === 'seconds') return Q.fmtMinutes(v);
    if (kind === 'share') return Q.fmtPercent(v);
    return String(v);
  }

  /** The table: a first header row of column groups (tickets, waiting, serving, ratings), a second of each column's
   * short name (the full one as its tooltip); the group's name in the first column, which stays in view. */
  function renderTable(r) {
    const levels = r.rating_levels.map((lv) => {
      const name = Q.lang === 'en' && lv.label_en ? lv.label_en : lv.label;
      return { key: 'level:' + lv.value, label: name, short: name, kind: 'count' };
    });
    const byKey = Object.fromEntries(r.columns.map((c) => [c.key, c]));
    const groups = r.column_groups.map((g) => ({ label: g.label, cols: g.keys.flatMap((k) => (k === 'levels' ? levels : [byKey[k]])) }));
    const cols = groups.flatMap((g) => g.cols);
    const top = el('tr', { class: 'groups' }, el('th', { rowspan: '2', class: 'first', scope: 'col', text: r.group_header }),
      ...groups.map((g, i) => el('th', { colspan: String(g.cols.length), scope: 'colgroup', class: 'group g' + i, text: g.label })));
    const names = el('tr', {}, ...groups.flatMap((g, i) => g.cols.map((c, j) => el('th', {
      class: 'num g' + i + (j === 0 ? ' group-start' : ''), scope: 'col', title: c.label, 'data-col': c.key, text: c.short || c.label }))));
    const starts = new Set(groups.map((g) => g.cols[0].key));
    const line = (x, cls) => el('tr', { class: cls || '', 'data-key': String(x.key) }, el('th', { class: 'first', scope: 'row', text: x.label }),
      ...cols.map((c) => el('td', { class: 'num' + (starts.has(c.key) ? ' group-start' : ''), 'data-col': c.key,
        text: c.key.startsWith('level:') ? String(x.rating_levels[c.key.slice(6)] || 0) : cell(c.kind, x[c.key]) })));
    $('#report-table').replaceChildren(el('thead', {}, top, names), el('tbody', {}, ...r.rows.map((x) => line(x)), line(r.total, 'total')));
  }

  function periodChanged() {
    const range = $('#period').value === 'range';
    $('#to-label').hidden = !range;
  }

  Q.onLang = () => { if (S.report) load(); };
  Q.start(['supervisor', 'admin'], () => {
    if (!$('#date-from').value) $('#date-from').value = Q.today();
    if (!$('#date-to').value) $('#date-to').value = Q.today();
    periodChanged();
    load();
  });
  $('#period').addEventListener('change', periodChanged);
  $('#report-form').addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  $('#btn-csv').addEventListener('click', () => download('csv'));
  $('#btn-xlsx').addEventListener('click', () => download('xlsx'));
  $('#btn-csv-semicolon').addEventListener('click', () => download('csv-semicolon'));
  $('#btn-766').addEventListener('click', () => download('xlsx', '/reports/satisfaction-766'));
})();
