"""A local Graph API for the tests, the benchmark and the demo: an HTTP server on 127.0.0.1
answering the few paths the Meta adapter uses (batch requests, an ad account's campaigns
and insights), so the real facebook-business SDK talks to it unchanged.

Nothing here is used in production. ``script`` makes the next HTTP calls answer with an
error as the Graph API does (throttling with usage headers, 5xx, an expired token).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_ACCOUNT_EDGE = re.compile(r"^/v[\d.]+/(act_\d+)/(campaigns|insights)$")
_BATCH = re.compile(r"^/v[\d.]+/?$")
# One line per batch request (counts only), so the demo's pushes show as they arrive.
logger = logging.getLogger(__name__)


def graph_error(code: int, message: str, *, transient: bool = False) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException" if code == 190 else "GraphMethodException",
            "code": code,
            "is_transient": transient,
            "fbtrace_id": "fake",
        }
    }


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeMeta:
    account_id: str = "act_1001"
    access_token: str = "meta-test-token"
    statuses: dict[str, str] = field(default_factory=dict)  # campaign id -> ACTIVE/PAUSED
    # Campaign id -> daily budget in minor units; what the account takes at least.
    daily_budgets: dict[str, int] = field(default_factory=dict)
    min_daily_budget: int = 100
    spend: dict[tuple[str, date], str] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    script: list[Scripted] = field(default_factory=list)
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(
        self, method: str, path: str, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.calls += 1
            if self.script:
                scripted = self.script.pop(0)
                return scripted.status, scripted.body, scripted.headers
            if params.get("access_token") != self.access_token:
                return 400, graph_error(190, "Error validating access token."), {}
            if method == "POST" and _BATCH.match(path):
                items = [self._batch_item(c) for c in json.loads(params["batch"])]
                logger.info(
                    "fake Meta: batch request: %s of %s calls succeeded",
                    sum(1 for item in items if item["code"] == 200),
                    len(items),
                )
                return 200, items, {}
            edge = _ACCOUNT_EDGE.match(path)
            if method == "GET" and edge and edge.group(1) == self.account_id:
                rows = self._campaigns() if edge.group(2) == "campaigns" else self._insights(params)
                return 200, self._page(rows, params), {}
            return 400, graph_error(100, f"Unsupported {method} request for {path}"), {}

    def _batch_item(self, call: dict[str, Any]) -> dict[str, Any]:
        campaign_id = call["relative_url"].split("?")[0].strip("/")
        body = parse_qs(call.get("body", ""))
        if campaign_id in self.unknown or campaign_id not in self.statuses:
            error = graph_error(100, f"Unsupported post request. Object {campaign_id} not found")
            return {"code": 400, "headers": [], "body": json.dumps(error)}
        if "daily_budget" in body:
            return self._budget(campaign_id, body["daily_budget"][0])
        status = body.get("status", [""])[0]
        if status not in ("ACTIVE", "PAUSED"):
            error = graph_error(100, f"Invalid status {status!r}")
            return {"code": 400, "headers": [], "body": json.dumps(error)}
        self.statuses[campaign_id] = status
        return {"code": 200, "headers": [], "body": json.dumps({"success": True})}

    def _budget(self, campaign_id: str, text: str) -> dict[str, Any]:
        # Minor units of the account currency, as the Marketing API takes them.
        if not text.isdigit() or int(text) < self.min_daily_budget:
            error = graph_error(
                100,
                f"Invalid parameter: daily_budget {text!r} is below the minimum daily budget "
                f"of {self.min_daily_budget} for this account",
            )
            return {"code": 400, "headers": [], "body": json.dumps(error)}
        self.daily_budgets[campaign_id] = int(text)
        return {"code": 200, "headers": [], "body": json.dumps({"success": True})}

    def _campaigns(self) -> list[dict[str, Any]]:
        return [{"id": cid, "status": status} for cid, status in sorted(self.statuses.items())]

    def _insights(self, params: dict[str, str]) -> list[dict[str, Any]]:
        assert params.get("level") == "campaign" and params.get("time_increment") == "1"
        time_range = json.loads(params["time_range"])
        since, until = date.fromisoformat(time_range["since"]), date.fromisoformat(
            time_range["until"]
        )
        return [
            {
                "campaign_id": cid,
                "spend": amount,
                "date_start": day.isoformat(),
                "date_stop": day.isoformat(),
            }
            for (cid, day), amount in sorted(self.spend.items())
            if since <= day <= until
        ]

    @staticmethod
    def _page(rows: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        limit = int(params.get("limit", "25"))
        start = int(params.get("after", "0"))
        page: dict[str, Any] = {"data": rows[start : start + limit]}
        if start + limit < len(rows):
            page["paging"] = {
                "cursors": {"before": str(start), "after": str(start + limit)},
                "next": "next-page",
            }
        return page


class FakeMetaServer:
    """Runs a FakeMeta on 127.0.0.1 while in a ``with`` block: on ``port``, or a free one
    (0). A port already in use raises OSError (EADDRINUSE)."""

    def __init__(self, fake: FakeMeta, *, port: int = 0) -> None:
        self.fake = fake

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                params = {key: values[0] for key, values in parse_qs(url.query).items()}
                if method == "POST":
                    length = int(self.headers.get("Content-Length", "0"))
                    body = self.rfile.read(length).decode()
                    params.update({k: v[0] for k, v in parse_qs(body).items()})
                status, payload, headers = fake.handle(method, url.path, params)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeMetaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
