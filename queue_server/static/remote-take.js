/* The phone page of remote walk-in numbers (web/remote.py): after a scan of a hall display's QR code, choose a
 * service open now, optionally give a mobile number for "your turn is near" notices, and take the number; the
 * ticket's status page follows. A refused scan (expired, not valid) shows why, in the chosen language. */
(function () {
  'use strict';
  const Q = window.QMS;
  const PAGE = Q.page();
  const { el, t, pick } = Q;
  const $ = Q.byId;

  Q.words({
    title: 'Lấy số thứ tự', choose: 'Chọn dịch vụ', take: 'Lấy số', taking: 'Đang lấy số…',
    phone_label: 'Số điện thoại di động (không bắt buộc)',
    phone_hint: 'Để nhận tin nhắn khi sắp đến lượt. Chỉ dùng cho lượt này.',
    none_open: 'Hiện không có dịch vụ nào nhận lấy số bằng điện thoại. Vui lòng lấy số tại máy.',
    where: 'Khu vực: {name}', waiting: '{n} người đang chờ', held: 'Số của công dân: {code} — {service}',
    see: 'Xem số', pick_one: 'Vui lòng chọn một dịch vụ.', valid_for: 'Trang này dùng được trong {n} phút sau khi quét mã.',
    scan_again: 'Mở camera của điện thoại và quét mã QR trên màn hình tại sảnh.', network: 'Không kết nối được máy chủ. Vui lòng thử lại.',
  }, {
    title: 'Take a number', choose: 'Choose a service', take: 'Take a number', taking: 'Taking a number…',
    phone_label: 'Mobile number (optional)',
    phone_hint: 'To get a message when your turn is near. Used for this visit only.',
    none_open: 'No service takes numbers by phone right now. Please use the kiosk.',
    where: 'You are at: {name}', waiting: '{n} waiting', held: 'Your number: {code} — {service}',
    see: 'See it', pick_one: 'Please choose a service.', valid_for: 'This page can take a number for {n} minutes after the scan.',
    scan_again: "Open your phone's camera and scan the QR code on the screen in the hall.", network: 'The server cannot be reached. Please try again.',
  });

  const langs = (navigator.languages || [navigator.language || 'vi']).map((l) => String(l).toLowerCase());
  Q.setLang(langs.some((l) => l.startsWith('vi')) || !langs.some((l) => l.startsWith('en')) ? 'vi' : 'en');
  let chosen = null;
  const services = (PAGE.services || []).filter((s) => s.state === 'open');
  const nameOf = (sid) => { const s = (PAGE.services || []).find((x) => x.id === sid); return s ? pick(s, 'name') : sid; };

  function render() {
    Q.applyI18n();
    $('lang-vi').setAttribute('aria-pressed', String(Q.lang === 'vi'));
    $('lang-en').setAttribute('aria-pressed', String(Q.lang === 'en'));
    $('centre-name').textContent = pick(PAGE.centre, 'name');
    if (PAGE.refused) {
      $('refused-text').textContent = Q.lang === 'en' ? PAGE.refused.message_en : PAGE.refused.message;
      return;
    }
    $('where').textContent = PAGE.display_name ? t('where', { name: PAGE.display_name }) : '';
    $('valid-for').textContent = t('valid_for', { n: PAGE.page_minutes });
    const held = PAGE.held || [];
    $('held').hidden = !held.length;
    $('held').replaceChildren(...held.map((h) => el('div', {},
      t('held', { code: h.code, service: nameOf(h.service) }), ' ', el('a', { href: '/t/' + h.token, text: t('see') }))));
    $('none-open').hidden = services.length > 0;
    $('take-number').disabled = services.length === 0;
    $('services').replaceChildren(...services.map((s) => el('label', { class: 'service' },
      el('input', { type: 'radio', name: 'service', value: s.id, checked: chosen === s.id, onchange: () => { chosen = s.id; } }),
      el('span', { class: 's-text' },
        el('span', { class: 's-name', text: pick(s, 'name') }),
        el('span', { class: 's-dept', text: pick(s, 'department_name') }),
        el('span', { class: 's-wait', text: t('waiting', { n: s.waiting }) })))));
  }

  function showError(text) {
    $('error').textContent = text || '';
    $('error').hidden = !text;
  }

  async function take() {
    if (!chosen) { showError(t('pick_one')); return; }
    showError('');
    const button = $('take-number');
    button.disabled = true;
    button.textContent = t('taking');
    const phone = $('phone').value.trim();
    try {
      const out = await Q.api('POST', '/remote/tickets', {
        display: PAGE.display, minute: PAGE.minute, presence: PAGE.presence, service: chosen,
        phone: phone || null, lang: Q.lang,
      }, { token: null });
      location.assign(out.status_path);
      return;
    } catch (err) {
      if (err.code === 'remote_ticket_active' && err.data && err.data.status_url) {
        showError(err.message);
        $('error').append(' ', el('a', { href: err.data.status_url, text: t('see') }));
      } else {
        showError(err.status ? err.message : t('network'));
      }
    }
    button.disabled = false;
    button.textContent = t('take');
  }

  $('lang-vi').addEventListener('click', () => { Q.setLang('vi'); render(); });
  $('lang-en').addEventListener('click', () => { Q.setLang('en'); render(); });
  if (!PAGE.refused) $('take-number').addEventListener('click', take);
  render();
})();
