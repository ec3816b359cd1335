"""What `qms simulate` writes: a table in the terminal, CSV files, and an HTML report with PNG plots
(matplotlib, drawn here: the page needs no network). With a what-if, the two runs side by side."""
from __future__ import annotations

import csv
import html
import io
from pathlib import Path

from queue_server.simulate.run import ServiceRow, slot_label


def fmt(x, digits: int = 1, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.0f}%" if pct else f"{x:.{digits}f}"


SERVICE_COLUMNS = ("service", "issued", "p50", "p90", "within", "left", "unserved", "queue", "peak")


def service_table(runs: dict[str, list[ServiceRow]], names: dict[str, str]) -> str:
    """Per service, one row per run: p50/p90 wait (min), share within target, share who left, unserved, mean
    and peak queue length."""
    head = f"{'service':<28} {'run':<10} {'issued':>7} {'p50':>6} {'p90':>6} {'within':>7} {'left':>6} {'unsrv':>6} {'queue':>6} {'peak':>6}"
    lines = [head, "-" * len(head)]
    first = next(iter(runs.values()))
    for i, row in enumerate(first):
        for name, rows in runs.items():
            r = rows[i]
            lines.append(f"{names.get(r.service, r.service)[:28]:<28} {name[:10]:<10} {r.issued:>7} {fmt(r.p50):>6} "
                         f"{fmt(r.p90):>6} {fmt(r.within_target, pct=True):>7} {fmt(r.abandoned, pct=True):>6} "
                         f"{r.unserved:>6} {fmt(r.mean_queue):>6} {fmt(r.peak_queue):>6}")
    return "\n".join(lines)


def counter_table(runs: dict[str, list[dict]]) -> str:
    head = f"{'counter':<10} {'run':<10} {'open h':>8} {'busy':>6}"
    lines = [head, "-" * len(head)]
    ids = list(dict.fromkeys(r["counter"] for rows in runs.values() for r in rows))  # a what-if may add counters
    for cid in ids:
        for name, rows in runs.items():
            r = next((x for x in rows if x["counter"] == cid), None)
            if r is not None:
                lines.append(f"{cid:<10} {name[:10]:<10} {r['open_hours']:>8.1f} {fmt(r['utilisation'], pct=True):>6}")
    return "\n".join(lines)


ACCURACY_KEYS = ("n", "mae", "median_ae", "within_5min", "within_25pct", "range_holds", "too_short",
                 "mae_upto_30", "rel_mae_over_30")


def accuracy_table(acc: dict) -> str:
    head = f"{'who':<18} " + " ".join(f"{k:>13}" for k in ACCURACY_KEYS)
    lines = [head, "-" * len(head)]
    for who, figures in acc.items():
        cells = []
        for k in ACCURACY_KEYS:
            v = figures.get(k)
            pct = k in ("within_5min", "within_25pct", "range_holds", "too_short", "rel_mae_over_30")
            cells.append(f"{(str(v) if k == 'n' else fmt(v, 2, pct)) if v is not None else '–':>13}")
        lines.append(f"{who:<18} " + " ".join(cells))
    return "\n".join(lines)


def write_csv(path: Path, runs: dict[str, list[ServiceRow]], counters: dict[str, list[dict]]) -> list[Path]:
    path.mkdir(parents=True, exist_ok=True)
    services = path / "services.csv"
    with services.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["run", "service", "department", "issued", "served", "p50_wait_min", "p90_wait_min",
                    "share_within_target", "share_left", "unserved", "mean_queue", "peak_queue"])
        for name, rows in runs.items():
            for r in rows:
                w.writerow([name, r.service, r.department, r.issued, r.served, _n(r.p50), _n(r.p90),
                            _n(r.within_target), _n(r.abandoned), r.unserved, _n(r.mean_queue), _n(r.peak_queue)])
    counters_csv = path / "counters.csv"
    with counters_csv.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["run", "counter", "number", "department", "open_hours", "utilisation"])
        for name, rows in counters.items():
            for r in rows:
                w.writerow([name, r["counter"], r["number"], r["department"], _n(r["open_hours"]), _n(r["utilisation"])])
    return [services, counters_csv]


def _n(x) -> str:
    return "" if x is None else f"{x:.4g}"


# ---------------------------------------------------------------- plots and the HTML page
def _png(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path.name


def plots(out: Path, runs: dict[str, list[ServiceRow]], counters: dict[str, list[dict]],
          names: dict[str, str], focus: list[str]) -> list[tuple[str, str]]:
    """PNG files: p90 wait per service (horizontal bars, one colour per run), queue length over the day for the
    `focus` services, counter utilisation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    first = next(iter(runs.values()))
    labels = [names.get(r.service, r.service)[:40] for r in first]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(labels) + 1.5))
    height = 0.8 / len(runs)
    for k, (name, rows) in enumerate(runs.items()):
        ax.barh([i + k * height for i in range(len(rows))], [r.p90 or 0 for r in rows], height=height, label=name)
    ax.set_yticks([i + height * (len(runs) - 1) / 2 for i in range(len(labels))], labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("p90 wait (min)")
    ax.legend()
    made.append(("p90 wait per service", _png(fig, out / "p90_wait.png")))

    fig, ax = plt.subplots(figsize=(9, 4))
    styles = ("-", "--", ":", "-.")
    for k, (name, rows) in enumerate(runs.items()):  # one colour per service, one line style per run
        for r in rows:
            if r.service in focus and r.queue_by_slot:
                xs = [i for i, _ in enumerate(r.queue_by_slot)]
                ax.plot(xs, r.queue_by_slot, styles[k % len(styles)], color=f"C{focus.index(r.service)}",
                        label=f"{names.get(r.service, r.service)[:30]} ({name})")
    ticks = [i for i in range(0, 24 * 4, 4)]
    ax.set_xticks(ticks, [slot_label(i) for i in ticks], fontsize=7, rotation=45)
    ax.set_xlim(7 * 4, 17 * 4)
    ax.set_ylabel("waiting (mean over days)")
    ax.legend(fontsize=7)
    made.append(("queue length over the day", _png(fig, out / "queue_length.png")))

    fig, ax = plt.subplots(figsize=(9, 4))
    for name, rows in counters.items():
        ax.plot([r["counter"] for r in rows], [100 * (r["utilisation"] or 0) for r in rows], "o", label=name)
    ax.set_ylabel("utilisation (%)")
    ax.tick_params(axis="x", labelsize=7, rotation=90)
    ax.legend()
    made.append(("counter utilisation", _png(fig, out / "utilisation.png")))
    return made


def write_html(out: Path, title: str, tables: list[tuple[str, str]], images: list[tuple[str, str]]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    body = io.StringIO()
    body.write(f"<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
               "<style>body{font-family:sans-serif;margin:1.5rem;max-width:1100px}pre{overflow-x:auto;"
               "background:#f5f5f5;padding:.6rem;font-size:12px}img{max-width:100%;height:auto;display:block}"
               "figure{margin:1rem 0}</style></head><body>")
    body.write(f"<h1>{html.escape(title)}</h1>")
    for caption, png in images:
        body.write(f"<figure><img src=\"{html.escape(png)}\" alt=\"{html.escape(caption)}\">"
                   f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    for caption, text in tables:
        body.write(f"<h2>{html.escape(caption)}</h2><pre>{html.escape(text)}</pre>")
    body.write("</body></html>")
    page = out / "report.html"
    page.write_text(body.getvalue(), encoding="utf-8")
    return page
