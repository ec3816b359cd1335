/* The supervisor's message to everyone waiting for a service (a delay, a counter closing):
 * POST /api/v1/services/<id>/broadcast. It shows on the service's displays and its tickets' status pages, and
 * goes by SMS/Zalo to those who gave a phone number. An empty text takes the notice down. */
(function () {
  'use strict';
  const Q = window.QMS;
  const { $, el, t } = Q;
  Q.words({
    bc_title: 'Thông báo cho người đang chờ', bc_service: 'Dịch vụ', bc_text: 'Nội dung (tiếng Việt)',
    bc_text_en: 'Nội dung (tiếng Anh, không bắt buộc)', bc_send: 'Gửi thông báo', bc_clear: 'Gỡ thông báo',
    bc_sent: 'Đã gửi: hiện trên màn hình và trang theo dõi của {p} số đang chờ; {m} tin nhắn SMS/Zalo.',
    bc_cleared: 'Đã gỡ thông báo của dịch vụ.', bc_hint: 'Ví dụ: Quầy 5 tạm dừng 15 phút do sự cố mạng.',
  }, {
    bc_title: 'Message to those waiting', bc_service: 'Service', bc_text: 'Text (Vietnamese)',
    bc_text_en: 'Text (English, optional)', bc_send: 'Send the message', bc_clear: 'Take the message down',
    bc_sent: 'Sent: on the displays and the status pages of {p} waiting tickets; {m} SMS/Zalo messages.',
    bc_cleared: 'The service\'s message was taken down.', bc_hint: 'E.g. Counter 5 is paused for 15 minutes (network problem).',
  });
  const box = $('#broadcast');
  if (!box) return;
  const service = el('select', { id: 'bc-service', 'aria-label': t('bc_service') });
  const text = el('input', { id: 'bc-text', maxlength: 300, placeholder: t('bc_hint'), 'aria-label': t('bc_text') });
  const textEn = el('input', { id: 'bc-text-en', maxlength: 300, 'aria-label': t('bc_text_en') });
  const result = el('p', { id: 'bc-result', class: 'muted', role: 'status' });

  async function send(clear) {
    try {
      const r = await Q.api('POST', '/services/' + encodeURIComponent(service.value) + '/broadcast',
                            clear ? { text: '' } : { text: text.value, text_en: textEn.value });
      result.textContent = clear ? t('bc_cleared') : t('bc_sent', { p: r.pages, m: r.messages });
      if (clear) { text.value = ''; textEn.value = ''; }
    } catch (e) { result.textContent = e.message; }
  }

  async function fill() {
    if (service.options.length) return;
    const r = await Q.api('GET', '/services');
    for (const s of r.services || []) service.append(el('option', { value: s.id, text: Q.lang === 'en' ? s.name_en || s.name : s.name }));
  }

  box.replaceChildren(
    el('form', { class: 'inline-form', onsubmit: (ev) => { ev.preventDefault(); send(false); } },
      service, text, textEn,
      el('button', { type: 'submit', class: 'primary', id: 'bc-send', text: t('bc_send') }),
      el('button', { type: 'button', id: 'bc-clear', text: t('bc_clear'), onclick: () => send(true) })),
    result);
  text.required = true;
  service.addEventListener('focus', () => fill().catch(() => {}));
  fill().catch(() => {});
})();
