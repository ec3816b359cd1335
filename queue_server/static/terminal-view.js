/* The counter terminal's screen: the counter picker, the current ticket, the buttons with the reason each is
 * locked, the waiting and recent tickets, the answer of the last press, and the call and transfer dialogs.
 * terminal.js owns the state, the connection and the actions; it hands them to QMS.terminalView. */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, $$, el, t, fold } = Q;

  /** c: {S, reasonFor(op), currentTicket(), send(op, extra, opts), enterCounter(id), api(method, path)} */
  Q.terminalView = function (c) {
    const S = c.S;
    const PAGE = Q.page();
    const { reasonFor, currentTicket, send, enterCounter, api } = c;

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

    /** "Next" found nobody: not a failure, a calm line that clears itself when a citizen arrives.
     * S.lastAck keeps the server's answer (text) and what the officer sees (shown). */
    function showEmpty(res) {
      const a = $('#ack');
      a.className = 'ack idle';
      a.dataset.error = res.error;
      a.replaceChildren(el('span', { text: t('queue_empty') }));
      S.lastAck = { ok: false, text: res.message, code: res.error, shown: t('queue_empty'), n: S.ackCount };
    }
    function clearEmpty() {
      const a = $('#ack');
      if (!a.classList.contains('idle')) return;
      a.className = 'ack'; a.dataset.error = ''; a.replaceChildren();
    }

    // ------------------------------------------------------------------ "next" while a ticket is at the counter
    function openNextDialog() {
      $('#next-question').textContent = t('next_question', { code: currentTicket().code });
      $('#dlg-next').showModal();
      $('#next-confirm').focus();
    }

    // ------------------------------------------------------------------ dialogs
    function openCallDialog() {
      const reason = reasonFor('call');
      if (reason) return showAck(false, reason);
      const sel = $('#call-service');
      const ids = (S.counter && S.counter.services) || [];
      sel.replaceChildren(el('option', { value: '', text: t('any_service') }),
        ...ids.map((id) => el('option', { value: id, text: Q.pick(S.servicesInfo[id], 'name') || id })));
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
    let transferPick = null;  // the target tapped, waiting for "Xác nhận chuyển"
    let transferPoll = null;
    function openTransferDialog() {
      const reason = reasonFor('transfer');
      if (reason) return showAck(false, reason);
      $('#transfer-code').textContent = currentTicket() ? currentTicket().code : '';
      $('#transfer-search').value = '';
      $('#transfer-last').checked = false;
      transferPick = null;
      setTransferTab('service');
      $('#dlg-transfer').showModal();
      $('#transfer-search').focus();
      refreshTransfer();
      clearInterval(transferPoll);  // counts of services this counter does not hear about: read again while open
      transferPoll = setInterval(() => { if ($('#dlg-transfer').open) refreshTransfer(); else clearInterval(transferPoll); }, 3000);
    }

    /** Fresh counts and states of every service and counter for the open dialog. */
    async function refreshTransfer() {
      try {
        const [svc, cts] = await Promise.all([api('GET', '/services'), api('GET', '/counters')]);
        S.servicesInfo = Object.fromEntries(svc.services.map((x) => [x.id, x]));
        S.allCounters = cts.counters;
        S.transferReads = (S.transferReads || 0) + 1;
      } catch (err) { return; }  // the list keeps what it had; the next read tries again
      if ($('#dlg-transfer').open) renderTransferList();
    }

    function setTransferTab(tab) {
      transferTab = tab;
      transferPick = null;
      for (const b of $$('#dlg-transfer .tab')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
      renderTransferList();
    }

    function transferTargets() {
      if (transferTab === 'service') {
        const own = currentTicket() ? currentTicket().service : null;
        const items = Object.values(S.servicesInfo).filter((s) => s.id !== own).map((s) => ({
          kind: 'service', id: s.id, label: Q.pick(s, 'name'), closed: s.state !== 'open',
          mark: s.state === 'full' ? t('svc_full') : s.state !== 'open' ? t('svc_closed') : '',
          sub: Q.pick(s, 'department_name') + ' · ' + s.waiting + ' ' + t('people'),
          search: fold(s.name + ' ' + (s.name_en || '') + ' ' + s.department_name + ' ' + s.id),
        }));
        return items.filter((x) => !x.closed).concat(items.filter((x) => x.closed));  // open ones first
      }
      return S.allCounters.filter((c) => c.id !== S.counterId).map((c) => ({
        kind: 'counter', id: c.id, label: c.name, closed: c.state === 'closed', mark: c.state === 'closed' ? t('st_closed') : '',
        sub: t('st_' + c.state) + (c.staff_name ? ' · ' + c.staff_name : ''),
        search: fold(c.name + ' ' + c.number + ' ' + (c.staff_name || '') + ' ' + c.department),
      }));
    }

    function renderTransferList() {
      const q = fold($('#transfer-search').value);
      const words = q ? q.split(' ') : [];
      const items = transferTargets().filter((it) => words.every((w) => it.search.includes(w)));
      if (transferPick) transferPick = items.find((it) => it.kind === transferPick.kind && it.id === transferPick.id) || null;
      const list = $('#transfer-list');
      if (!items.length) list.replaceChildren(el('p', { class: 'muted', text: t('nothing_found') }));
      else {
        list.replaceChildren(...items.map((it) => el('button', {
          type: 'button', class: 'target' + (it.closed ? ' closed' : ''), role: 'option', 'data-kind': it.kind, 'data-id': it.id,
          'aria-selected': String(!!transferPick && transferPick.id === it.id), onclick: () => pickTransfer(it),
        }, el('span', { class: 'target-head' }, el('strong', { text: it.label }),
          it.mark ? el('span', { class: 'chip st-closed', text: it.mark }) : null),
        el('span', { class: 'muted', text: it.sub }))));
      }
      showTransferConfirm();
    }

    function pickTransfer(it) {
      transferPick = it;
      for (const b of $$('#transfer-list .target')) b.setAttribute('aria-selected', String(b.dataset.id === it.id && b.dataset.kind === it.kind));
      showTransferConfirm();
      $('#transfer-go').focus();
    }

    function showTransferConfirm() {
      const box = $('#transfer-confirm');
      box.hidden = !transferPick;
      if (!transferPick) return;
      const cur = currentTicket();
      const notes = [$('#transfer-last').checked ? t('transfer_last_note') : t('transfer_keep_note')];
      if (transferPick.closed) notes.push(t('closed_note', { target: transferPick.label }));
      $('#transfer-question').textContent = t('transfer_question', { code: cur ? cur.code : '', target: transferPick.label }) +
        ' ' + notes.join(' ');
    }

    function confirmTransfer() {
      if (!transferPick) return null;
      const it = transferPick;
      const extra = { go_last: $('#transfer-last').checked };
      if (it.kind === 'service') extra.service = it.id; else extra.to_counter = it.id;
      const cur = currentTicket();
      if (cur) extra.ticket = cur.id;
      transferPick = null;
      $('#dlg-transfer').close();
      return send('transfer', extra, { target: it.label });
    }
    const transferOpen = () => $('#dlg-transfer').open;

    let audio = null;
    /** A soft two-note chime (Web Audio, no file), logged in S.chimes. */
    function chime() {
      const entry = { ms: Date.now(), sound: 'none' };
      S.chimes.push(entry);
      try {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        if (!Ctx) return;
        audio = audio || new Ctx();
        if (audio.state === 'suspended') audio.resume();
        const t0 = audio.currentTime + 0.02;
        for (const [freq, at] of [[660, 0], [880, 0.22]]) {  // two soft notes, well under a second
          const osc = audio.createOscillator();
          const gain = audio.createGain();
          osc.type = 'sine'; osc.frequency.value = freq;
          gain.gain.setValueAtTime(0.0001, t0 + at);
          gain.gain.exponentialRampToValueAtTime(0.15, t0 + at + 0.03);
          gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.6);
          osc.connect(gain).connect(audio.destination);
          osc.start(t0 + at); osc.stop(t0 + at + 0.65);
        }
        entry.sound = audio.state;
      } catch (err) { entry.sound = 'error'; }  // no sound: the count and the lit button still show
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
      $('#current-service').textContent = cur ? Q.pick(cur, 'service_name') : '';
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
          el('td', { class: 'svc' }, el('strong', { text: Q.pick(info, 'name') || id }),
            st.state && st.state !== 'open' ? el('span', { class: 'chip st-closed', text: t('st_closed') }) : null,
            st.wait && st.wait.short ? el('span', { class: 'muted wait', 'data-wait': st.wait.state,  // the core's estimate
                                                    text: ' ' + st.wait.short[Q.lang === 'en' ? 'en' : 'vi'] }) : null),
          el('td', { class: 'num', 'data-waiting': st.waiting || 0, text: st.waiting || 0 }),
          el('td', { class: 'next', text: (st.next || []).slice(0, 4).join(' · ') }));
      });
      rows.push(el('tr', { class: 'total' }, el('td', { text: t('waiting_total') }), el('td', { class: 'num', id: 'waiting-total', text: total }), el('td')));
      $('#waiting-body').replaceChildren(...rows);
      const count = $('#next-count');  // how many wait for this counter, on the button that calls them
      count.hidden = !total;
      count.textContent = total;
    }

    function renderHistory() {
      const rows = S.history.slice(0, 12).map((h) => el('tr', { 'data-ticket': h.id, 'data-status': h.status },
        el('td', { class: 'code', text: h.code }), el('td', { text: Q.pick(h, 'service_name') }),
        el('td', {}, el('span', { class: 'chip st-' + (h.note || h.status), text: t('st_' + (h.note || h.status)) })),
        el('td', { text: fmtTimeMs(h.called_ms) })));
      $('#history-body').replaceChildren(...rows);
    }

    function renderParked() {
      const parked = S.history.filter((h) => h.status === 'parked' && h.counter && h.counter.id === S.counterId);
      $('#parked-card').hidden = !parked.length;
      const chip = $('#parked-chip');  // the parked list may be below the fold: its count sits by the current ticket
      chip.hidden = !parked.length;
      chip.dataset.count = parked.length;
      chip.textContent = t('parked_chip', { n: parked.length });
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

    return { renderPicker, showAck, showEmpty, clearEmpty, openCallDialog, submitCall, openNextDialog,
             openTransferDialog, setTransferTab, renderTransferList, refreshTransfer, showTransferConfirm, confirmTransfer,
             transferOpen, chime, render, renderButtons, renderWaiting, tick };
  };
})();
