"""Broker-side helpers of the bench: fresh topics, pre-filling, paced producing, timed reading.

Each measured run gets fresh topics and a fresh group, so no run starts from another's offsets
or reads another's results.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from tests.integration.support import Topics, make_topics

PARTITIONS = 4


def fresh_topics(bootstrap: str, label: str) -> Topics:
    """Input and output with `PARTITIONS` partitions each, a one-partition dead-letter topic (the
    same helper the integration tests use; `label` only names the phase in logs)."""
    return make_topics(bootstrap, partitions=PARTITIONS)


def _producer(bootstrap: str, linger_ms: int) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, linger_ms=linger_ms, batch_size=512 * 1024,
                         max_request_size=4 * 1024 * 1024)


def prefill(bootstrap: str, topic: str, payloads: Sequence[tuple[bytes, bytes]]) -> float:
    """Every (key, value) into `topic`, spread evenly (record i to partition i % 4); returns seconds.

    Explicit partitions, not key hashing: four equal partitions make the 1- and 2-process runs
    comparable (a skewed partition would bound the 2-process run by its largest share).
    """
    started = time.monotonic()
    producer = _producer(bootstrap, linger_ms=20)
    try:
        futures = [producer.send(topic, key=key, value=value, partition=index % PARTITIONS)
                   for index, (key, value) in enumerate(payloads)]
        producer.flush(120)
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(10)
    return time.monotonic() - started


def paced_produce(bootstrap: str, topic: str, payloads: Sequence[tuple[bytes, bytes]], rate: float,
                  duration_s: float, tick_s: float = 0.010) -> int:
    """Send at `rate` records/s for `duration_s`, in `tick_s` ticks (cycling the payloads).

    Each tick sends what is due by then, so a late tick catches up and the offered load stays
    `rate` on average. The client stamps each record with its send time (CreateTime), the start
    of every latency the bench reports. Returns how many were sent (and acknowledged).
    """
    producer = _producer(bootstrap, linger_ms=1)
    sent = 0
    try:
        started = time.monotonic()
        tick = 0
        while (elapsed := time.monotonic() - started) < duration_s:
            due = int(rate * elapsed) + 1
            while sent < due:
                key, value = payloads[sent % len(payloads)]
                producer.send(topic, key=key, value=value, partition=sent % PARTITIONS)
                sent += 1
            tick += 1
            time.sleep(max(0.0, started + tick * tick_s - time.monotonic()))
        producer.flush(60)
    finally:
        producer.close(10)
    return sent


@dataclass
class OutputReader:
    """A background reader of a result topic: every record with the wall-clock time it arrived.

    Plain (read_uncommitted) consumer, no group, from the beginning; fetch_max_wait_ms is small
    so an idle fetch does not delay the receipt time of the next result.
    """

    bootstrap: str
    topic: str
    received: list[tuple[float, bytes]] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> OutputReader:
        self.thread = threading.Thread(target=self._run, name=f"reader-{self.topic}", daemon=True)
        self.thread.start()
        if not self.ready.wait(30):
            raise RuntimeError(f"the result reader of {self.topic} did not start: {self.error}")
        return self

    def _run(self) -> None:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                 fetch_max_wait_ms=20, auto_offset_reset="earliest")
        try:
            partitions = [TopicPartition(self.topic, p) for p in range(PARTITIONS)]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            consumer.poll(timeout_ms=100)
            self.ready.set()
            while not self.stop_event.is_set():
                for batch in consumer.poll(timeout_ms=100).values():
                    now = time.time()
                    self.received.extend((now, record.value) for record in batch)
        except Exception as exc:  # reported to the waiting thread, which raises it
            self.error = exc
            self.ready.set()
        finally:
            consumer.close()

    def wait_for(self, count: int, timeout_s: float, alive: Callable[[], bool] = lambda: True) -> bool:
        """True once `count` records arrived; False on timeout or when the producing process died."""
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count and time.monotonic() < deadline:
            if self.error is not None:
                raise RuntimeError(f"reading {self.topic} failed: {self.error}")
            if not alive():
                time.sleep(1.0)  # let the last results it sent arrive
                return len(self.received) >= count
            time.sleep(0.05)
        return len(self.received) >= count

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(10)

    def latencies_ms(self) -> list[float]:
        """Receipt time minus the input record's timestamp (`source.timestamp` of the result), ms."""
        return [now * 1000 - json.loads(value)["source"]["timestamp"] for now, value in self.received]
