"""The real loop over in-memory seams: what is committed, when, and what is counted.

These fakes stand in for the `Source` / `Publisher` protocols only; everything that claims end to
end runs against Apache Kafka in tests/integration.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from consumer.config import ServiceConfig
from consumer.errors import PublishError
from consumer.health import Health
from consumer.messages import REASONS, InputRecord, OutputRecord
from consumer.metrics import Metrics
from consumer.reload import ModelHolder
from consumer.service import ClassifierService

GOOD = json.dumps({"id": "g", "text": "Foreign ministers met in Nairobi for talks on a trade treaty."}).encode()


class FakeSource:
    def __init__(self, records: Sequence[InputRecord]) -> None:
        self.records = list(records)
        self.position = 0
        self.rewinds: list[dict] = []

    def poll(self, timeout_ms: int, max_records: int) -> list[InputRecord]:
        batch = self.records[self.position:self.position + max_records]
        self.position += len(batch)
        return batch

    def rewind(self, positions: Mapping[tuple[str, int], int]) -> None:
        self.rewinds.append(dict(positions))
        self.position = min(i for i, r in enumerate(self.records) if (r.topic, r.partition) in positions
                            and r.offset == positions[(r.topic, r.partition)])

    def joined(self) -> bool:
        return True

    def lag(self, timeout_ms: int) -> dict[tuple[str, int], int]:
        return {("in", 0): len(self.records) - self.position}

    def close(self, timeout_s: float) -> None:
        pass


class FakePublisher:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.published: list[OutputRecord] = []
        self.commits: list[dict] = []

    def publish(self, records: Sequence[OutputRecord], offsets: Mapping[tuple[str, int], int]) -> None:
        if self.failures:
            self.failures -= 1
            raise PublishError("broker said no")
        self.published.extend(records)
        self.commits.append(dict(offsets))

    def close(self, timeout_s: float) -> None:
        pass


def records(values: Sequence[bytes | None]) -> list[InputRecord]:
    return [InputRecord("in", 0, offset, 1_700_000_000_000, None, value, []) for offset, value in enumerate(values)]


def build(model_dir: Path, source: FakeSource, publisher: FakePublisher, batch_size: int = 4):
    registry = CollectorRegistry()
    metrics = Metrics.create(registry)
    health = Health(metrics)
    holder = ModelHolder(model_dir, metrics, health)
    holder.load()
    config = ServiceConfig(batch_size=batch_size, model=model_dir, input_topic="in", output_topic="out",
                           dead_letter_topic="dlq")
    return ClassifierService(config, source, publisher, holder, metrics, health), registry


def test_offsets_are_committed_only_after_the_batch_is_published(model_dir: Path) -> None:
    source, publisher = FakeSource(records([GOOD] * 10)), FakePublisher()
    service, registry = build(model_dir, source, publisher)
    assert [service.step() for _ in range(4)] == [4, 4, 2, 0]
    assert publisher.commits == [{("in", 0): 4}, {("in", 0): 8}, {("in", 0): 10}]
    assert len(publisher.published) == 10
    assert registry.get_sample_value("newsclf_commits_total") == 3


def test_a_failed_publish_commits_nothing_and_the_batch_is_retried(model_dir: Path) -> None:
    source, publisher = FakeSource(records([GOOD] * 6)), FakePublisher(failures=1)
    service, registry = build(model_dir, source, publisher)
    with pytest.raises(PublishError):
        service.step()
    assert publisher.commits == [] and source.rewinds == [{("in", 0): 0}]
    assert [service.step(), service.step()] == [4, 2]
    assert publisher.commits[-1] == {("in", 0): 6}
    assert registry.get_sample_value("newsclf_produce_errors_total") == 1
    assert registry.get_sample_value("newsclf_dead_letters_total", {"reason": "empty_payload"}) == 0


def test_poison_is_dead_lettered_counted_and_does_not_block(model_dir: Path) -> None:
    values = [GOOD, b"\xff\xfe", None, b'{"text": 3}', GOOD, b"{oops"]
    source, publisher = FakeSource(records(values)), FakePublisher()
    service, registry = build(model_dir, source, publisher, batch_size=10)
    assert service.step() == 6
    assert [r.topic for r in publisher.published] == ["out", "dlq", "dlq", "dlq", "out", "dlq"]
    assert publisher.published[1].value == b"\xff\xfe"
    classified = sum(registry.get_sample_value("newsclf_articles_classified_total",
                                               {"category": c, "region": r}) or 0
                     for c in ("diplomacy", "elections", "military_drills", "human_interest", "other")
                     for r in ("africa", "europe", "unknown", "east_asia"))
    assert classified == 2
    for reason in ("invalid_utf8", "empty_payload", "wrong_type", "invalid_json"):
        assert registry.get_sample_value("newsclf_dead_letters_total", {"reason": reason}) == 1


def test_run_stops_at_a_batch_boundary_with_everything_committed(model_dir: Path) -> None:
    stop = threading.Event()
    source, publisher = FakeSource(records([GOOD] * 9)), FakePublisher()
    service, _ = build(model_dir, source, publisher)
    original = publisher.publish

    def publish_then_stop(batch, offsets):
        original(batch, offsets)
        stop.set()  # a SIGTERM arriving while the first batch is in hand

    publisher.publish = publish_then_stop  # type: ignore[method-assign]
    service.run(stop)
    assert publisher.commits == [{("in", 0): 4}] and len(publisher.published) == 4


def test_reload_swaps_the_model_between_batches_and_a_bad_one_is_refused(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    live = tmp_path / "live"
    shutil.copytree(model_dir, live)
    source, publisher = FakeSource(records([GOOD] * 8)), FakePublisher()
    service, registry = build(live, source, publisher)
    version = service.holder.current.version
    manifest = json.loads((live / "manifest.json").read_text())
    manifest["version"] = "next"
    (live / "manifest.json").write_text(json.dumps(manifest))
    service.step()
    service.holder.request_reload()
    assert service.holder.reload_if_requested()
    service.step()
    versions = [json.loads(r.value or b"")["model"]["version"] for r in publisher.published]
    assert versions == [version] * 4 + ["next"] * 4
    (live / "model.joblib").write_bytes(b"not a model")
    service.holder.request_reload()
    assert not service.holder.reload_if_requested()
    assert service.holder.current.version == "next"
    assert registry.get_sample_value("newsclf_model_reloads_total", {"result": "failure"}) == 1
    assert registry.get_sample_value("newsclf_model_info", {"name": "newsclf", "version": "next",
                                                             "sklearn_version": manifest["sklearn_version"]}) == 1


hostile = st.one_of(
    st.binary(max_size=600), st.none(),
    st.text(max_size=300).map(str.encode),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["text", "id", "title"]),
                                                                             inner, max_size=3),
                 max_leaves=10).map(lambda value: json.dumps(value).encode()),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(hostile, min_size=1, max_size=12))
def test_no_payload_escapes_the_loop_each_is_classified_or_dead_lettered(model_dir: Path, payloads) -> None:
    source, publisher = FakeSource(records(payloads)), FakePublisher()
    service, registry = build(model_dir, source, publisher, batch_size=16)
    assert service.step() == len(payloads)
    assert [r.topic in ("out", "dlq") for r in publisher.published] == [True] * len(payloads)
    dead = sum(registry.get_sample_value("newsclf_dead_letters_total", {"reason": reason}) or 0
               for reason in REASONS)
    assert dead == sum(r.topic == "dlq" for r in publisher.published)
