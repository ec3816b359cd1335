/* Sizing for the display pages (loaded before display.js, as window.QMS.fit): numbers, counters and names are
 * never cut.
 *
 * fitText(nodes): each node keeps the font size its stylesheet gives it unless its text is wider (or, where the
 *   box has a height, taller) than its box; then the font shrinks until the text fits, a few passes at most.
 * fitColumn(box, node): when a column of texts (the headline) is taller than its box, the one large text (the
 *   number) shrinks by what is missing, so the column fits.
 * fitGrid(node, n, cellAspect, minRows): columns and rows for n tiles of about that shape in the node's box.
 * callRows(list, limit): how many last calls the list shows, so that each row is large enough to read from
 *   far away (a font of at least 5.5vmin), at most `limit`; sets the rows and the rows' font on the list.
 */
(function (global) {
  'use strict';

  const MIN_CALL_VMIN = 5.5;   // a last call's font, in vmin, at the least
  const MAX_CALL_VMIN = 9;     // ... and at the most (a few calls on a large panel)

  function vmin() { return Math.min(global.innerWidth, global.innerHeight) / 100; }

  function overflowRatio(node) {
    const w = node.clientWidth, h = node.clientHeight;
    let r = 1;
    if (w > 0 && node.scrollWidth > w + 0.5) r = Math.min(r, w / node.scrollWidth);
    // wrapped text: its height goes with the square of the font size
    if (h > 0 && node.scrollHeight > h + 0.5) r = Math.min(r, Math.sqrt(h / node.scrollHeight));
    return r;
  }

  function fitText(nodes) {
    const list = Array.from(nodes).filter((n) => n && n.isConnected && n.getClientRects().length);
    for (const n of list) n.style.fontSize = '';
    for (let pass = 0; pass < 6; pass++) {
      const over = [];
      for (const n of list) {   // read every box first, then write: one layout per pass
        const r = overflowRatio(n);
        if (r < 1) over.push([n, r]);
      }
      if (!over.length) return;
      for (const [n, r] of over) {
        const size = parseFloat(global.getComputedStyle(n).fontSize) || 16;
        n.style.fontSize = Math.max(4, size * Math.min(r, 0.99) * 0.98) + 'px';
      }
    }
  }

  /** How much taller the box's children (with their margins) are than the box's content height. A centred
   *  column overflows at both ends, so the box's scrollHeight would show only half of it. */
  function columnExcess(box) {
    const cs = global.getComputedStyle(box);
    const avail = box.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    let top = Infinity, bottom = -Infinity;
    for (const kid of box.children) {
      const k = global.getComputedStyle(kid);
      if (!kid.getClientRects().length || k.position === 'absolute' || k.position === 'fixed') continue;  // not in the column
      const r = kid.getBoundingClientRect();
      top = Math.min(top, r.top - parseFloat(k.marginTop));
      bottom = Math.max(bottom, r.bottom + parseFloat(k.marginBottom));
    }
    return bottom > top ? bottom - top - avail : 0;
  }

  function fitColumn(box, node) {
    for (let pass = 0; pass < 3 && node.getClientRects().length; pass++) {
      const excess = columnExcess(box);
      if (excess <= 0.5) return;
      const size = parseFloat(global.getComputedStyle(node).fontSize) || 16;
      const h = node.getBoundingClientRect().height || 1;
      node.style.fontSize = Math.max(4, size * Math.max(0.2, (h - excess - 2) / h)) + 'px';
    }
  }

  function fitGrid(node, n, cellAspect, minRows) {
    const w = node.clientWidth || 1, h = node.clientHeight || 1;
    let cols = Math.max(1, Math.round(Math.sqrt(Math.max(n, 1) * (w / h) / cellAspect)));
    cols = Math.min(cols, Math.max(n, 1), 10);
    const rows = Math.max(minRows, Math.ceil(n / cols));
    node.style.setProperty('--cols', cols);
    node.style.setProperty('--rows', rows);
    return { cols, rows };
  }

  function callRows(list, limit) {
    const h = list.clientHeight || 1;
    const v = vmin();
    const fit = Math.max(1, Math.floor(h / (MIN_CALL_VMIN * v * 1.45)));
    const rows = Math.max(1, Math.min(limit, fit));
    const slots = Math.max(rows, Math.min(fit, 3));   // a few calls do not grow beyond readable-and-calm
    const font = Math.max(MIN_CALL_VMIN * v, Math.min(MAX_CALL_VMIN * v, (h / slots) / 1.45));
    list.style.setProperty('--cols', 1);
    list.style.setProperty('--rows', slots);
    list.style.setProperty('--call-font', font.toFixed(1) + 'px');
    return rows;
  }

  window.QMS.fit = { fitText, fitColumn, fitGrid, callRows };
})(window);
