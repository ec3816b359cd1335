/* Live supervisor dashboard (GET /supervisor).
 * Room `supervisors` over Socket.IO: every change arrives live; after a change the page reads
 * GET /api/v1/supervisor/state again (debounced), and keeps its timers running between reads.
 * Actions: POST /api/v1/services/<id> (open / close / auto, daily cap) and PUT /api/v1/counters/<id>/services. */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, el, t } = Q;
  Q.words({
    services_title: 'Hàng chờ theo dịch vụ', counters_title: 'Quầy', devices_title: 'Thiết bị',
    col_service: 'Dịch vụ', col_waiting: 'Đang chờ', col_longest: 'Chờ lâu nhất / mục tiêu', col_estimate: 'Ước tính chờ',
    booked_to_come: 'đặt lịch chưa đến',
    col_issued: 'Đã phát / giới hạn', col_counters: 'Quầy đang mở', col_state: 'Trạng thái', col_actions: 'Điều chỉnh',
    col_kind: 'Loại', col_device: 'Thiết bị', col_detail: 'Chi tiết', col_seen: 'Lần cuối',
    st_open: 'Đang mở', st_closed: 'Đóng', st_full: 'Hết số', manual_open: 'mở thủ công', manual_closed: 'đóng thủ công',
    r_outside_hours: 'ngoài giờ', r_closed_today: 'nghỉ hôm nay', r_closed_manually: 'đóng thủ công', r_full: 'đã hết số',
    btn_open: 'Mở', btn_close: 'Đóng', btn_auto: 'Tự động', btn_cap: 'Đặt giới hạn', btn_cap_reset: 'Bỏ giới hạn riêng',
    cap_placeholder: 'giới hạn', minutes: 'phút', no_limit: 'không giới hạn',
    cv_serving: 'Đang phục vụ', cv_idle: 'Đang rảnh', cv_break: 'Tạm nghỉ', cv_closed: 'Đóng', cv_offline: 'Mất kết nối',
    officer: 'Cán bộ', nobody: '—', reassign: 'Đổi dịch vụ', save: 'Lưu', cancel: 'Hủy', to_config: 'Theo cấu hình',
    reassigned: 'đã điều chuyển', need_one: 'Chọn ít nhất một dịch vụ.',
    k_kiosk: 'Máy lấy số', k_printer: 'Máy in phiếu', k_display: 'Màn hình', k_led_board: 'Bảng LED', k_keypad: 'Bàn phím đánh giá',
    k_agent: 'Máy trạm thiết bị', k_dispenser: 'Máy phát số', k_message_queue: 'Liên kết máy chủ (Redis)', never: 'chưa thấy', ago: '{t} trước',
    just_now: 'vừa xong', n_sec: '{n} giây', n_min: '{n} phút', n_hour: '{n} giờ', n_hour_min: '{n} giờ {m} phút',
    devices_from_config: 'Chưa có sổ trạng thái thiết bị: danh sách lấy từ config.yaml, trạng thái chưa biết.',
    done_service: 'Đã cập nhật dịch vụ {s}', done_counter: 'Đã đổi dịch vụ của {c}', no_alerts: '',
    ds_online: 'đang hoạt động', ds_offline: 'mất kết nối', ds_disconnected: 'mất kết nối', ds_missing: 'mất tín hiệu',
    ds_error: 'lỗi', ds_failed: 'hỏng', ds_paper_out: 'hết giấy', ds_timeout: 'không trả lời', ds_unknown: 'chưa rõ',
    never_reported: 'chưa báo trạng thái',
  }, {
    services_title: 'Queues by service', counters_title: 'Counters', devices_title: 'Devices',
    col_service: 'Service', col_waiting: 'Waiting', col_longest: 'Longest wait / target', col_estimate: 'Estimated wait',
    booked_to_come: 'booked, to come',
    col_issued: 'Issued / cap', col_counters: 'Open counters', col_state: 'State', col_actions: 'Adjust',
    col_kind: 'Kind', col_device: 'Device', col_detail: 'Detail', col_seen: 'Last seen',
    st_open: 'Open', st_closed: 'Closed', st_full: 'Full', manual_open: 'opened by hand', manual_closed: 'closed by hand',
    r_outside_hours: 'outside hours', r_closed_today: 'closed today', r_closed_manually: 'closed by hand', r_full: 'cap reached',
    btn_open: 'Open', btn_close: 'Close', btn_auto: 'Auto', btn_cap: 'Set cap', btn_cap_reset: 'Back to configured cap',
    cap_placeholder: 'cap', minutes: 'min', no_limit: 'no cap',
    cv_serving: 'Serving', cv_idle: 'Idle', cv_break: 'On break', cv_closed: 'Closed', cv_offline: 'Offline',
    officer: 'Officer', nobody: '—', reassign: 'Change services', save: 'Save', cancel: 'Cancel', to_config: 'As configured',
    reassigned: 'reassigned', need_one: 'Choose at least one service.',
    k_kiosk: 'Kiosk', k_printer: 'Ticket printer', k_display: 'Display', k_led_board: 'LED board', k_keypad: 'Rating keypad',
    k_agent: 'Device agent', k_dispenser: 'Dispenser', k_message_queue: 'Server link (Redis)', never: 'never', ago: '{t} ago',
    just_now: 'just now', n_sec: '{n} s', n_min: '{n} min', n_hour: '{n} h', n_hour_min: '{n} h {m} min',
    devices_from_config: 'No device registry yet: the list comes from config.yaml, states unknown.',
    done_service: 'Service {s} updated', done_counter: 'Services of {c} changed', no_alerts: '',
    ds_online: 'online', ds_offline: 'offline', ds_disconnected: 'disconnected', ds_missing: 'missing',
    ds_error: 'error', ds_failed: 'failed', ds_paper_out: 'out of paper', ds_timeout: 'not answering', ds_unknown: 'unknown',
    never_reported: 'never reported',
  });

  const S = { state: null, offset: 0, editing: null, choice: new Set(), capDrafts: new Map(), live: null, timer: null, alerts: null };
  const now = () => Date.now() + S.offset;

  function name(o, key) { return (Q.lang === 'en' && o[key + '_en']) || o[key]; }

  async function refresh() {
    try {
      const st = await Q.api('GET', '/supervisor/state');
      S.offset = st.now_ms - Date.now();
      S.state = st;
      S.alerts = st.alerts;
      Q.forecast.show(st.forecast);
      render();
    } catch (e) {
      if (e.status !== 401) Q.toast(e.message, true);
    }
  }
  function soon() { clearTimeout(S.timer); S.timer = setTimeout(refresh, 250); }

  function connect() {
    if (S.live) S.live.close();
    const conn = $('#conn');
    const showConn = (on) => { conn.dataset.state = on ? 'on' : 'off'; conn.textContent = t(on ? 'conn_on' : 'conn_off'); };
    const on = {
      'counter.updated': (m) => {
        if (S.state) {
          const i = S.state.counters.findIndex((c) => c.id === m.counter.id);
          if (i >= 0) S.state.counters[i] = Object.assign({}, S.state.counters[i], m.counter);
          renderCounters();
        }
        soon();
      },
      'alerts.updated': (m) => { S.alerts = m.alerts; renderAlerts(); soon(); },
      'forecast.updated': (m) => Q.forecast.show(m.forecast),
    };
    for (const ev of ['snapshot', 'ticket.issued', 'ticket.called', 'ticket.updated', 'queue.updated', 'device.updated',
      'config.reloaded', 'rating.recorded']) on[ev] = soon;
    S.live = Q.live({
      room: 'supervisors', token: Q.token, lang: () => Q.lang, io: { transports: ['websocket'] }, on,
      onState: (s) => { if (s === 'online') { showConn(true); soon(); } else if (s === 'offline') showConn(false); },
      onRefused: (code) => { showConn(false); if (code === 'unauthenticated') Q.signout(); return true; },
    });
  }

  // ---------------------------------------------------------------- rendering
  function render() {
    if (!S.state) return;
    renderAlerts(); Q.forecast.render(); renderServices(); renderCounters(); renderDevices(); tick();
  }

  function renderAlerts() {
    const list = S.alerts || [];
    $('#alerts').replaceChildren(...list.map((a) => el('div', { class: 'alert ' + a.level, 'data-alert': a.id },
      Q.lang === 'en' ? a.message_en : a.message)));
  }

  function serviceState(s) {
    const chip = el('span', { class: 'chip st-' + s.state, 'data-state': s.state, text: t('st_' + s.state) });
    const why = s.state !== 'open' && s.reason ? t('r_' + s.reason) : (s.manual === 'open' ? t('manual_open') : '');
    return [chip, why ? el('div', { class: 'muted small', text: why + (s.opens_at ? ' → ' + s.opens_at : '') }) : null];
  }

  async function setService(s, body) {
    try {
      await Q.api('POST', '/services/' + encodeURIComponent(s.id), body);
      Q.toast(t('done_service', { s: name(s, 'name') }));
      refresh();
    } catch (e) { Q.toast(e.message, true); }
  }

  function renderServices() {
    const rows = [];
    const focused = document.activeElement && document.activeElement.classList.contains('cap')
      ? document.activeElement.closest('tr[data-service]').dataset.service : null;
    for (const d of S.state.departments) {
      rows.push(el('tr', { class: 'dept' }, el('td', { colspan: 8, text: name(d, 'name') })));
      for (const s of S.state.services.filter((x) => x.department === d.id)) {
        // What the supervisor types lives in S.capDrafts until it is sent: a live update re-renders the row.
        const cap = el('input', { type: 'number', min: 0, class: 'cap', placeholder: t('cap_placeholder'),
          value: S.capDrafts.has(s.id) ? S.capDrafts.get(s.id)
            : (s.cap_override !== null && s.cap_override !== undefined ? String(s.cap_override) : ''),
          oninput: (ev) => S.capDrafts.set(s.id, ev.target.value) });
        if (s.id === focused) setTimeout(() => cap.focus(), 0);
        rows.push(el('tr', { 'data-service': s.id, 'data-state': s.state, 'data-manual': s.manual },
          el('td', {}, el('strong', { text: name(s, 'name') })),
          el('td', { class: 'num waiting', text: s.waiting }),
          el('td', { class: 'num longest' + (s.over_target ? ' over' : ''), 'data-since': s.oldest_waiting_ms || '',
            'data-target': s.target_wait_minutes * 60000 }, ''),
          el('td', { class: 'num', text: s.estimated_wait_minutes === null ? '–' : s.estimated_wait_minutes + ' ' + t('minutes') }),
          el('td', { class: 'num', text: s.issued_today + ' / ' + (s.daily_cap === null ? '∞' : s.daily_cap)
            + (s.booked_to_come ? ' · ' + s.booked_to_come + ' ' + t('booked_to_come') : '') }),
          el('td', { text: s.open_counters.join(', ') || '–' }),
          el('td', {}, ...serviceState(s)),
          el('td', {}, el('div', { class: 'actions-cell' },
            el('button', { type: 'button', class: 'small' + (s.manual === 'open' ? ' on' : ''), 'data-act': 'open', text: t('btn_open'),
              onclick: () => setService(s, { state: 'open' }) }),
            el('button', { type: 'button', class: 'small' + (s.manual === 'closed' ? ' on' : ''), 'data-act': 'close', text: t('btn_close'),
              onclick: () => setService(s, { state: 'closed' }) }),
            el('button', { type: 'button', class: 'small' + (s.manual === 'auto' ? ' on' : ''), 'data-act': 'auto', text: t('btn_auto'),
              onclick: () => setService(s, { state: 'auto' }) }),
            cap,
            el('button', { type: 'button', class: 'small', 'data-act': 'cap', text: t('btn_cap'), onclick: () => {
              const v = cap.value.trim();
              S.capDrafts.delete(s.id);
              if (v === '') setService(s, { reset_cap: true }); else setService(s, { daily_cap: parseInt(v, 10) });
            } }),
            s.cap_override !== null && s.cap_override !== undefined
              ? el('button', { type: 'button', class: 'small', 'data-act': 'cap-reset', text: t('btn_cap_reset'),
                onclick: () => setService(s, { reset_cap: true }) }) : null))));
      }
    }
    $('#services-body').replaceChildren(...rows);
  }

  function serviceName(id) {
    const s = S.state.services.find((x) => x.id === id);
    return s ? name(s, 'name') : id;
  }

  async function assign(c, services) {
    try {
      await Q.api('PUT', '/counters/' + encodeURIComponent(c.id) + '/services', { services });
      S.editing = null;
      Q.toast(t('done_counter', { c: c.name }));
      refresh();
    } catch (e) { Q.toast(e.message, true); }
  }

  function editor(c) {
    const sets = S.state.departments.map((d) => el('fieldset', {}, el('legend', { text: name(d, 'name') }),
      ...S.state.services.filter((s) => s.department === d.id).map((s) => {
        // The choice lives in S.choice, not in the boxes: live updates re-render the card while the supervisor edits.
        const box = el('input', { type: 'checkbox', value: s.id, checked: S.choice.has(s.id), 'data-svc': s.id,
          onchange: (ev) => { if (ev.target.checked) S.choice.add(s.id); else S.choice.delete(s.id); } });
        return el('label', {}, box, ' ', name(s, 'name'));
      })));
    return el('div', { class: 'editor' }, ...sets, el('div', { class: 'buttons' },
      el('button', { type: 'button', class: 'primary small', 'data-act': 'save-services', text: t('save'), onclick: () => {
        const chosen = S.state.services.map((x) => x.id).filter((id) => S.choice.has(id));
        if (!chosen.length) { Q.toast(t('need_one'), true); return; }
        assign(c, chosen);
      } }),
      el('button', { type: 'button', class: 'small', 'data-act': 'reset-services', text: t('to_config'), onclick: () => assign(c, null) }),
      el('button', { type: 'button', class: 'small', text: t('cancel'), onclick: () => { S.editing = null; renderCounters(); } })));
  }

  function renderCounters() {
    if (!S.state) return;
    const cards = S.state.counters.map((c) => {
      const view = c.view_state || c.state;
      const cur = c.current;
      return el('div', { class: 'counter', 'data-counter': c.id, 'data-view-state': view },
        el('header', {}, el('span', { class: 'num', text: c.name }),
          el('span', { class: 'chip st-' + view, text: t('cv_' + view) })),
        el('div', { class: 'muted' }, t('officer') + ': ', c.staff_name || t('nobody')),
        el('div', {}, el('span', { class: 'current', text: cur ? cur.code : '—' }),
          cur ? el('span', { class: 'timer', 'data-since': c.current_since_ms || cur.called_ms || '' }) : null,
          cur ? el('div', { class: 'muted', text: name(cur, 'service_name') }) : null),
        el('div', { class: 'svc-list', 'data-services': c.services.join(',') },
          ...c.services.map((id) => el('span', { class: 'chip', 'data-svc': id, text: serviceName(id) }))),
        c.reassigned ? el('div', { class: 'reassigned', text: t('reassigned') }) : null,
        S.editing === c.id ? editor(c)
          : el('button', { type: 'button', class: 'small', 'data-act': 'reassign', text: t('reassign'),
            onclick: () => { S.editing = c.id; S.choice = new Set(c.services); renderCounters(); } }));
    });
    $('#counters').replaceChildren(...cards);
    tick();
  }

  function renderDevices() {
    const note = $('#devices-note');
    note.hidden = S.state.devices_source !== 'config';
    note.textContent = t('devices_from_config');
    $('#devices-body').replaceChildren(...S.state.devices.map((d) => el('tr', { 'data-device': d.kind + ':' + d.device_id, 'data-state': d.state },
      el('td', { text: t('k_' + d.kind) }),
      el('td', { text: d.name && d.name !== d.device_id ? d.device_id + ' — ' + inLang(d.label, d.name) : d.device_id }),
      el('td', {}, el('span', { class: 'chip st-' + d.state, text: Q.dict.vi['ds_' + d.state] ? t('ds_' + d.state) : d.state })),
      el('td', { class: 'muted', text: d.state === 'unknown' && !d.last_seen_ms ? t('never_reported') : inLang(d.detail_text, d.detail || '') }),
      el('td', { class: 'seen', 'data-seen': d.last_seen_ms || '' }))));
  }

  /** {vi, en} from the server, in the page's language (`fallback` when the server sent none). */
  function inLang(words, fallback) { return (words && words[Q.lang]) || fallback; }

  /** How long ago, in words a person says: "vừa xong", "40 giây trước", "2 phút trước", "1 giờ 5 phút trước". */
  function ago(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 10) return t('just_now');
    if (s < 60) return t('ago', { t: t('n_sec', { n: s }) });
    const m = Math.floor(s / 60);
    if (m < 60) return t('ago', { t: t('n_min', { n: m }) });
    const h = Math.floor(m / 60);
    return t('ago', { t: m % 60 ? t('n_hour_min', { n: h, m: m % 60 }) : t('n_hour', { n: h }) });
  }
  Q.agoText = ago;

  function tick() {
    $('#clock').textContent = Q.fmtTime(now());
    for (const td of Q.$$('#services-body td.longest')) {
      const since = parseInt(td.dataset.since, 10);
      const target = parseInt(td.dataset.target, 10);
      const goal = ' / ' + (target / 60000).toLocaleString(Q.lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 2 }) + ' ' + t('minutes');
      if (!since) { td.textContent = '–' + goal; td.classList.remove('over'); continue; }
      const waited = now() - since;
      td.textContent = Q.fmtDuration(waited) + goal;
      td.classList.toggle('over', waited > target);
    }
    for (const span of Q.$$('#counters .timer')) {
      const since = parseInt(span.dataset.since, 10);
      span.textContent = since ? Q.fmtDuration(now() - since) : '';
    }
    for (const td of Q.$$('#devices-body td.seen')) {
      const seen = parseInt(td.dataset.seen, 10);
      td.textContent = seen ? ago(now() - seen) : t('never');
    }
  }

  Q.onLang = () => { render(); };
  Q.onSignout = () => { if (S.live) S.live.close(); S.live = null; S.state = null; };
  Q.start(['supervisor', 'admin'], () => {
    connect();
    refresh();
  });
  setInterval(tick, 1000);
  setInterval(() => { if (S.state && document.body.dataset.view === 'main') refresh(); }, 15000);
})();
