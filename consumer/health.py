"""Readiness state and the HTTP server for `/metrics`, `/healthz` and `/readyz`.

`/healthz` answers 200 while the process runs. `/readyz` answers 200 only when the model is loaded,
the broker answered recently, and this member has partitions or has joined its group; otherwise 503,
with the failing checks in the JSON body. Broker state changes are logged once each.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from consumer.errors import StartupError
from consumer.metrics import Metrics

logger = logging.getLogger(__name__)
BROKER_STALE_S = 10.0


class Health:
    """What /readyz reports. Broker reachability is evidence-based: a success within the last
    `BROKER_STALE_S` seconds (a published batch or a lag refresh), and no failure since.

    A broker that stops answering while a flush is blocked produces no failure for up to the publish
    timeout; the staleness rule still turns readiness off within `BROKER_STALE_S`.
    """

    def __init__(self, metrics: Metrics, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.model_loaded = False
        self.broker_seen_at: float | None = None
        self.broker_problem: str | None = None
        self.joined = False
        self.assigned = 0
        metrics.ready.set_function(lambda: 1.0 if self.ready else 0.0)
        metrics.broker_up.set_function(lambda: 1.0 if self.broker_up else 0.0)
        metrics.assigned_partitions.set_function(lambda: float(self.assigned))

    def set_model_loaded(self, loaded: bool) -> None:
        self.model_loaded = loaded

    def broker_ok(self) -> None:
        if self.broker_problem is not None or self.broker_seen_at is None:
            logger.info("broker reachable")
        self.broker_seen_at, self.broker_problem = self.clock(), None

    def broker_failed(self, problem: str) -> None:
        if self.broker_problem is None:
            logger.warning("broker unreachable, retrying with capped backoff: %s", problem)
        self.broker_problem = problem

    def set_joined(self, joined: bool) -> None:
        self.joined = joined

    def set_assigned(self, count: int) -> None:
        self.assigned = count

    @property
    def broker_up(self) -> bool:
        seen = self.broker_seen_at
        return self.broker_problem is None and seen is not None and self.clock() - seen < BROKER_STALE_S

    @property
    def ready(self) -> bool:
        return bool(self.model_loaded and self.broker_up and (self.assigned > 0 or self.joined))

    def checks(self) -> dict[str, object]:
        seen = self.broker_seen_at
        return {"ready": self.ready, "model_loaded": self.model_loaded, "broker_up": self.broker_up,
                "broker_problem": self.broker_problem,
                "broker_last_seen_s_ago": None if seen is None else round(self.clock() - seen, 1),
                "group_joined": self.joined, "assigned_partitions": self.assigned}


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
