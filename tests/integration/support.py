"""Helpers for tests against a real broker: topics, producing, reading, and `serve` processes by PID."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.structs import TopicPartition

from consumer.local_broker import free_port

FAST_GROUP = ["--session-timeout-ms", "6000", "--heartbeat-interval-ms", "1000"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Topics:
    input: str
    output: str
    dead_letter: str
    group: str

    def args(self) -> list[str]:
        return ["--input-topic", self.input, "--output-topic", self.output,
                "--dead-letter-topic", self.dead_letter, "--group-id", self.group]


def make_topics(bootstrap: str, partitions: int = 4, **client: object) -> Topics:
    topics = Topics(unique("in"), unique("out"), unique("dlq"), unique("group"))
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **client)
    try:
        admin.create_topics([NewTopic(topics.input, partitions, 1), NewTopic(topics.output, partitions, 1),
                             NewTopic(topics.dead_letter, 1, 1)])
    finally:
        admin.close()
    return topics


def articles(count: int, prefix: str = "a") -> list[tuple[str, bytes]]:
    """Distinct, varied articles keyed by id (short enough to stay fast, real enough to classify)."""
    bodies = ["Foreign ministers of both countries met in Nairobi for talks on a trade treaty.",
              "Voters queued in Lima as the electoral commission opened polling stations for the runoff.",
              "The navy began live-fire drills off Okinawa, the defence ministry said.",
              "A retired teacher in Porto taught her parrot to sing the national anthem.",
              "Shares fell in Frankfurt as investors weighed weak factory data."]
    return [(f"{prefix}-{i}", json.dumps({"id": f"{prefix}-{i}", "text": f"{bodies[i % 5]} Report {i}."}).encode())
            for i in range(count)]


def produce(bootstrap: str, topic: str, records: Iterable[tuple[str | None, bytes | None]],
            headers: Sequence[tuple[str, bytes]] = (), **client: object) -> int:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, **client)
    sent = 0
    try:
        futures = [producer.send(topic, key=key.encode() if key else None, value=value, headers=list(headers))
                   for key, value in records]
        producer.flush(60)
        for future in futures:
            future.get(timeout=10)
            sent += 1
    finally:
        producer.close(5)
    return sent


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 60.0,
               isolation_level: str = "read_uncommitted", settle_s: float = 0.0,
               ids: set[str] | None = None, **client: object) -> list:
    """Every record of `topic` from the start, until `expected` records (or every one of `ids`) arrived,
    then `settle_s` more, or until the timeout."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             isolation_level=isolation_level, **client)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list = []
        seen: set[str] = set()
        deadline = time.monotonic() + timeout_s
        settle_until = None
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                found.extend(batch)
                if ids is not None:
                    seen.update(json.loads(r.value)["id"] for r in batch)
            complete = ids <= seen if ids is not None else len(found) >= expected
            if complete and settle_until is None:
                settle_until = time.monotonic() + settle_s
            if settle_until is not None and time.monotonic() >= settle_until:
                break
        return found
    finally:
        consumer.close()


def committed(bootstrap: str, group: str) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


def http_get(url: str, timeout_s: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@dataclass
class ServiceProcess:
    """A `newsclf serve` child process, owned by PID; its log goes to a file the test can read."""

    args: list[str]
    log_path: Path
    environment: dict[str, str]
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        command = [sys.executable, "-m", "consumer", "serve", "--metrics-port", str(self.metrics_port),
                   "--log-format", "json", *self.args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=self.environment)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.alive(), f"serve exited early:\n{self.log()}"
            with contextlib.suppress(OSError):
                if http_get(self.url + "/readyz", 1.0)[0] == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"serve not ready after {timeout_s} s:\n{self.log()}")

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        from prometheus_client.parser import text_string_to_metric_families

        total = 0.0
        for family in text_string_to_metric_families(http_get(self.url + "/metrics")[1]):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()):
                    total += sample.value
        return total

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.alive():
            self.signal(signal.SIGTERM)
        assert self.process is not None
        return self.process.wait(timeout_s)

    def kill(self) -> None:
        if self.alive():
            self.signal(signal.SIGKILL)
            assert self.process is not None
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.is_file() else ""

    def log_records(self) -> list[dict]:
        lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.is_file() else []
        return [json.loads(line) for line in lines if line.startswith("{")]
