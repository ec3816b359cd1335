/* The admin page's "messages to citizens" section: the notification outbox (GET /api/v1/notifications/outbox),
 * each message's state, attempts, last error and sent time, phone numbers masked but their last 3 digits, and
 * a retry button on a dead message (POST .../retry). admin.js calls Q.adminNotices.load() with its other loads. */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, el, t } = Q;
  Q.words({
    mo_title: 'Tin nhắn gửi công dân (SMS / Zalo)', mo_all: 'Tất cả', mo_state: 'Trạng thái', mo_kind: 'Loại',
    mo_pending: 'Chờ gửi', mo_sent: 'Đã gửi', mo_dead: 'Gửi thất bại', mo_retry: 'Gửi lại', mo_none: 'Chưa có tin nhắn nào.',
    mo_otp: 'Mã xác nhận', mo_booking: 'Đặt lịch', mo_near: 'Sắp đến lượt', mo_called: 'Gọi số', mo_broadcast: 'Thông báo',
    mo_col_to: 'Đến số', mo_col_text: 'Nội dung', mo_col_attempts: 'Lần gửi', mo_col_error: 'Lỗi gần nhất',
    mo_col_sent: 'Gửi lúc', mo_col_created: 'Tạo lúc', mo_via_outbox: 'giữ trong hộp thư đi (demo)', mo_via_http: 'qua cổng gửi tin',
    mo_backend_outbox: 'Chế độ demo: tin nhắn chỉ được lưu ở đây, không gửi ra ngoài.', mo_backend_http: 'Tin nhắn được gửi qua cổng {c}.',
    mo_masked: 'Số điện thoại chỉ hiện 3 số cuối; mã xác nhận được che.', mo_retried: 'Tin nhắn {id} sẽ được gửi lại.',
  }, {
    mo_title: 'Messages to citizens (SMS / Zalo)', mo_all: 'All', mo_state: 'State', mo_kind: 'Kind',
    mo_pending: 'Pending', mo_sent: 'Sent', mo_dead: 'Failed', mo_retry: 'Send again', mo_none: 'No message yet.',
    mo_otp: 'One-time code', mo_booking: 'Booking', mo_near: 'Turn near', mo_called: 'Call', mo_broadcast: 'Broadcast',
    mo_col_to: 'To', mo_col_text: 'Text', mo_col_attempts: 'Attempts', mo_col_error: 'Last error',
    mo_col_sent: 'Sent at', mo_col_created: 'Created', mo_via_outbox: 'kept in the outbox (demo)', mo_via_http: 'through the gateway',
    mo_backend_outbox: 'Demo mode: messages are only kept here, never sent out.', mo_backend_http: 'Messages go out through the {c} gateway.',
    mo_masked: 'Phone numbers show their last 3 digits only; one-time codes are hidden.', mo_retried: 'Message {id} will be sent again.',
  });
  const STATES = ['pending', 'sent', 'dead'];
  const KINDS = ['otp', 'booking', 'near', 'called', 'broadcast'];
  const filter = { state: '', kind: '' };

  function choice(id, values, key) {
    const select = el('select', { id, 'aria-label': t(key) },
      el('option', { value: '', text: t(key) + ': ' + t('mo_all') }), ...values.map((v) => el('option', { value: v, text: t('mo_' + v) })));
    select.value = filter[id === 'mo-state' ? 'state' : 'kind'];
    select.addEventListener('change', () => { filter[id === 'mo-state' ? 'state' : 'kind'] = select.value; load().catch(() => {}); });
    return select;
  }

  async function retry(id) {
    try {
      await Q.api('POST', '/notifications/outbox/' + id + '/retry', {});
      Q.toast(t('mo_retried', { id }));
    } catch (e) { Q.toast(e.message, true); }
    load().catch(() => {});
  }

  function row(m) {
    const wrap = { style: 'overflow-wrap:anywhere' };
    return el('tr', { 'data-message': m.id, 'data-state': m.state },
      el('td', { text: Q.fmtDateTime(m.created_ms) }), el('td', { 'data-kind': m.kind, text: t('mo_' + m.kind) }),
      el('td', { 'data-to': '', text: m.to }), el('td', { ...wrap, 'data-body': '', text: m.body }),
      el('td', {}, el('span', { class: 'chip ' + (m.state === 'dead' ? 'st-closed' : m.state === 'sent' ? 'st-open' : 'st-break'),
        text: t('mo_' + m.state) }), m.via ? el('div', { class: 'muted small', text: t('mo_via_' + m.via) }) : null),
      el('td', { class: 'num', text: m.attempts }), el('td', { ...wrap, class: 'muted', text: m.last_error || '' }),
      el('td', { text: m.sent_ms ? Q.fmtDateTime(m.sent_ms) : '' }),
      el('td', {}, m.state === 'dead' ? el('button', { type: 'button', 'data-retry': m.id, text: t('mo_retry'),
        onclick: () => retry(m.id) }) : null));
  }

  async function load() {
    const q = new URLSearchParams({ limit: '200' });
    if (filter.state) q.set('state', filter.state);
    if (filter.kind) q.set('kind', filter.kind);
    const r = await Q.api('GET', '/notifications/outbox?' + q.toString());
    const counts = STATES.map((s) => el('span', { class: 'chip ' + (s === 'dead' && r.counts[s] ? 'st-closed' : 'st-open'),
      'data-count': s, text: t('mo_' + s) + ': ' + r.counts[s] }));
    const head = ['mo_col_created', 'mo_kind', 'mo_col_to', 'mo_col_text', 'mo_state', 'mo_col_attempts', 'mo_col_error', 'mo_col_sent', 'col_actions'];
    $('#messages').replaceChildren(
      el('p', { class: 'muted', 'data-backend': r.backend,
        text: (r.backend === 'outbox' ? t('mo_backend_outbox') : t('mo_backend_http', { c: r.channel === 'zalo' ? 'Zalo' : 'SMS' }))
          + (r.unmasked ? '' : ' ' + t('mo_masked')) }),
      el('p', {}, ...counts.flatMap((c) => [c, ' ']), choice('mo-state', STATES, 'mo_state'), ' ', choice('mo-kind', KINDS, 'mo_kind')),
      r.messages.length ? el('table', { class: 'grid', id: 'messages-table' },
        el('thead', {}, el('tr', {}, ...head.map((k) => el('th', { text: t(k) })))),
        el('tbody', {}, ...r.messages.map(row))) : el('p', { class: 'muted', text: t('mo_none') }));
  }

  Q.adminNotices = { load };
})();
