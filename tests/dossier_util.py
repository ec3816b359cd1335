"""A fake one-stop system running in this process, and the test centre with a dossier source and a
return-of-results service (tests/test_dossiers.py, tests/test_dossier_kiosk_page.py)."""
from __future__ import annotations

import threading
from pathlib import Path

import yaml

from queue_server.dossiers import fake_data
from server_util import server_config

TOKEN = "test-onestop-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
RETURN_DEPARTMENT = {"id": "results", "name": "Bộ phận Tiếp nhận và Trả kết quả", "name_en": "Results desk", "zone": "A",
                     "services": [{"id": "tra_ket_qua", "name": "Trả kết quả", "name_en": "Return of results",
                                   "numbering": {"prefix": "R", "start": 1, "end": 999, "width": 3}}]}


class OneStop:
    """The fake one-stop server (queue_server.dossiers.fake_server) on a free port of 127.0.0.1, in a thread."""

    def __init__(self, slow_seconds: float = 5.0):
        from queue_server.dossiers.fake_server import make_server

        self.server = make_server(0, token=TOKEN, slow_seconds=slow_seconds)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def http_a(url: str, **extra) -> dict:
    """dossiers: for shape A (an object under data, numeric status codes)."""
    return {"source": "http", "return_service": "tra_ket_qua",
            "http": {"url": url + "/a/hoso/{code}", "headers": HEADERS, "fields": fake_data.FIELDS_A,
                     "status_values": fake_data.VALUES_A, **extra}}


def http_b(url: str, **extra) -> dict:
    """dossiers: for shape B (a list under result, status words)."""
    return {"source": "http", "return_service": "tra_ket_qua",
            "http": {"url": url + "/b/dossiers?code={code}", "headers": HEADERS, "fields": fake_data.FIELDS_B,
                     "status_values": fake_data.VALUES_B, **extra}}


def dossier_config(tmp: Path, dossiers: dict, name: str = "dossiers.yaml") -> Path:
    path = server_config(tmp, extra_counters=0)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["departments"].append(RETURN_DEPARTMENT)
    data["counters"].append({"id": "9", "number": 9, "department": "results", "services": ["tra_ket_qua"]})
    data["dossiers"] = dossiers
    out = tmp / name
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out
