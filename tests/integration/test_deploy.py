"""The deployment files stay valid: alert rules pass promtool's own unit tests, docker-compose.yml
parses, and every metric the dashboard and rules name is one the service exports."""

from __future__ import annotations

import re
import subprocess

import pytest
from prometheus_client import CollectorRegistry

from consumer.metrics import Metrics
from tests.conftest import REPO
from tests.integration.conftest import require_tool

pytestmark = [pytest.mark.timeout(120)]
RULES = REPO / "deploy" / "prometheus" / "rules"


def test_alert_rules_check_and_pass_their_promtool_unit_tests() -> None:
    promtool = require_tool("promtool")
    for command in (["check", "rules", str(RULES / "newsclf-alerts.yml")],
                    ["test", "rules", str(RULES / "newsclf-alerts.test.yml")]):
        result = subprocess.run([promtool, *command], capture_output=True, text=True, timeout=60, cwd=REPO)
        assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_file_is_valid() -> None:
    compose = require_tool("docker-compose")
    result = subprocess.run([compose, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    services = subprocess.run([compose, "-f", str(REPO / "docker-compose.yml"), "config", "--services"],
                              capture_output=True, text=True, timeout=60, cwd=REPO).stdout.split()
    assert {"kafka", "kafka-init", "classifier", "prometheus", "grafana"} <= set(services)


def test_dashboard_and_rules_name_only_exported_metrics() -> None:
    registry = CollectorRegistry()
    Metrics.create(registry)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "info": ("_info",)}
    exported = {family.name + suffix for family in registry.collect()
                for suffix in suffixes.get(family.type, ("",))}
    text = (REPO / "deploy" / "grafana" / "dashboards" / "newsclf.json").read_text()
    text += (RULES / "newsclf-alerts.yml").read_text()
    named = {m for m in re.findall(r"\bnewsclf_[a-z_]+\b", text)}
    assert named and named <= exported, named - exported
