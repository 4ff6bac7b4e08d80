"""The README documents every setting, metric and dead-letter reason the code has."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from consumer.config import SETTINGS
from consumer.messages import REASONS
from consumer.metrics import Metrics
from tests.conftest import REPO

README = (REPO / "README.md").read_text("utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    for setting in SETTINGS:
        assert f"| `{setting.flag}` | `{setting.variable}` |" in README, setting.name


def test_every_metric_and_reason_is_documented() -> None:
    registry = CollectorRegistry()
    Metrics.create(registry)
    suffix = {"counter": "_total", "info": "_info"}
    for family in registry.collect():
        if family.name.startswith("newsclf_"):
            assert f"`{family.name}{suffix.get(family.type, '')}`" in README, family.name
    for reason in REASONS:
        assert f"| `{reason}` |" in README, reason
