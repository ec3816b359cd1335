"""docs/integrations.md is tested: its Python and Node.js signature checks accept a request QMS really sent and
refuse it changed by one byte, and its example body has the keys a real body has."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from server_util import server_config
from webhook_receiver import Receiver

WHOLE = (Path(__file__).parent.parent / "docs" / "integrations.md").read_text(encoding="utf-8")
DOC = WHOLE[WHOLE.index("## Signed webhooks"):]  # the webhook part (the page also covers dossier look-up)
SECRET = "khóa-bí-mật-dùng-chung-0123456789"


def block(lang: str) -> str:
    [code] = re.findall(rf"```{lang}\n(.*?)```", DOC, re.S)
    return code


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    """One ticket.issued request, as the receiver got it, sent now (the snippets check the time)."""
    tmp = tmp_path_factory.mktemp("webhook-docs")
    rec = Receiver().start()
    clock = Clock(datetime.now(timezone.utc))
    path = server_config(tmp, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["integrations"] = {"webhooks": [{"id": "portal", "url": rec.url, "secret": SECRET, "events": ["ticket.*"]}]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    site = InProcessServer(path, tmp / "qms.sqlite3", clock)
    try:
        assert site.post("/api/v1/tickets", {"service": "cccd"},
                         headers={"Authorization": "Bearer test-kiosk-token-1"}).status_code == 201
        assert site.app.extensions["qms_webhooks"].send_all_due() == 1
        yield rec.got[0]
    finally:
        site.close()
        rec.stop()


def test_the_python_check_of_the_docs_accepts_a_real_request_and_refuses_a_changed_one(sent):
    scope: dict = {}
    exec(compile(block("python"), "integrations.md", "exec"), scope)  # noqa: S102 - the documented snippet
    headers = {"X-QMS-Timestamp": sent["headers"]["x-qms-timestamp"],
               "X-QMS-Signature": sent["headers"]["x-qms-signature"]}
    assert scope["verify"](SECRET, headers, sent["body"])
    assert not scope["verify"](SECRET, headers, sent["body"] + b" ")
    assert not scope["verify"](SECRET[:-1], headers, sent["body"])
    assert not scope["verify"](SECRET, {**headers, "X-QMS-Timestamp": str(int(headers["X-QMS-Timestamp"]) - 1)},
                               sent["body"])


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_node_check_of_the_docs_accepts_a_real_request_and_refuses_a_changed_one(sent):
    script = block("javascript") + """
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const body = Buffer.from(input.body, "base64");
console.log(JSON.stringify([verify(input.secret, input.headers, body),
                            verify(input.secret, input.headers, Buffer.concat([body, Buffer.from(" ")])),
                            verify(input.secret + "x", input.headers, body)]));
"""
    import base64

    given = json.dumps({"secret": SECRET, "headers": sent["headers"], "body": base64.b64encode(sent["body"]).decode()})
    out = subprocess.run(["node", "-e", script], input=given, capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [True, False, False]


def test_the_example_body_of_the_docs_has_the_keys_of_a_real_one(sent):
    [example] = re.findall(r"```json\n(.*?)```", DOC, re.S)
    doc_body, real = json.loads(example), json.loads(sent["body"])
    assert list(doc_body) == list(real)
    assert list(doc_body["ticket"]) == list(real["ticket"])
    for header in ("X-QMS-Event-Id", "X-QMS-Timestamp", "X-QMS-Signature"):
        assert f"`{header}`" in DOC and header.lower() in sent["headers"]
