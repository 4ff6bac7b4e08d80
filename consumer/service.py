"""The loop: poll a batch, decode, predict once, publish, commit; metrics recorded beside it.

The delivery guarantee lives in `step`: a batch's offsets are committed only after every result
and dead letter of that batch is acknowledged (or, with exactly-once, in the same transaction).
On failure nothing is committed, the source is rewound to the batch's first offsets and the batch
is retried after a capped backoff; the next poll returns the same records.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from consumer import messages
from consumer.config import ServiceConfig
from consumer.errors import BrokerError, PublishError
from consumer.health import Health
from consumer.messages import Article, InputRecord, OutputRecord, Rejection
from consumer.metrics import Metrics
from consumer.reload import ModelHolder
from model.classifier import Prediction

logger = logging.getLogger(__name__)
Offsets = Mapping[tuple[str, int], int]
LAG_REFRESH_S = 5.0
LAG_TIMEOUT_MS = 3_000
MAX_BACKOFF_S = 30.0


class Source(Protocol):
    def poll(self, timeout_ms: int, max_records: int) -> list[InputRecord]: ...
    def rewind(self, positions: Offsets) -> None: ...
    def joined(self) -> bool: ...
    def lag(self, timeout_ms: int) -> dict[tuple[str, int], int]: ...
    def close(self, timeout_s: float) -> None: ...


class Publisher(Protocol):
    def publish(self, records: Sequence[OutputRecord], offsets: Offsets) -> None: ...
    def close(self, timeout_s: float) -> None: ...


@dataclass
class Batch:
    """One poll's worth of work, ready to publish: outputs in input order, plus what to count."""

    outputs: list[OutputRecord] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    classify_seconds: float = 0.0


def first_offsets(records: Sequence[InputRecord]) -> dict[tuple[str, int], int]:
    first: dict[tuple[str, int], int] = {}
    for record in records:
        first.setdefault((record.topic, record.partition), record.offset)
    return first


def next_offsets(records: Sequence[InputRecord]) -> dict[tuple[str, int], int]:
    return {(r.topic, r.partition): r.offset + 1 for r in records}


def classify_batch(records: Sequence[InputRecord], holder: ModelHolder, config: ServiceConfig) -> Batch:
    """Decode every record, classify all articles in one predict call, build the output records."""
    decoded = [messages.decode(r.value, config.max_message_bytes, r.position) for r in records]
    articles = [item for item in decoded if isinstance(item, Article)]
    model = holder.current
    started = time.perf_counter()
    predictions = iter(model.classifier.predict([a.model_input for a in articles]))
    batch = Batch(classify_seconds=time.perf_counter() - started)
    classified_at = datetime.now(UTC)
    for record, item in zip(records, decoded, strict=True):
        if isinstance(item, Rejection):
            batch.rejections.append(item)
            batch.outputs.append(messages.dead_letter(config.dead_letter_topic, record, item))
            logger.warning("dead-lettered %s: %s (%s)", record.position, item.reason, item.detail)
            continue
        prediction = next(predictions)
        batch.predictions.append(prediction)
        batch.outputs.append(messages.result(config.output_topic, item, prediction, record,
                                             holder.info, classified_at))
    return batch


class ClassifierService:
    def __init__(self, config: ServiceConfig, source: Source, publisher: Publisher, holder: ModelHolder,
                 metrics: Metrics, health: Health) -> None:
        self.config = config
        self.source = source
        self.publisher = publisher
        self.holder = holder
        self.metrics = metrics
        self.health = health
        self.failures = 0
        self.next_lag_refresh = 0.0

    def step(self) -> int:
        """One batch through the pipeline; returns how many records it consumed."""
        records = self.source.poll(self.config.batch_max_wait_ms, self.config.batch_size)
        if not records:
            return 0
        self.metrics.consumed.inc(len(records))
        batch = classify_batch(records, self.holder, self.config)
        try:
            self.publisher.publish(batch.outputs, next_offsets(records))
        except PublishError as exc:
            (self.metrics.commit_failures if exc.stage == "commit" else self.metrics.produce_errors).inc()
            self.source.rewind(first_offsets(records))
            raise
        self._record(records, batch, acknowledged_at=time.time())
        return len(records)

    def _record(self, records: Sequence[InputRecord], batch: Batch, acknowledged_at: float) -> None:
        m = self.metrics
        m.commits.inc()
        m.batch_records.observe(len(records))
        if batch.predictions:
            m.batch_seconds.observe(batch.classify_seconds)
            per_article = batch.classify_seconds / len(batch.predictions)
            for prediction in batch.predictions:
                m.article_seconds.observe(per_article)
                for head, result in (("topic", prediction.topic), ("region", prediction.region)):
                    m.confidence.labels(head=head).observe(result.confidence)
                    if result.abstained:
                        m.abstentions.labels(head=head).inc()
            labels = Counter((p.topic.label, p.region.label) for p in batch.predictions)
            for (category, region), count in labels.items():
                m.classified.labels(category=category, region=region).inc(count)
        for reason, count in Counter(r.reason for r in batch.rejections).items():
            m.dead_letters.labels(reason=reason).inc(count)
        for record in records:
            m.end_to_end_seconds.observe(max(0.0, acknowledged_at - record.timestamp_ms / 1000))

    def run(self, stop: threading.Event) -> None:
        """Batches until `stop` is set; a stop lets the batch in hand finish, publish and commit."""
        while not stop.is_set():
            self.holder.reload_if_requested()
            try:
                if self.step():
                    self._recovered()
            except BrokerError as exc:  # a failed publish or commit (already rewound), or a failed poll
                self._failed(exc, stop)
            self._refresh_lag()

    def _failed(self, exc: BrokerError, stop: threading.Event) -> None:
        self.failures += 1
        backoff = min(MAX_BACKOFF_S, 0.5 * 2 ** (self.failures - 1))
        if self.failures == 1:
            logger.error("batch not published, will retry with backoff up to %.0f s: %s", MAX_BACKOFF_S, exc)
        self.health.broker_failed(str(exc))
        stop.wait(backoff)

    def _recovered(self) -> None:
        self.health.broker_ok()
        if self.failures:
            logger.info("publishing again after %d failed attempt(s)", self.failures)
            self.failures = 0

    def _refresh_lag(self) -> None:
        now = time.monotonic()
        if now < self.next_lag_refresh:
            return
        self.next_lag_refresh = now + LAG_REFRESH_S
        try:
            lag = self.source.lag(LAG_TIMEOUT_MS)
        except BrokerError as exc:
            self.health.broker_failed(str(exc))
            return
        if self.failures == 0:
            self.health.broker_ok()
        self.health.set_joined(self.source.joined())
        self.metrics.lag.clear()
        for (topic, partition), behind in lag.items():
            self.metrics.lag.labels(topic=topic, partition=str(partition)).set(behind)
