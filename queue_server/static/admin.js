/* Administration page (GET /admin, admin accounts only): staff accounts, device tokens, display notices,
 * config reload and the audit log, all through /api/v1/admin/... (every change is written to the event log). */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, el, t } = Q;
  Q.words({
    staff_title: 'Tài khoản cán bộ', staff_new: 'Thêm tài khoản', col_username: 'Tên đăng nhập', col_name: 'Họ tên',
    col_role: 'Vai trò', col_counters: 'Quầy', col_active: 'Trạng thái', col_actions: 'Thao tác', add: 'Thêm',
    ph_username: 'tên đăng nhập', ph_fullname: 'Họ và tên', ph_counters: 'quầy, ví dụ 1,2', ph_password: 'mật khẩu (ít nhất 6 ký tự)',
    ph_note: 'ghi chú', active: 'Đang dùng', disabled: 'Đã khóa', disable: 'Khóa', enable: 'Mở khóa', reset_pw: 'Đặt lại mật khẩu',
    set_counters: 'Đổi quầy', new_pw: 'Mật khẩu mới cho {u}:', counters_for: 'Quầy của {u} (cách nhau bởi dấu phẩy):',
    tokens_title: 'Mã thiết bị', col_kind: 'Loại', col_device: 'Thiết bị', col_note: 'Ghi chú', col_created: 'Tạo lúc',
    revoke: 'Thu hồi', revoked: 'Đã thu hồi', make_token: 'Tạo mã', from_config: 'trong config.yaml',
    token_once: 'Mã mới cho {d} (chỉ hiện một lần, hãy chép ngay): ',
    tokens_note: 'Mã trong config.yaml được sửa trong tệp đó (rồi nạp lại cấu hình). Mã tạo ở đây chỉ hiện một lần.',
    notices_title: 'Thông báo trên màn hình', notice_vi: 'Tiếng Việt', notice_en: 'English', save: 'Lưu',
    config_title: 'Cấu hình (config.yaml)', reload: 'Nạp lại cấu hình',
    config_note: 'Sửa tệp config.yaml trên máy chủ, rồi bấm nạp lại (hoặc chạy qms reload). Tệp có lỗi sẽ bị từ chối và hệ thống giữ cấu hình đang chạy.',
    reloaded: 'Đã nạp lại cấu hình {p} (mã {h}).', audit_title: 'Nhật ký thay đổi', col_time: 'Thời gian',
    col_who: 'Người thực hiện', col_change: 'Thay đổi', col_detail: 'Chi tiết', confirm_revoke: 'Thu hồi mã của {d}?',
    role_admin: 'Quản trị viên', role_supervisor: 'Giám sát viên', role_staff: 'Cán bộ tiếp nhận',
    kind_kiosk: 'Máy lấy số', kind_display: 'Màn hình', kind_agent: 'Phần mềm thiết bị',
  }, {
    staff_title: 'Staff accounts', staff_new: 'Add an account', col_username: 'Username', col_name: 'Full name',
    col_role: 'Role', col_counters: 'Counters', col_active: 'State', col_actions: 'Actions', add: 'Add',
    ph_username: 'username', ph_fullname: 'Full name', ph_counters: 'counters, e.g. 1,2', ph_password: 'password (6 characters or more)',
    ph_note: 'note', active: 'Active', disabled: 'Disabled', disable: 'Disable', enable: 'Enable', reset_pw: 'Reset password',
    set_counters: 'Change counters', new_pw: 'New password for {u}:', counters_for: 'Counters of {u} (comma-separated):',
    tokens_title: 'Device tokens', col_kind: 'Kind', col_device: 'Device', col_note: 'Note', col_created: 'Created',
    revoke: 'Revoke', revoked: 'Revoked', make_token: 'Make a token', from_config: 'in config.yaml',
    token_once: 'New token for {d} (shown once, copy it now): ',
    tokens_note: 'Tokens in config.yaml are changed in that file (then reload the config). A token made here is shown once.',
    notices_title: 'Notices on the displays', notice_vi: 'Vietnamese', notice_en: 'English', save: 'Save',
    config_title: 'Configuration (config.yaml)', reload: 'Reload the config',
    config_note: 'Edit config.yaml on the server, then press reload (or run qms reload). A file with problems is refused and the running config is kept.',
    reloaded: 'Reloaded {p} (hash {h}).', audit_title: 'Audit log', col_time: 'Time',
    col_who: 'By', col_change: 'Change', col_detail: 'Detail', confirm_revoke: 'Revoke the token of {d}?',
    role_admin: 'Administrator', role_supervisor: 'Supervisor', role_staff: 'Counter officer',
    kind_kiosk: 'Kiosk', kind_display: 'Display', kind_agent: 'Device agent',
  });
  Q.words({
    wh_title: 'Webhook: gửi sự kiện ra hệ thống khác', wh_pending: 'Đang chờ gửi', wh_delivered: 'Đã gửi',
    wh_dead: 'Không gửi được', wh_off: 'Đang tắt', wh_none: 'Chưa có webhook nào (integrations.webhooks trong config.yaml).',
    wh_first: 'Sự kiện số {s} đang chờ: đã thử {a} lần, thử lại lúc {n}.', wh_error: 'Lỗi gần nhất: {e}',
    wh_last_ok: 'Gửi thành công gần nhất: sự kiện số {s} lúc {t}.', wh_dead_title: 'Sự kiện không gửi được (mới nhất trước)',
    wh_note: 'Gửi lại các sự kiện sau số SEQ: qms webhooks replay --since SEQ',
    col_seq: 'Số sự kiện', col_event: 'Sự kiện', col_attempts: 'Số lần thử', col_error: 'Lỗi',
    'ev_ticket.issued': 'Phát số', 'ev_ticket.called': 'Gọi số', 'ev_ticket.finished': 'Hoàn thành',
    'ev_ticket.no_show': 'Vắng mặt', 'ev_ticket.cancelled': 'Hủy số', 'ev_ticket.transferred': 'Chuyển quầy',
    'ev_ticket.unserved': 'Chưa phục vụ', 'ev_rating.recorded': 'Đánh giá', 'ev_day.closed': 'Kết thúc ngày',
  }, {
    wh_title: 'Webhooks: events sent to other systems', wh_pending: 'Waiting to be sent', wh_delivered: 'Delivered',
    wh_dead: 'Dead letters', wh_off: 'Disabled', wh_none: 'No webhook yet (integrations.webhooks in config.yaml).',
    wh_first: 'Event {s} is waiting: {a} attempts so far, next try at {n}.', wh_error: 'Last error: {e}',
    wh_last_ok: 'Last delivered: event {s} at {t}.', wh_dead_title: 'Events that could not be delivered (newest first)',
    wh_note: 'To send the events after SEQ again: qms webhooks replay --since SEQ',
    col_seq: 'Event', col_event: 'Type', col_attempts: 'Attempts', col_error: 'Error',
    'ev_ticket.issued': 'Ticket issued', 'ev_ticket.called': 'Ticket called', 'ev_ticket.finished': 'Served',
    'ev_ticket.no_show': 'No-show', 'ev_ticket.cancelled': 'Ticket cancelled', 'ev_ticket.transferred': 'Transferred',
    'ev_ticket.unserved': 'Unserved', 'ev_rating.recorded': 'Rating', 'ev_day.closed': 'Day closed',
  });
  /** A role's or a device kind's word (the code itself if the page has none). */
  const named = (prefix, code) => { const w = t(prefix + code); return w === prefix + code ? code : w; };

  const S = { devices: {} };

  async function act(fn) {
    try { await fn(); await loadAll(); } catch (e) { Q.toast(e.message, true); }
  }

  async function loadStaff() {
    const r = await Q.api('GET', '/admin/staff');
    $('#staff-body').replaceChildren(...r.staff.map((u) => el('tr', { 'data-user': u.username, 'data-active': u.active ? '1' : '0' },
      el('td', { text: u.username }), el('td', { text: u.full_name }), el('td', { 'data-role': u.role, text: named('role_', u.role) }),
      el('td', { text: u.counters.join(', ') }),
      el('td', {}, el('span', { class: 'chip ' + (u.active ? 'st-open' : 'st-closed'), text: u.active ? t('active') : t('disabled') })),
      el('td', {}, el('div', { class: 'actions-cell' },
        el('button', { type: 'button', class: 'small', 'data-act': 'password', text: t('reset_pw'), onclick: () => {
          const pw = prompt(t('new_pw', { u: u.username }));
          if (pw) act(() => Q.api('POST', '/admin/staff/' + encodeURIComponent(u.username) + '/password', { password: pw }));
        } }),
        el('button', { type: 'button', class: 'small', 'data-act': 'counters', text: t('set_counters'), onclick: () => {
          const v = prompt(t('counters_for', { u: u.username }), u.counters.join(','));
          if (v !== null) act(() => Q.api('PATCH', '/admin/staff/' + encodeURIComponent(u.username),
            { counters: v.split(',').map((x) => x.trim()).filter(Boolean) }));
        } }),
        el('button', { type: 'button', class: 'small', 'data-act': u.active ? 'disable' : 'enable', text: u.active ? t('disable') : t('enable'),
          onclick: () => act(() => Q.api('PATCH', '/admin/staff/' + encodeURIComponent(u.username), { active: !u.active })) }))))));
  }

  async function loadTokens() {
    const r = await Q.api('GET', '/admin/device-tokens');
    S.devices = r.devices;
    const fromConfig = r.config_tokens.map((d) => el('tr', { 'data-config-token': d.kind + ':' + d.device_id },
      el('td', { 'data-kind': d.kind, text: named('kind_', d.kind) }), el('td', { text: d.device_id }), el('td', { class: 'muted', text: t('from_config') }),
      el('td', { text: '–' }), el('td', {}, el('span', { class: 'chip st-open', text: t('active') })), el('td')));
    const made = r.tokens.map((x) => el('tr', { 'data-token': x.id },
      el('td', { 'data-kind': x.kind, text: named('kind_', x.kind) }), el('td', { text: x.device_id }), el('td', { text: x.note }),
      el('td', { text: Q.fmtDateTime(x.created_ms) }),
      el('td', {}, el('span', { class: 'chip ' + (x.revoked ? 'st-closed' : 'st-open'), text: x.revoked ? t('revoked') : t('active') })),
      el('td', {}, x.revoked ? null : el('button', { type: 'button', class: 'small', 'data-act': 'revoke', text: t('revoke'), onclick: () => {
        if (confirm(t('confirm_revoke', { d: named('kind_', x.kind) + ' ' + x.device_id }))) act(() => Q.api('POST', '/admin/device-tokens/' + x.id + '/revoke', {}));
      } }))));
    $('#tokens-body').replaceChildren(...fromConfig, ...made);
    fillDevices();
  }

  function fillDevices() {
    const ids = S.devices[$('#token-kind').value] || [];
    $('#token-device').replaceChildren(...ids.map((id) => el('option', { value: id, text: id })));
  }

  async function loadNotices() {
    const r = await Q.api('GET', '/admin/notices');
    $('#notices').replaceChildren(...r.notices.map((n) => {
      const vi = el('input', { value: n.text || '', placeholder: t('notice_vi') + (n.config_notice ? ' — ' + n.config_notice : ''), 'data-lang': 'vi' });
      const en = el('input', { value: n.text_en || '', placeholder: t('notice_en'), 'data-lang': 'en' });
      return el('div', { class: 'notice-row', 'data-display': n.display }, el('span', { class: 'name', text: n.name }), vi, en,
        el('button', { type: 'button', class: 'small', 'data-act': 'notice', text: t('save'),
          onclick: () => act(async () => { await Q.api('PUT', '/admin/notices/' + encodeURIComponent(n.display), { text: vi.value, text_en: en.value }); Q.toast(t('saved')); }) }));
    }));
  }

  async function loadAudit() {
    const r = await Q.api('GET', '/admin/audit?limit=100&lang=' + Q.lang);
    $('#audit-body').replaceChildren(...r.events.map((e) => el('tr', { 'data-seq': e.seq, 'data-type': e.type },
      el('td', { text: Q.fmtDateTime(e.ts_ms) }), el('td', { text: e.who || '' }), el('td', { text: e.label }),
      el('td', { class: 'muted', text: e.detail }))));
  }

  /** Each webhook receiver: its counts, the event it waits on (and why), its last delivery, its dead letters. */
  async function loadWebhooks() {
    const r = await Q.api('GET', '/admin/webhooks');
    const count = (state, n) => el('span', { class: 'chip ' + (state === 'dead' && n ? 'st-closed' : 'st-open'),
      'data-count': state, text: t('wh_' + state) + ': ' + n });
    $('#webhooks').replaceChildren(...(r.webhooks.length ? r.webhooks.map((w) => {
      const head = w.first_pending;
      return el('div', { class: 'webhook', 'data-webhook': w.id },
        el('h3', {}, w.id + ' ', el('span', { class: 'muted wh-url', text: w.url, style: 'overflow-wrap:anywhere' })),
        el('p', {}, count('pending', w.counts.pending), ' ', count('delivered', w.counts.delivered), ' ',
          count('dead', w.counts.dead), w.enabled ? null : el('span', { class: 'chip st-break', text: t('wh_off') })),
        head ? el('p', { 'data-first-pending': head.seq, text: t('wh_first', { s: head.seq, a: head.attempts,
          n: Q.fmtDateTime(head.next_ms) }) }) : null,
        head && head.last_error ? el('p', { class: 'muted', 'data-last-error': '', style: 'overflow-wrap:anywhere',
          text: t('wh_error', { e: head.last_error }) }) : null,
        w.last_delivered ? el('p', { class: 'muted', 'data-last-delivered': w.last_delivered.seq,
          text: t('wh_last_ok', { s: w.last_delivered.seq, t: Q.fmtDateTime(w.last_delivered.delivered_ms) }) }) : null,
        w.dead_letters.length ? el('table', { class: 'grid wh-dead' },
          el('caption', { text: t('wh_dead_title') }),
          el('thead', {}, el('tr', {}, ...['col_seq', 'col_event', 'col_attempts', 'col_error', 'col_time']
            .map((k) => el('th', { text: t(k) })))),
          el('tbody', {}, ...w.dead_letters.map((d) => el('tr', { 'data-dead': d.seq },
            el('td', { text: d.seq }), el('td', { 'data-type': d.type, text: named('ev_', d.type) }), el('td', { text: d.attempts }),
            el('td', { text: d.last_error, style: 'overflow-wrap:anywhere' }),
            el('td', { text: d.last_attempt_ms ? Q.fmtDateTime(d.last_attempt_ms) : '' }))))) : null);
    }) : [el('p', { class: 'muted', text: t('wh_none') })]));
  }

  async function loadAll() {
    await Promise.all([loadStaff(), loadTokens(), loadNotices(), loadAudit(), loadWebhooks(), Q.adminNotices.load()]);
  }

  $('#staff-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(async () => {
      await Q.api('POST', '/admin/staff', {
        username: $('#new-username').value.trim(), full_name: $('#new-fullname').value.trim(), role: $('#new-role').value,
        counters: $('#new-counters').value.split(',').map((x) => x.trim()).filter(Boolean), password: $('#new-password').value,
      });
      for (const id of ['#new-username', '#new-fullname', '#new-counters', '#new-password']) $(id).value = '';
      Q.toast(t('saved'));
    });
  });
  /** The role and device-kind choices, named in the page's language (their values stay the codes). */
  function nameChoices() {
    for (const o of $('#new-role').options) o.textContent = named('role_', o.value);
    for (const o of $('#token-kind').options) o.textContent = named('kind_', o.value);
  }
  nameChoices();
  $('#token-kind').addEventListener('change', fillDevices);
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(async () => {
      const r = await Q.api('POST', '/admin/device-tokens', { kind: $('#token-kind').value, device_id: $('#token-device').value, note: $('#token-note').value });
      const box = $('#token-new');
      box.hidden = false;
      box.replaceChildren(t('token_once', { d: named('kind_', r.kind) + ' ' + r.device_id }), el('strong', { 'data-new-token': '', text: r.token }));
    });
  });
  $('#btn-reload').addEventListener('click', async () => {
    const out = $('#reload-result');
    out.hidden = false;
    try {
      const r = await Q.api('POST', '/admin/reload', {});
      out.classList.remove('error');
      out.textContent = t('reloaded', { p: r.path, h: r.config_hash }) + (r.notes.length ? '\n' + r.notes.join('\n') : '');
    } catch (e) {
      out.classList.add('error');
      out.textContent = e.message;
    }
    loadAudit().catch(() => {});
  });
  Q.onLang = () => { nameChoices(); loadAll().catch(() => {}); };
  Q.start(['admin'], () => { loadAll().catch((e) => Q.toast(e.message, true)); });
})();
