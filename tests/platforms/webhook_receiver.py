"""A small webhook receiver on 127.0.0.1, as an agency would write one: it verifies the
signature with ``verify_signature`` and records what it accepted. Scripted answers let a test
make it throttle, fail or refuse."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ads.core.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.requests: list[dict[str, Any]] = []  # the bodies accepted
        self.rejected_signatures = 0
        self.statuses: dict[str, str] = {}
        self.budgets: dict[str, tuple[str, str]] = {}  # id -> (daily budget, currency)
        self.script: list[Answer] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if not verify_signature(
                    secret=receiver.secret,
                    body=body,
                    timestamp_header=self.headers.get(TIMESTAMP_HEADER),
                    signature_header=self.headers.get(SIGNATURE_HEADER),
                    now=time.time(),
                ):
                    receiver.rejected_signatures += 1
                    self._answer(Answer(401, {"error": "bad signature"}))
                    return
                answer = receiver.script.pop(0) if receiver.script else Answer(200)
                if 200 <= answer.status < 300:
                    payload = json.loads(body)
                    receiver.requests.append(payload)
                    refused = {item["id"] for item in answer.body.get("failed", [])}
                    for item in payload["campaigns"]:
                        if item["id"] in refused:
                            continue
                        if "status" in item:
                            receiver.statuses[item["id"]] = item["status"]
                        if "daily_budget" in item:
                            receiver.budgets[item["id"]] = (item["daily_budget"], item["currency"])
                self._answer(answer)

            def _answer(self, answer: Answer) -> None:
                data = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ads"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
