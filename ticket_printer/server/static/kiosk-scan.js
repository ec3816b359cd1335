/* A USB 2D scanner on the kiosk: it types what it read as keystrokes, very fast, then Enter. This tells such a
 * burst from a person at a keyboard by its timing, wherever the page is (no text box needs the focus), and hands
 * the text to `onScan(text)`, which answers true when the text was its own (the Enter then goes no further: the
 * dossier look-up's own listener never sees it), false to leave it to the others.
 *
 * A burst: characters each at most MAX_GAP_MS after the one before (a longer pause starts a new burst), at least
 * MIN_CHARS of them, most of them at most SCAN_GAP_MS apart (the median gap: nobody types 20 keys a second, a
 * scanner sends one every few ms, and a busy kiosk PC that delays a few of its keys does not make it a person),
 * then Enter. Stray keys, a person's typing and modifier keys alone are ignored. A character is
 * whatever the key event carries (e.key: a Vietnamese letter of a name in a CCCD's QR arrives as its own Unicode
 * key event); a character the browser delivers without a key event is simply missing from the text, and the
 * parts that matter (the digits of a number, the separators) are plain ASCII keys.
 * When a text box had the focus, the burst typed into it is taken out of it again. */
(function () {
  "use strict";
  const Q = window.QMS;
  const MAX_GAP_MS = 300;
  const SCAN_GAP_MS = 50;
  const MIN_CHARS = 6;

  Q.kioskScanner = function (onScan) {
    const burst = { text: "", gaps: [], last: 0, count: 0, target: null };

    function reset() {
      burst.text = "";
      burst.gaps = [];
      burst.count = 0;
      burst.target = null;
    }

    function isScan(now) {
      if (burst.count < MIN_CHARS || now - burst.last > MAX_GAP_MS) return false;
      const gaps = burst.gaps.slice().sort((a, b) => a - b);
      return gaps[Math.floor(gaps.length / 2)] <= SCAN_GAP_MS;
    }

    function takeBack(target, text) {  // what the burst typed into a text box
      if (!(target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement)) return;
      if (target.value.endsWith(text)) {
        target.value = target.value.slice(0, -text.length);
        target.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }

    window.addEventListener("keydown", (ev) => {
      // when the key came from the device (the browser's own time of the event), not when a busy page got to it
      const now = ev.timeStamp || performance.now();
      if (ev.key === "Enter") {
        const scanned = isScan(now) ? burst.text : null;
        const target = burst.target;
        reset();
        if (scanned !== null && onScan(scanned)) {
          ev.preventDefault();
          ev.stopImmediatePropagation();
          takeBack(target, scanned);
        }
        return;
      }
      if (ev.ctrlKey || ev.altKey || ev.metaKey || [...(ev.key || "")].length !== 1) return;  // Shift, Tab, arrows...
      if (burst.count && now - burst.last > MAX_GAP_MS) reset();
      if (!burst.count) burst.target = ev.target;
      else burst.gaps.push(now - burst.last);
      burst.text += ev.key;
      burst.count += 1;
      burst.last = now;
    }, true);
  };
})();
