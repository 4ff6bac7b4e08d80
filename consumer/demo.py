"""`newsclf demo`: a local broker, the real service, the sample feed, and the results as a table.

Everything runs as it would in production, only smaller: the broker is Tansu (or Apache Kafka) on a
free loopback port, the service is a `newsclf serve` child process, the feed is published by a
plain producer, and the table is read from the output and dead-letter topics. Ctrl-C stops the
service (SIGTERM: it commits and leaves its group), then the broker; no process is left behind.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.structs import TopicPartition

from consumer.config import ServiceConfig
from consumer.local_broker import LocalBroker, free_port, interrupted_by_signals, start_kafka, start_tansu
from model import load

ROW = "{:<14} {:<16} {:>5}  {:<15} {:>5}  {}"
SERVICE_STOP_TIMEOUT_S = 20


def bundled_feed() -> list[bytes]:
    folder = resources.files("consumer").joinpath("samples")
    lines: list[bytes] = []
    for name in ("seed-stories.jsonl", "demo-articles.jsonl", "bad-input.jsonl"):
        lines += [line.encode() for line in folder.joinpath(name).read_text("utf-8").splitlines() if line.strip()]
    return lines


def _create_topics(broker: LocalBroker, config: ServiceConfig) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.create_topics([NewTopic(config.input_topic, 2, 1), NewTopic(config.output_topic, 2, 1),
                             NewTopic(config.dead_letter_topic, 1, 1)])
    finally:
        admin.close()


def _start_service(config: ServiceConfig, broker: LocalBroker, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "consumer", "serve", "--bootstrap-servers", broker.bootstrap,
               "--model", str(config.model_dir), "--metrics-port", str(port), "--metrics-host", "127.0.0.1",
               "--session-timeout-ms", "6000", "--heartbeat-interval-ms", "1000", "--batch-max-wait-ms", "50",
               "--log-format", "text", "--input-topic", config.input_topic, "--output-topic", config.output_topic,
               "--dead-letter-topic", config.dead_letter_topic, "--group-id", "newsclf-demo"]
    with log.open("ab") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def _publish(broker: LocalBroker, topic: str, lines: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=False, linger_ms=5)
    try:
        for line in lines:
            producer.send(topic, value=line)
        producer.flush(30)
    finally:
        producer.close(5)


def _print_row(record_value: bytes) -> None:
    result = json.loads(record_value)
    topic, region = result["topic"], result["region"]
    evidence = ", ".join(region["evidence"][:2] + topic["evidence"][:2])
    print(ROW.format(result["id"][:14], topic["label"], f"{topic['confidence']:.2f}", region["label"],
                     f"{region['confidence']:.2f}", evidence), flush=True)


def _print_dead_letter(headers: list[tuple[str, bytes]]) -> None:
    reasons = dict(headers)
    print(f"{'(dead letter)':<14} reason={reasons.get('newsclf.error.reason', b'?').decode()}: "
          f"{reasons.get('newsclf.error.detail', b'').decode()[:60]}", flush=True)


def _watch(broker: LocalBroker, config: ServiceConfig, service: subprocess.Popen[bytes], expected: int,
           where: str) -> None:
    """Print results as they arrive; once the whole feed is through, say where the metrics are."""
    shown = 0
    reader = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(config.output_topic, 0), TopicPartition(config.output_topic, 1),
                  TopicPartition(config.dead_letter_topic, 0)]
    reader.assign(partitions)
    reader.seek_to_beginning(*partitions)
    try:
        while service.poll() is None:
            for tp, records in reader.poll(timeout_ms=500).items():
                for record in records:
                    if tp.topic == config.output_topic:
                        _print_row(record.value)
                    else:
                        _print_dead_letter(list(record.headers or ()))
                    shown += 1
                    if shown == expected:
                        print(f"\nall {expected} articles are through. {where}", flush=True)
        print(f"the service exited with code {service.returncode}", flush=True)
    finally:
        reader.close()


def run_demo(config: ServiceConfig, kind: str = "tansu", feed: Path | None = None) -> int:
    loaded = load(config.model_dir)  # fail in one line before starting anything
    with interrupted_by_signals():
        return _run(config, kind, feed, loaded.version)


def _run(config: ServiceConfig, kind: str, feed: Path | None, model_version: str) -> int:
    lines = [line.encode() for line in feed.read_text("utf-8").splitlines() if line.strip()] if feed else bundled_feed()
    port = config.metrics_port if config.metrics_port and _port_free(config.metrics_port) else free_port()
    log = Path(tempfile.mkdtemp(prefix="newsclf-demo-")) / "service.log"
    print(f"starting a local {kind} broker and the classifier (model {model_version}) ...", flush=True)
    broker = start_kafka() if kind == "kafka" else start_tansu()
    service = None
    try:
        _create_topics(broker, config)
        service = _start_service(config, broker, port, log)
        _publish(broker, config.input_topic, lines)
        print(f"published {len(lines)} articles to {config.input_topic!r} on {broker.bootstrap}; results:\n",
              flush=True)
        print(ROW.format("id", "topic", "conf", "region", "conf", "evidence"), flush=True)
        where = (f"Metrics: http://127.0.0.1:{port}/metrics  readiness: http://127.0.0.1:{port}/readyz\n"
                 f"Service log: {log}. Publish more to {config.input_topic!r} on {broker.bootstrap}; "
                 "Ctrl-C stops everything.")
        _watch(broker, config, service, len(lines), where)
    except KeyboardInterrupt:
        print("\nstopping the service and the broker ...", flush=True)
    finally:
        _stop(service)
        broker.stop()
    return 0 if service is None or service.returncode in (0, -15) else 1


def _stop(service: subprocess.Popen[bytes] | None) -> None:
    if service is None or service.poll() is not None:
        return
    service.terminate()
    try:
        service.wait(SERVICE_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        service.kill()
        service.wait(5)


def _port_free(port: int) -> bool:
    with socket.socket() as probe, contextlib.suppress(OSError):
        probe.bind(("127.0.0.1", port))
        return True
    return False
