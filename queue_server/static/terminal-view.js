/* The counter terminal's screen: the counter picker, the current ticket, the buttons with the reason each is
 * locked, the waiting and recent tickets, the answer of the last press, and the call and transfer dialogs.
 * terminal.js owns the state, the connection and the actions; it hands them to QMS.terminalView. */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, $$, el, t, fold } = Q;

  /** c: {S, reasonFor(op), currentTicket(), send(op, extra, opts), enterCounter(id)} */
  Q.terminalView = function (c) {
    const S = c.S;
    const PAGE = Q.page();
    const { reasonFor, currentTicket, send, enterCounter } = c;

    function renderPicker() {
      const list = $('#counter-list');
      list.replaceChildren(...S.counters.map((c) => el('button', {
        type: 'button', class: 'pick', 'data-counter': c.id, onclick: () => enterCounter(c.id),
      }, el('strong', { text: c.name }), el('span', { class: 'chip st-' + c.state, text: t('st_' + c.state) }),
      c.staff_name ? el('span', { class: 'muted', text: c.staff_name }) : null)));
    }

    function showAck(ok, text, code) {
      const a = $('#ack');
      a.className = 'ack ' + (ok === null ? 'sending' : ok ? 'ok' : 'err');
      a.dataset.error = code || '';
      const now = new Date(Date.now() + S.serverOffset);
      a.replaceChildren(el('span', { class: 'ack-time', text: fmtClock(now) }), ' ', el('span', { text: (ok === true ? '✓ ' : ok === false ? '✗ ' : '… ') + text }));
      S.lastAck = { ok, text, code: code || null, n: S.ackCount };
    }

    // ------------------------------------------------------------------ dialogs
    function openCallDialog() {
      const reason = reasonFor('call');
      if (reason) return showAck(false, reason);
      const sel = $('#call-service');
      const ids = (S.counter && S.counter.services) || [];
      sel.replaceChildren(el('option', { value: '', text: t('any_service') }),
        ...ids.map((id) => el('option', { value: id, text: (S.servicesInfo[id] || {}).name || id })));
      $('#call-code').value = '';
      $('#dlg-call').showModal();
      $('#call-code').focus();
    }

    async function submitCall(ev) {
      ev.preventDefault();
      const code = $('#call-code').value.trim().toUpperCase();
      if (!code) return;
      const extra = { code };
      if ($('#call-service').value) extra.service = $('#call-service').value;
      $('#dlg-call').close();
      await send('call', extra);
    }

    let transferTab = 'service';
    function openTransferDialog() {
      const reason = reasonFor('transfer');
      if (reason) return showAck(false, reason);
      $('#transfer-code').textContent = currentTicket() ? currentTicket().code : '';
      $('#transfer-search').value = '';
      $('#transfer-last').checked = false;
      setTransferTab('service');
      $('#dlg-transfer').showModal();
      $('#transfer-search').focus();
    }

    function setTransferTab(tab) {
      transferTab = tab;
      for (const b of $$('#dlg-transfer .tab')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
      renderTransferList();
    }

    function transferTargets() {
      if (transferTab === 'service') {
        return Object.values(S.servicesInfo).map((s) => ({
          kind: 'service', id: s.id, label: s.name, sub: s.department_name + ' · ' + s.waiting + ' ' + t('people'),
          search: fold(s.name + ' ' + (s.name_en || '') + ' ' + s.department_name + ' ' + s.id),
        }));
      }
      return S.allCounters.filter((c) => c.id !== S.counterId).map((c) => ({
        kind: 'counter', id: c.id, label: c.name, sub: t('st_' + c.state) + (c.staff_name ? ' · ' + c.staff_name : ''),
        search: fold(c.name + ' ' + c.number + ' ' + (c.staff_name || '') + ' ' + c.department),
      }));
    }

    function renderTransferList() {
      const q = fold($('#transfer-search').value);
      const words = q ? q.split(' ') : [];
      const items = transferTargets().filter((it) => words.every((w) => it.search.includes(w)));
      const list = $('#transfer-list');
      if (!items.length) { list.replaceChildren(el('p', { class: 'muted', text: t('nothing_found') })); return; }
      list.replaceChildren(...items.map((it) => el('button', {
        type: 'button', class: 'target', role: 'option', 'data-kind': it.kind, 'data-id': it.id,
        onclick: () => doTransfer(it),
      }, el('strong', { text: it.label }), el('span', { class: 'muted', text: it.sub }))));
    }

    function doTransfer(it) {
      const extra = { go_last: $('#transfer-last').checked };
      if (it.kind === 'service') extra.service = it.id; else extra.to_counter = it.id;
      const cur = currentTicket();
      if (cur) extra.ticket = cur.id;
      $('#dlg-transfer').close();
      return send('transfer', extra, { target: it.label });
    }

    // ------------------------------------------------------------------ rendering
    function fmtClock(d) {
      const parts = new Intl.DateTimeFormat('en-GB', { timeZone: PAGE.tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d);
      return parts;
    }
    function fmtTimeMs(ms) {
      if (!ms) return '';
      return new Intl.DateTimeFormat('en-GB', { timeZone: PAGE.tz, hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(ms));
    }
    const fmtDuration = (ms) => Q.fmtDuration(Math.max(0, ms), true);

    function render() {
      if (document.body.dataset.view !== 'terminal') return;
      const c = S.counter;
      $('#counter-name').textContent = c ? c.name : ((S.allCounters.find((x) => x.id === S.counterId) || {}).name || '');
      const st = $('#counter-state');
      st.textContent = c ? t('st_' + c.state) : '';
      st.className = 'chip' + (c ? ' st-' + c.state : '');
      $('#counter-staff').textContent = c && c.staff_name ? c.staff_name : '';
      const cur = currentTicket();
      $('#current-code').textContent = cur ? cur.code : t('none');
      $('#current-code').dataset.ticket = cur ? cur.id : '';
      $('#current-service').textContent = cur ? cur.service_name : '';
      const cs = $('#current-status');
      cs.textContent = cur ? t('st_' + cur.status) : '';
      cs.className = 'chip' + (cur ? ' st-' + cur.status : '');
      $('#current-recalls').textContent = cur && cur.recall_count ? t('recalls', { n: cur.recall_count }) : '';
      $('#current-card').dataset.status = cur ? cur.status : 'none';
      tick();
      renderButtons();
      renderWaiting();
      renderHistory();
      renderParked();
    }

    function renderButtons() {
      const offline = S.conn !== 'online';
      const r = $('#offline-reason');
      r.hidden = !offline;
      r.textContent = offline ? (S.conn === 'connecting' ? t('r_connecting') : t('r_offline')) : '';
      const c = S.counter;
      let shownReason = '';
      for (const b of $$('#actions .act')) {
        const op = b.dataset.op;
        const why = reasonFor(op);
        // state toggles: show only the one that applies
        if (op === 'open') b.hidden = !!c && c.state !== 'closed';
        if (op === 'break') b.hidden = !c || c.state !== 'open';
        if (op === 'back') b.hidden = !c || c.state !== 'break';
        if (op === 'close') b.hidden = !c || c.state === 'closed';
        b.disabled = !!why;
        b.title = why && why !== '-' ? why : '';
        b.classList.toggle('busy', !!S.pending && S.pending.op === op);
        if (!shownReason && why && why !== '-' && !b.hidden && ['next', 'open', 'back'].includes(op)) shownReason = why;
      }
      $('#actions-reason').textContent = offline ? '' : shownReason;
      for (const b of $$('#parked-list button')) {
        const why = reasonFor('resume');
        b.disabled = !!why; b.title = why;
      }
    }

    function renderWaiting() {
      if (document.body.dataset.view !== 'terminal') return;
      const ids = (S.counter && S.counter.services) || Object.keys(S.services);
      let total = 0;
      const rows = ids.map((id) => {
        const st = S.services[id] || { waiting: 0, next: [] };
        total += st.waiting || 0;
        const info = S.servicesInfo[id] || {};
        return el('tr', { 'data-service': id },
          el('td', { class: 'svc' }, el('strong', { text: info.name || id }),
            st.state && st.state !== 'open' ? el('span', { class: 'chip st-closed', text: t('st_closed') }) : null,
            st.wait && st.wait.short ? el('span', { class: 'muted wait', 'data-wait': st.wait.state,  // the core's estimate
                                                    text: ' ' + st.wait.short[Q.lang === 'en' ? 'en' : 'vi'] }) : null),
          el('td', { class: 'num', 'data-waiting': st.waiting || 0, text: st.waiting || 0 }),
          el('td', { class: 'next', text: (st.next || []).slice(0, 4).join(' · ') }));
      });
      rows.push(el('tr', { class: 'total' }, el('td', { text: t('waiting_total') }), el('td', { class: 'num', id: 'waiting-total', text: total }), el('td')));
      $('#waiting-body').replaceChildren(...rows);
    }

    function renderHistory() {
      const rows = S.history.slice(0, 12).map((h) => el('tr', { 'data-ticket': h.id, 'data-status': h.status },
        el('td', { class: 'code', text: h.code }), el('td', { text: h.service_name }),
        el('td', {}, el('span', { class: 'chip st-' + (h.note || h.status), text: t('st_' + (h.note || h.status)) })),
        el('td', { text: fmtTimeMs(h.called_ms) })));
      $('#history-body').replaceChildren(...rows);
    }

    function renderParked() {
      const parked = S.history.filter((h) => h.status === 'parked' && h.counter && h.counter.id === S.counterId);
      $('#parked-card').hidden = !parked.length;
      $('#parked-list').replaceChildren(...parked.map((h) => el('button', {
        type: 'button', class: 'act small-act', 'data-resume': h.id,
        onclick: () => send('resume', { ticket: h.id }, { label: t('op_resume') }),
      }, el('strong', { text: h.code }), ' ', el('span', { text: t('op_resume') }))));
      renderButtonsParkedOnly();
    }
    function renderButtonsParkedOnly() {
      for (const b of $$('#parked-list button')) { const why = reasonFor('resume'); b.disabled = !!why; b.title = why; }
    }

    function tick() {
      const cur = currentTicket();
      const out = $('#current-timer');
      if (!cur) { out.textContent = ''; return; }
      const now = Date.now() + S.serverOffset;
      if (cur.status === 'serving' && cur.started_ms) out.textContent = t('timer_serving') + ' ' + fmtDuration(now - cur.started_ms);
      else if (cur.called_ms) out.textContent = t('timer_called') + ' ' + fmtDuration(now - cur.called_ms);
      else out.textContent = '';
    }

    return { renderPicker, showAck, openCallDialog, submitCall, openTransferDialog, setTransferTab, renderTransferList,
             render, renderButtons, renderWaiting, tick };
  };
})();
