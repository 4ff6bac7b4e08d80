"""/readyz: 503 until the model is loaded, the broker answered recently and partitions are owned."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry

from consumer.health import BROKER_STALE_S, Health, HealthServer
from consumer.metrics import Metrics


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def served():
    now = [1000.0]
    registry = CollectorRegistry()
    health = Health(Metrics.create(registry), clock=lambda: now[0])
    server = HealthServer("127.0.0.1", 0, registry, health)
    yield health, f"http://127.0.0.1:{server.port}", now, registry
    server.close()


def test_readiness_follows_model_broker_and_assignment(served) -> None:
    health, url, now, registry = served
    assert get(url + "/healthz") == (200, "ok\n")
    status, body = get(url + "/readyz")
    assert status == 503 and json.loads(body)["model_loaded"] is False
    health.set_model_loaded(True)
    health.broker_ok()
    assert get(url + "/readyz")[0] == 503  # no partitions, not joined
    health.set_assigned(2)
    assert get(url + "/readyz")[0] == 200
    assert registry.get_sample_value("newsclf_ready") == 1
    health.broker_failed("KafkaTimeoutError")
    status, body = get(url + "/readyz")
    assert status == 503 and json.loads(body)["broker_problem"] == "KafkaTimeoutError"
    health.broker_ok()
    assert get(url + "/readyz")[0] == 200
    now[0] += BROKER_STALE_S + 1  # a flush blocked on a stalled broker reports nothing: staleness does
    assert get(url + "/readyz")[0] == 503
    assert registry.get_sample_value("newsclf_broker_up") == 0


def test_metrics_endpoint_serves_the_registry_and_unknown_paths_404(served) -> None:
    _, url, _, _ = served
    status, body = get(url + "/metrics")
    assert status == 200 and "newsclf_messages_consumed_total 0.0" in body
    assert "process_resident_memory_bytes" in body
    assert get(url + "/nope")[0] == 404
