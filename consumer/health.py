"""Readiness state and the HTTP server for `/metrics`, `/healthz` and `/readyz`.

`/healthz` answers 200 while the process runs. `/readyz` answers 200 only when the model is loaded,
the broker answered the last round trip, and this member has partitions or has joined its group;
otherwise 503, with the failing checks in the JSON body. Broker state changes are logged once each.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from consumer.errors import StartupError
from consumer.metrics import Metrics

logger = logging.getLogger(__name__)


class Health:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.model_loaded = False
        self.broker_up: bool | None = None
        self.broker_problem: str | None = None
        self.joined = False
        self.assigned = 0
        self._update()

    def set_model_loaded(self, loaded: bool) -> None:
        self.model_loaded = loaded
        self._update()

    def set_broker(self, up: bool, problem: str | None) -> None:
        if up != self.broker_up:
            if up:
                logger.info("broker reachable")
            else:
                logger.warning("broker unreachable, retrying with capped backoff: %s", problem)
        self.broker_up, self.broker_problem = up, problem
        self._update()

    def set_joined(self, joined: bool) -> None:
        self.joined = joined
        self._update()

    def set_assigned(self, count: int) -> None:
        self.assigned = count
        self._update()

    @property
    def ready(self) -> bool:
        return bool(self.model_loaded and self.broker_up and (self.assigned > 0 or self.joined))

    def checks(self) -> dict[str, object]:
        return {"ready": self.ready, "model_loaded": self.model_loaded, "broker_up": bool(self.broker_up),
                "broker_problem": self.broker_problem, "group_joined": self.joined,
                "assigned_partitions": self.assigned}

    def _update(self) -> None:
        self.metrics.ready.set(1 if self.ready else 0)
        self.metrics.broker_up.set(1 if self.broker_up else 0)
        self.metrics.assigned_partitions.set(self.assigned)


def _handler(registry: CollectorRegistry, health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._reply(200, content_type, encoder(registry))
            elif path == "/healthz":
                self._reply(200, "text/plain; charset=utf-8", b"ok\n")
            elif path == "/readyz":
                checks = health.checks()
                self._reply(200 if checks["ready"] else 503, "application/json",
                            json.dumps(checks).encode() + b"\n")
            else:
                self._reply(404, "text/plain; charset=utf-8", b"not found: try /metrics, /healthz, /readyz\n")

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # scrapes are not log events
            return

    return Handler


class HealthServer:
    """The metrics/health HTTP server on its own daemon thread; `close` stops it."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, health: Health) -> None:
        try:
            self.server = ThreadingHTTPServer((host, port), _handler(registry, health))
        except OSError as exc:
            raise StartupError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from exc
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="metrics-http", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
