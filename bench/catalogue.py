"""Procedure search at the kiosk: 2,000 procedures, queries with and without diacritics, by name and by code.

(a) the pure index (ticket_printer/server/catalogue.py): build time, then per-query latency over a mix of queries;
(b) GET /api/v1/procedures through the Flask app in this process (the handler, the index, the service states
    and the JSON), against the demo config.yaml with the 2,000 procedures imported into a scratch database.
The target is under 50 ms per search for 2,000 procedures.
"""
from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from ticket_printer.server.catalogue import CatalogueIndex, Procedure, fold

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"

WORDS = ("cấp đăng ký thay đổi điều chỉnh gia hạn xác nhận công nhận thẩm định giấy phép chứng chỉ hành nghề kinh "
         "doanh hộ tịch khai sinh kết hôn đất đai môi trường thuế hóa đơn bảo hiểm xã hội y tế dược thực phẩm xây dựng "
         "nhà ở vận tải lao động việc làm giáo dục văn bằng du lịch báo chí xuất bản bưu chính tôn giáo dân tộc").split()


def generated(services: dict[str, str], n: int = 2000, seed: int = 1) -> list[Procedure]:
    rnd = random.Random(seed)
    ids = sorted(services)
    seen: set[str] = set()
    out: list[Procedure] = []
    while len(out) < n:
        name = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 10))).capitalize()
        if fold(name) in seen:
            continue
        seen.add(fold(name))
        sid = rnd.choice(ids)
        out.append(Procedure(code=f"{rnd.choice('12')}.{100000 + len(out):06d}", name=name, service=sid,
                             department=services[sid], field=rnd.choice(WORDS)))
    return out


def queries(procs: list[Procedure], n: int = 200, seed: int = 2) -> list[str]:
    rnd = random.Random(seed)
    out = ["dang ky khai sinh", "Đăng ký khai sinh", "ĐĂNG KÝ", "giay phep kinh doanh", "1.100193", "100193",
           "thue", "bao hiem xa hoi", "x", "cap doi"]
    for p in rnd.sample(procs, n):
        words = p.name.split()
        k = rnd.randint(1, min(4, len(words)))
        q = " ".join(words[:k])
        out.append(rnd.choice([q, fold(q), q.upper(), p.code]))
    return out


def _latencies(fn, qs: list[str], seconds: float) -> list[float]:
    out: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and len(out) < 200_000:
        for q in qs:
            t0 = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def _summary(prefix: str, ms: list[float]) -> dict:
    ms = sorted(ms)
    return {f"{prefix}_searches": len(ms), f"{prefix}_mean_ms": statistics.fmean(ms),
            f"{prefix}_p50_ms": ms[len(ms) // 2], f"{prefix}_p95_ms": ms[int(len(ms) * 0.95)],
            f"{prefix}_p99_ms": ms[int(len(ms) * 0.99)], f"{prefix}_max_ms": ms[-1]}


def run(seconds: float = 3.0) -> dict:
    from queue_server.config import load_config

    cfg = load_config(ROOT / "config.yaml")
    services = {sid: d.id for sid, (d, _s) in cfg.services().items()}
    procs = generated(services)
    qs = queries(procs)
    figures: dict = {"procedures": len(procs), "distinct_queries": len(qs)}

    t0 = time.perf_counter()
    names = {sid: f"{s.name} {s.name_en}" for sid, (_d, s) in cfg.services().items()}
    index = CatalogueIndex(procs, names)
    figures["index_build_ms"] = (time.perf_counter() - t0) * 1000
    figures.update(_summary("index", _latencies(lambda q: index.search(q, 20), qs, seconds)))

    # The REST handler in-process (no network): index + service states + JSON.
    from queue_server.web.app import create_app
    from ticket_printer.server.catalogue_store import ProcedureStore

    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=WORK))
    try:
        app = create_app(cfg.model_copy(update={"catalogue": cfg.catalogue.model_copy(update={"file": ""})}),
                         db_path=str(tmp / "catalogue.sqlite3"), async_mode="threading", start_background=False)
        ProcedureStore(app.extensions["qms"].store).replace(procs, source="bench", actor="bench")
        client = app.test_client()

        def rest(q: str) -> None:
            r = client.get("/api/v1/procedures?limit=20&q=" + quote(q))
            assert r.status_code == 200, r.data

        rest("warm up")
        figures.update(_summary("rest", _latencies(rest, qs[:60], seconds)))
        app.extensions["qms"].store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures["under_50ms"] = figures["rest_p99_ms"] < 50
    return figures
