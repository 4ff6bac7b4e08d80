"""The service's Prometheus metrics: a typed bundle on an injected registry, nothing at module scope.

Names follow Prometheus conventions (`newsclf_` prefix, `_total` counters, `_seconds` in base units);
label values are bounded (label sets, reasons, heads, partitions), never article ids. Every labelled
series is created at start-up, so dashboards and alerts see zeros rather than gaps.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from consumer import __version__
from consumer.messages import REASONS

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CLASSIFY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
CONFIDENCE_BUCKETS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
HEADS = ("topic", "region")


@dataclass(frozen=True)
class Metrics:
    consumed: Counter
    classified: Counter
    dead_letters: Counter
    produce_errors: Counter
    commits: Counter
    commit_failures: Counter
    batch_seconds: Histogram
    article_seconds: Histogram
    end_to_end_seconds: Histogram
    batch_records: Histogram
    lag: Gauge
    assigned_partitions: Gauge
    rebalances: Counter
    confidence: Histogram
    abstentions: Counter
    model_info: Info
    model_load_seconds: Gauge
    model_reloads: Counter
    build_info: Info
    ready: Gauge
    broker_up: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> Metrics:
        disable_created_metrics()  # `_created` series double the scrape and no panel reads them

        def counter(name: str, doc: str, labels: Iterable[str] = ()) -> Counter:
            return Counter(name, doc, list(labels), registry=registry)

        def histogram(name: str, doc: str, buckets: tuple[float, ...], labels: Iterable[str] = ()) -> Histogram:
            return Histogram(name, doc, list(labels), buckets=buckets, registry=registry)

        def gauge(name: str, doc: str, labels: Iterable[str] = ()) -> Gauge:
            return Gauge(name, doc, list(labels), registry=registry)

        metrics = cls(
            consumed=counter("newsclf_messages_consumed", "Input records read from Kafka."),
            classified=counter("newsclf_articles_classified", "Articles classified and published, by label.",
                               ("category", "region")),
            dead_letters=counter("newsclf_dead_letters", "Input records sent to the dead-letter topic.",
                                 ("reason",)),
            produce_errors=counter("newsclf_produce_errors", "Batches whose results were not acknowledged."),
            commits=counter("newsclf_commits", "Offset commits (or committed transactions) that succeeded."),
            commit_failures=counter("newsclf_commit_failures", "Offset commits that failed (batch retried)."),
            batch_seconds=histogram("newsclf_batch_classification_seconds",
                                    "Time to classify one batch (one predict call).", CLASSIFY_BUCKETS),
            article_seconds=histogram("newsclf_article_classification_seconds",
                                      "Classification time per article (batch time / batch size).",
                                      CLASSIFY_BUCKETS),
            end_to_end_seconds=histogram("newsclf_end_to_end_latency_seconds",
                                         "From the input record's timestamp to the result's acknowledgement.",
                                         LATENCY_BUCKETS),
            batch_records=histogram("newsclf_batch_records", "Records per processed batch.", BATCH_BUCKETS),
            lag=gauge("newsclf_consumer_lag_messages", "Records behind the end of each assigned partition.",
                      ("topic", "partition")),
            assigned_partitions=gauge("newsclf_assigned_partitions", "Partitions assigned to this process."),
            rebalances=counter("newsclf_rebalances", "Partition assignments received from the group."),
            confidence=histogram("newsclf_prediction_confidence", "Probability of the best label, per head.",
                                 CONFIDENCE_BUCKETS, ("head",)),
            abstentions=counter("newsclf_abstentions", "Predictions below the head's threshold "
                                "(labelled other / unknown).", ("head",)),
            model_info=Info("newsclf_model", "The model being served.", registry=registry),
            model_load_seconds=gauge("newsclf_model_load_seconds", "Time the last model load took."),
            model_reloads=counter("newsclf_model_reloads", "Hot model reloads, by result.", ("result",)),
            build_info=Info("newsclf_build", "Service build.", registry=registry),
            ready=gauge("newsclf_ready", "1 when /readyz answers 200."),
            broker_up=gauge("newsclf_broker_up", "1 when the last broker round trip succeeded."),
        )
        metrics._initialise_series()
        ProcessCollector(registry=registry)  # process_resident_memory_bytes, process_cpu_seconds_total, ...
        PlatformCollector(registry=registry)
        return metrics

    def _initialise_series(self) -> None:
        for reason in REASONS:
            self.dead_letters.labels(reason=reason)
        for head in HEADS:
            self.confidence.labels(head=head)
            self.abstentions.labels(head=head)
        for result in ("success", "failure"):
            self.model_reloads.labels(result=result)
        self.build_info.info({"version": __version__, "python_version": platform.python_version()})

    def initialise_labels(self, topics: Iterable[str], regions: Iterable[str]) -> None:
        """Create every category x region series of the loaded model at zero."""
        regions = list(regions)
        for topic in topics:
            for region in regions:
                self.classified.labels(category=topic, region=region)
