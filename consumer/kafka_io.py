"""kafka-python wiring: the only module that talks to the Kafka client.

`KafkaSource` and the two publishers satisfy the `Source` / `Publisher` seams of `service`, and
translate client errors into ours at this boundary (`raise PublishError(...) from exc`).
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka import errors as kafka_errors
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import MemberState, OffsetAndMetadata, TopicPartition

from consumer.config import ServiceConfig
from consumer.errors import BrokerAuthError, BrokerError, ConfigError, PublishError, ServiceError
from consumer.messages import InputRecord, OutputRecord

logger = logging.getLogger(__name__)
Offsets = Mapping[tuple[str, int], int]
AUTH_ERRORS = (kafka_errors.SaslAuthenticationFailedError, kafka_errors.AuthorizationError,
               kafka_errors.UnsupportedSaslMechanismError, kafka_errors.IllegalSaslStateError, ssl.SSLError)
FATAL_PRODUCER_ERRORS = (kafka_errors.ProducerFencedError, kafka_errors.InvalidProducerEpochError,
                         kafka_errors.OutOfOrderSequenceNumberError, kafka_errors.UnknownProducerIdError,
                         kafka_errors.IllegalStateError, kafka_errors.TransactionalIdAuthorizationFailedError)


def client_options(config: ServiceConfig) -> dict[str, Any]:
    """Connection and security settings shared by every client we create."""
    options: dict[str, Any] = {"bootstrap_servers": config.bootstrap_servers.split(","),
                               "security_protocol": config.security_protocol,
                               "bootstrap_timeout_ms": 10_000, "request_timeout_ms": 15_000,
                               "reconnect_backoff_max_ms": 5_000}
    if "SSL" in config.security_protocol:
        options.update(ssl_cafile=_text(config.ssl_cafile), ssl_certfile=_text(config.ssl_certfile),
                       ssl_keyfile=_text(config.ssl_keyfile), ssl_password=config.ssl_password)
    if config.security_protocol.startswith("SASL"):
        options.update(sasl_mechanism=config.sasl_mechanism, sasl_plain_username=config.sasl_username,
                       sasl_plain_password=config.sasl_password)
    return options


def _text(path: object) -> str | None:
    return None if path is None else str(path)


def instance_name(config: ServiceConfig) -> str:
    """This replica's name: the configured one, else host and PID (unique, but new at each restart)."""
    return config.instance_id or f"{socket.gethostname()}-{os.getpid()}"


def create_consumer(config: ServiceConfig, listener: ConsumerRebalanceListener) -> KafkaConsumer:
    consumer = KafkaConsumer(
        group_id=config.group_id, client_id=f"newsclf-{instance_name(config)}",
        enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed",
        max_poll_records=config.batch_size, session_timeout_ms=config.session_timeout_ms,
        heartbeat_interval_ms=config.heartbeat_interval_ms, allow_auto_create_topics=False,
        max_partition_fetch_bytes=max(1_048_576, config.max_message_bytes + 1024),
        **client_options(config))
    consumer.subscribe([config.input_topic], listener=listener)
    return consumer


def create_producer(config: ServiceConfig) -> KafkaProducer:
    transactional = config.delivery == "exactly-once"
    return KafkaProducer(
        client_id=f"newsclf-{instance_name(config)}", acks="all", linger_ms=5, batch_size=262_144,
        max_request_size=max(1_048_576, config.max_message_bytes + 65_536),
        allow_auto_create_topics=False, max_block_ms=10_000, delivery_timeout_ms=config.publish_timeout_s * 1000,
        request_timeout_ms=min(15_000, config.publish_timeout_s * 500),
        transactional_id=f"newsclf-{config.group_id}-{instance_name(config)}" if transactional else None,
        transaction_timeout_ms=30_000, **{k: v for k, v in client_options(config).items()
                                          if k != "request_timeout_ms"})


def translate_startup_error(exc: BaseException) -> ServiceError:
    """Auth, TLS and client-configuration refusals are final; anything else is 'broker unreachable'."""
    if isinstance(exc, AUTH_ERRORS):
        return BrokerAuthError(f"the broker refused our credentials or TLS settings: {exc}")
    if isinstance(exc, kafka_errors.KafkaConfigurationError):
        return ConfigError("Kafka client settings", str(exc))
    return BrokerError(f"broker unreachable ({type(exc).__name__}: {exc})")


class RebalanceListener(ConsumerRebalanceListener):
    """Forwards assignments to the service; there is never uncommitted work to save on revoke,
    because every batch is committed before the next poll, and rebalances only happen inside poll."""

    def __init__(self, on_change: Callable[[set[tuple[str, int]], bool], None]) -> None:
        self.on_change = on_change

    def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        self.on_change({(tp.topic, tp.partition) for tp in revoked}, False)

    def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        self.on_change({(tp.topic, tp.partition) for tp in assigned}, True)


def kafka_offsets(offsets: Offsets) -> dict[TopicPartition, OffsetAndMetadata]:
    return {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}


class KafkaSource:
    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer
        self.identities: dict[str, object] = {}

    def poll(self, timeout_ms: int, max_records: int) -> list[InputRecord]:
        try:
            batches = self.consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except kafka_errors.KafkaError as exc:
            raise BrokerError(f"poll failed: {type(exc).__name__}: {exc}") from exc
        return [InputRecord(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value, list(r.headers or ()))
                for records in batches.values() for r in records]

    def rewind(self, positions: Offsets) -> None:
        """Seek back to a failed batch's first offsets, on the partitions we still own."""
        assigned = self.consumer.assignment()
        for (topic, partition), offset in positions.items():
            tp = TopicPartition(topic, partition)
            if tp in assigned:
                self.consumer.seek(tp, offset)

    def commit(self, offsets: Offsets) -> None:
        self.consumer.commit(kafka_offsets(offsets))

    def joined(self) -> bool:
        return bool(self.consumer.group_metadata().state == MemberState.STABLE)

    def lag(self, timeout_ms: int) -> dict[tuple[str, int], int]:
        """Records behind the end per assigned partition; raises BrokerError when the broker is away.

        The end is the larger of the listed end offset and the high-water mark fetches report:
        Tansu under-reports end offsets, Kafka agrees with both.
        """
        try:
            assigned = list(self.consumer.assignment())
            self._restart_if_data_was_lost(assigned)
            ends = self.consumer.end_offsets(assigned or self._subscribed_partitions(), timeout_ms=timeout_ms)
            lag = {}
            for tp in assigned:
                position = self._repaired_position(tp, timeout_ms)
                end = max(ends.get(tp) or 0, self.consumer.highwater(tp) or 0)
                lag[(tp.topic, tp.partition)] = max(0, end - position)
            return lag
        except kafka_errors.KafkaError as exc:
            raise BrokerError(f"{type(exc).__name__}: {exc}") from exc

    def _subscribed_partitions(self) -> list[TopicPartition]:
        """Without an assignment, the end offsets of the subscribed topics still prove the broker answers."""
        return [TopicPartition(topic, partition) for topic in self.consumer.subscription() or ()
                for partition in self.consumer.partitions_for_topic(topic) or ()]

    def _restart_if_data_was_lost(self, assigned: list[TopicPartition]) -> None:
        """A new cluster id (the broker came back empty) or a new topic id (the topic was deleted and
        recreated) makes every position into the old data meaningless. Restart those partitions
        from the group's committed offsets, else from the earliest offset."""
        cluster = self.consumer._client.cluster  # kafka-python keeps these ids here; no public accessor
        identities = {"cluster": cluster.cluster_id, **{t: cluster.topic_id(t) for t in {tp.topic for tp in assigned}}}
        for name, identity in identities.items():
            known = self.identities.get(name)
            if identity is not None and known is not None and identity != known:
                logger.warning("%s id changed (%s -> %s): restarting from the committed offsets, else the earliest",
                               name, known, identity)
                self._restart([tp for tp in assigned if name in ("cluster", tp.topic)])
            if identity is not None:
                self.identities[name] = identity
        cluster.request_update()  # fresh ids by the next check; a fetch that returns nothing never asks

    def _restart(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            committed = self.consumer.committed(tp)
            if committed is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, committed)

    def _repaired_position(self, tp: TopicPartition, timeout_ms: int) -> int:
        """A position past the partition's end means the broker lost the partition's data (a broker
        that came back empty). Kafka answers such a fetch with OFFSET_OUT_OF_RANGE and the client
        resets; Tansu answers with nothing, forever. Reset to the earliest offset ourselves."""
        position = int(self.consumer.position(tp, timeout_ms=timeout_ms))
        highwater = self.consumer.highwater(tp)
        if highwater is not None and position > highwater:
            logger.warning("%s:%d: position %d is past the end (%d): the broker lost this partition's data; "
                           "restarting it from the earliest offset", tp.topic, tp.partition, position, highwater)
            self.consumer.seek_to_beginning(tp)
            return int(self.consumer.position(tp, timeout_ms=timeout_ms))
        return position

    def close(self, timeout_s: float) -> None:
        self.consumer.close(autocommit=False, timeout_ms=int(timeout_s * 1000))


class _Publisher:
    def __init__(self, producer_factory: Callable[[], KafkaProducer], source: KafkaSource,
                 timeout_s: float) -> None:
        self.producer_factory = producer_factory
        self.producer = producer_factory()
        self.source = source
        self.timeout_s = timeout_s

    def _send_all(self, records: Sequence[OutputRecord]) -> list[Any]:
        return [self.producer.send(r.topic, key=r.key, value=r.value, headers=r.headers) for r in records]

    def _reset(self) -> None:
        """A fenced or broken producer cannot recover; replace it before the retry."""
        try:
            self.producer.close(timeout=1)
        except Exception:  # the old producer is being thrown away; its close errors do not matter
            logger.debug("closing the broken producer failed", exc_info=True)
        self.producer = self.producer_factory()

    def close(self, timeout_s: float) -> None:
        self.producer.close(timeout=timeout_s)


class AtLeastOncePublisher(_Publisher):
    """Send, flush, check every acknowledgement, then commit; on any failure commit nothing."""

    def publish(self, records: Sequence[OutputRecord], offsets: Offsets) -> None:
        try:
            futures = self._send_all(records)
            self.producer.flush(timeout=self.timeout_s)
            for future in futures:
                future.get(timeout=0)
        except kafka_errors.KafkaError as exc:
            if isinstance(exc, FATAL_PRODUCER_ERRORS):
                self._reset()
            raise PublishError(f"results not acknowledged: {type(exc).__name__}: {exc}") from exc
        try:
            self.source.commit(offsets)
        except kafka_errors.KafkaError as exc:
            raise PublishError(f"offset commit failed: {type(exc).__name__}: {exc}", stage="commit") from exc


class TransactionalPublisher(_Publisher):
    """One transaction per batch: results, dead letters and the input offsets commit together."""

    def __init__(self, producer_factory: Callable[[], KafkaProducer], source: KafkaSource,
                 timeout_s: float) -> None:
        super().__init__(producer_factory, source, timeout_s)
        self.initialised = False

    def publish(self, records: Sequence[OutputRecord], offsets: Offsets) -> None:
        try:
            if not self.initialised:
                self.producer.init_transactions()
                self.initialised = True
            self.producer.begin_transaction()
            self._send_all(records)
            self.producer.send_offsets_to_transaction(kafka_offsets(offsets), self.source.consumer.group_metadata())
            self.producer.commit_transaction()
        except kafka_errors.KafkaError as exc:
            self._abort(exc)
            raise PublishError(f"transaction not committed: {type(exc).__name__}: {exc}") from exc

    def _abort(self, cause: Exception) -> None:
        """Abort the open transaction; a producer that cannot abort is replaced."""
        if self.initialised and not isinstance(cause, FATAL_PRODUCER_ERRORS):
            try:
                self.producer.abort_transaction()
                return
            except Exception as exc:  # any failure to abort leaves the producer unusable
                logger.warning("abort_transaction failed (%s); replacing the producer", exc)
        self._reset()
        self.initialised = False
