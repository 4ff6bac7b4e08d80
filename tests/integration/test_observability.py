"""Metrics as Prometheus sees them: promtool on a live scrape, a real Prometheus server running every
dashboard and alert expression, counters that agree with what was sent, and readiness on the wire."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from consumer.local_broker import free_port
from tests.conftest import REPO
from tests.integration.conftest import Kafka, require_tool
from tests.integration.support import ServiceProcess, articles, http_get, make_topics, produce, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "newsclf.json"
RULES = REPO / "deploy" / "prometheus" / "rules" / "newsclf-alerts.yml"
CORE_PANELS = ("Throughput", "End-to-end latency", "Consumer lag per partition", "Label mix: topic",
               "Label mix: region", "Classification time")


def dashboard_queries() -> list[tuple[str, str]]:
    def panels(items: list[dict]) -> Iterator[dict]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in panels(dashboard["panels"])
            for target in panel.get("targets", [])]


class Prometheus:
    """A real Prometheus server on loopback, scraping one target every second; owned by PID."""

    def __init__(self, binary: str, target: str, workdir: Path) -> None:
        self.port = free_port()
        config = workdir / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{RULES}']\n"
            "scrape_configs:\n"
            f"  - job_name: newsclf\n    static_configs: [{{targets: ['{target}']}}]\n")
        self.log = (workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (workdir / "prometheus.log").read_text()[-2000:]
            try:
                if http_get(f"http://127.0.0.1:{self.port}/-/ready", 1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError("Prometheus did not become ready within 30 s")

    def api(self, path: str, **params: str) -> dict:
        status, body = http_get(f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        assert status in (200, 400, 422), body
        return json.loads(body)

    def query(self, expression: str) -> dict:
        return self.api("query", query=expression)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)
        self.log.close()


@pytest.fixture
def classifying_service(kafka: Kafka, start_service) -> tuple[ServiceProcess, object]:
    topics = make_topics(kafka.bootstrap)
    service = start_service(kafka.bootstrap, *topics.args())
    return service, topics


def test_promtool_accepts_a_live_scrape(classifying_service, kafka: Kafka) -> None:
    promtool = require_tool("promtool")
    service, topics = classifying_service
    produce(kafka.bootstrap, topics.input, [*articles(30), ("bad", b"\xff")])
    read_topic(kafka.bootstrap, topics.output, expected=30)
    scrape = http_get(service.url + "/metrics")[1]
    result = subprocess.run([promtool, "check", "metrics"], input=scrape, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "newsclf_model_info{" in scrape and "newsclf_build_info{" in scrape


def test_prometheus_runs_every_dashboard_and_alert_expression(classifying_service, kafka: Kafka,
                                                               tmp_path: Path) -> None:
    binary = require_tool("prometheus")
    service, topics = classifying_service
    prometheus = Prometheus(binary, f"127.0.0.1:{service.metrics_port}", tmp_path)
    try:
        for second in range(60):  # a steady trickle, so that rates over the scrapes are non-zero
            produce(kafka.bootstrap, topics.input, [*articles(20, prefix=f"s{second}"), ("bad", b'{"text": 1}')])
            time.sleep(1)
            rate = prometheus.query("sum(rate(newsclf_articles_classified_total[5m]))")["data"]["result"]
            if second >= 5 and rate and float(rate[0]["value"][1]) > 0:
                break
        time.sleep(3)  # a few more scrapes and one more lag refresh
        failures, empty = [], []
        for title, expression in dashboard_queries():
            answer = prometheus.query(expression)
            if answer["status"] != "success":
                failures.append((title, expression, answer.get("error")))
            elif not answer["data"]["result"]:
                empty.append((title, expression))
        assert not failures, failures
        assert not [e for e in empty if e[0] in CORE_PANELS], f"core panels without data: {empty}"
        rules = [rule for group in prometheus.api("rules")["data"]["groups"] for rule in group["rules"]]
        assert len(rules) >= 5
        for rule in rules:
            assert prometheus.query(rule["query"])["status"] == "success", rule["query"]
            assert rule["health"] in ("ok", "unknown"), (rule["name"], rule.get("lastError"))
    finally:
        prometheus.stop()


def test_counters_agree_with_what_was_sent_and_lag_drains_to_zero(classifying_service, kafka: Kafka) -> None:
    service, topics = classifying_service
    good, bad = articles(120), [(f"bad-{i}", b"{nope") for i in range(7)]
    produce(kafka.bootstrap, topics.input, [*good, *bad])
    read_topic(kafka.bootstrap, topics.output, expected=len(good))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (service.metric("newsclf_consumer_lag_messages") != 0
                                           or service.metric("newsclf_articles_classified_total") < len(good)):
        time.sleep(0.5)
    assert service.metric("newsclf_articles_classified_total") == len(good)
    assert service.metric("newsclf_dead_letters_total") == len(bad)
    assert service.metric("newsclf_dead_letters_total", {"reason": "invalid_json"}) == len(bad)
    assert service.metric("newsclf_messages_consumed_total") == len(good) + len(bad)
    assert service.metric("newsclf_consumer_lag_messages") == 0
    assert service.metric("newsclf_end_to_end_latency_seconds_count") == len(good) + len(bad)


def test_readyz_is_503_while_the_broker_is_unreachable(start_service) -> None:
    service = start_service(f"127.0.0.1:{free_port()}", wait=False)
    deadline = time.monotonic() + 30
    status, body = 0, ""
    while time.monotonic() < deadline and status == 0:
        try:
            status, body = http_get(service.url + "/readyz", 1)
        except OSError:
            time.sleep(0.2)
    assert status == 503
    checks = json.loads(body)
    assert checks["ready"] is False
    time.sleep(12)  # past the first failed connection attempt
    status, body = http_get(service.url + "/readyz")
    assert status == 503 and json.loads(body)["model_loaded"] is True
    assert json.loads(body)["broker_problem"], body
    assert http_get(service.url + "/healthz")[0] == 200
    assert service.alive(), "no crash loop: the service waits for the broker"
