"""`newsclf serve`: builds everything, owns the lifecycle, tears everything down in order.

Start-up order: metrics server (so /healthz answers and /readyz says why it is not ready), model
(refused with exit code 2 if it does not verify), signal handlers, then the broker connection,
retried with capped backoff until it succeeds or the process is told to stop. SIGTERM/SIGINT only
set an event: the batch in hand is finished, published and committed, the producer is flushed and
the consumer leaves its group. SIGHUP asks for a model reload between batches.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator

from kafka import errors as kafka_errors
from prometheus_client import CollectorRegistry

from consumer import kafka_io
from consumer.config import ServiceConfig
from consumer.errors import BrokerAuthError, BrokerError
from consumer.health import Health, HealthServer
from consumer.metrics import Metrics
from consumer.preflight import diagnose_refusal
from consumer.reload import ModelHolder
from consumer.service import ClassifierService, Publisher

logger = logging.getLogger(__name__)
MAX_CONNECT_BACKOFF_S = 30.0


@contextlib.contextmanager
def signal_handlers(stop: threading.Event, holder: ModelHolder, grace_s: float) -> Iterator[None]:
    """SIGTERM/SIGINT set `stop` (a watchdog bounds the shutdown); SIGHUP requests a reload."""

    def on_stop(signum: int, _frame: object) -> None:
        if stop.is_set():
            return
        stop.set()
        logger.info("%s received: finishing the batch in hand, then stopping", signal.Signals(signum).name)
        watchdog = threading.Timer(grace_s, _give_up, args=(grace_s,))
        watchdog.daemon = True
        watchdog.start()

    previous = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: holder.request_reload())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _give_up(grace_s: float) -> None:
    logger.error("shutdown took over %.0f s; exiting without waiting further (uncommitted work is redone)",
                 grace_s)
    os._exit(1)


def _rebalance_listener(metrics: Metrics, health: Health) -> kafka_io.RebalanceListener:
    owned: set[tuple[str, int]] = set()

    def on_change(partitions: set[tuple[str, int]], assigned: bool) -> None:
        if assigned:
            owned.update(partitions)
            metrics.rebalances.inc()
            logger.info("assigned partitions %s", sorted(p for _, p in owned))
        else:
            owned.difference_update(partitions)
        health.set_assigned(len(owned))

    return kafka_io.RebalanceListener(on_change)


def connect(config: ServiceConfig, metrics: Metrics, health: Health,
            stop: threading.Event) -> tuple[kafka_io.KafkaSource, Publisher] | None:
    """Consumer and publisher, retried with capped backoff; None if told to stop first."""
    attempts = 0
    while not stop.is_set():
        consumer = None
        try:
            consumer = kafka_io.create_consumer(config, _rebalance_listener(metrics, health))
            source = kafka_io.KafkaSource(consumer)
            publisher_class = (kafka_io.TransactionalPublisher if config.delivery == "exactly-once"
                               else kafka_io.AtLeastOncePublisher)
            publisher = publisher_class(lambda: kafka_io.create_producer(config), source,
                                        config.publish_timeout_s)
            health.broker_ok()
            _warn_if_missing(consumer, config.input_topic)
            return source, publisher
        except (kafka_errors.KafkaError, OSError) as exc:
            if consumer is not None:
                consumer.close(autocommit=False, timeout_ms=1000)
            error = kafka_io.translate_startup_error(exc)
            if isinstance(error, BrokerError) and not isinstance(error, BrokerAuthError):
                error = diagnose_refusal(config) or error
            if not isinstance(error, BrokerError) or isinstance(error, BrokerAuthError):
                raise error from exc
            attempts += 1
            health.broker_failed(f"{error} (attempt {attempts})")
            stop.wait(min(MAX_CONNECT_BACKOFF_S, 2.0 ** attempts))
    return None


def _warn_if_missing(consumer: object, topic: str) -> None:
    partitions = consumer.partitions_for_topic(topic)  # type: ignore[attr-defined]
    if not partitions:
        logger.warning("input topic %r does not exist yet; waiting for it to be created", topic)


def serve(config: ServiceConfig, stop: threading.Event | None = None) -> int:
    stop = stop or threading.Event()
    registry = CollectorRegistry()
    metrics = Metrics.create(registry)
    health = Health(metrics)
    holder = ModelHolder(config.model_dir, metrics, health)
    grace_s = config.publish_timeout_s + config.shutdown_timeout_s
    with contextlib.ExitStack() as stack:
        server = HealthServer(config.metrics_host, config.metrics_port, registry, health)
        stack.callback(server.close)
        logger.info("newsclf serve starting: %s; metrics on http://%s:%d/metrics",
                    config.describe(), config.metrics_host, server.port)
        holder.load()
        stack.enter_context(signal_handlers(stop, holder, grace_s))
        connected = connect(config, metrics, health, stop)
        if connected is None:
            return 0
        source, publisher = connected
        stack.callback(source.close, config.shutdown_timeout_s)
        stack.callback(publisher.close, config.shutdown_timeout_s)
        ClassifierService(config, source, publisher, holder, metrics, health).run(stop)
        logger.info("stopping: last batch committed; closing producer and leaving the group")
    logger.info("stopped")
    return 0
