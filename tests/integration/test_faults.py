"""Faults survived on Apache Kafka: a stalled broker, a killed broker, a missing output topic, fuzz,
model reloads, and bounded memory. Each test that hurts its broker starts one of its own."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from consumer.local_broker import LocalBroker, start_kafka
from tests.integration.conftest import Kafka
from tests.integration.support import (
    ServiceProcess,
    articles,
    committed,
    http_get,
    make_topics,
    produce,
    read_topic,
    unique,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[LocalBroker]:
    broker = start_kafka(workdir=tmp_path / "broker")
    yield broker
    broker.stop()


def ids_of(records: list) -> set[str]:
    return {json.loads(r.value)["id"] for r in records}


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if condition():
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def ready(service: ServiceProcess) -> bool:
    return http_get(service.url + "/readyz", 2)[0] == 200


def test_broker_paused_for_20_s_mid_stream(own_kafka: LocalBroker, start_service) -> None:
    topics = make_topics(own_kafka.bootstrap)
    service = start_service(own_kafka.bootstrap, *topics.args(), "--batch-size", "32")
    feed = articles(3000)
    produce(own_kafka.bootstrap, topics.input, feed[:1500])
    assert len(read_topic(own_kafka.bootstrap, topics.output, expected=300, timeout_s=60)) >= 300
    os.kill(own_kafka.pid, signal.SIGSTOP)
    paused_at = time.monotonic()
    try:
        wait_for(lambda: not ready(service), 18, "/readyz to report the stalled broker")
        time.sleep(max(0.0, 20 - (time.monotonic() - paused_at)))
    finally:
        os.kill(own_kafka.pid, signal.SIGCONT)
    wait_for(lambda: ready(service), 60, "/readyz to recover after SIGCONT")
    produce(own_kafka.bootstrap, topics.input, feed[1500:])
    results = read_topic(own_kafka.bootstrap, topics.output, 0, timeout_s=120, ids={k for k, _ in feed})
    assert ids_of(results) == {k for k, _ in feed}
    assert service.alive()


def test_broker_killed_and_restarted_30_s_later(own_kafka: LocalBroker, start_service, tmp_path: Path) -> None:
    topics = make_topics(own_kafka.bootstrap)
    service = start_service(own_kafka.bootstrap, *topics.args(), "--batch-size", "32")
    feed = articles(2000)
    produce(own_kafka.bootstrap, topics.input, feed[:1000])
    assert len(read_topic(own_kafka.bootstrap, topics.output, expected=200, timeout_s=60)) >= 200
    own_kafka.process.kill()
    own_kafka.process.wait(10)
    wait_for(lambda: not ready(service), 20, "/readyz to report the lost broker")
    time.sleep(30)
    assert service.alive(), "the service stays up while the broker is gone"
    restarted = start_kafka(workdir=own_kafka.workdir)
    own_kafka.process = restarted.process
    assert restarted.bootstrap == own_kafka.bootstrap
    wait_for(lambda: ready(service), 90, "/readyz after the broker came back")
    produce(own_kafka.bootstrap, topics.input, feed[1000:])
    results = read_topic(own_kafka.bootstrap, topics.output, 0, timeout_s=120, ids={k for k, _ in feed})
    assert ids_of(results) == {k for k, _ in feed}
    unreachable = [r for r in service.log_records() if r["message"].startswith("broker unreachable")]
    assert 1 <= len(unreachable) <= 3, f"state changes logged once each, not per attempt: {len(unreachable)}"


def test_missing_output_topic_is_retried_uncommitted_then_recovers(kafka: Kafka, start_service) -> None:
    topics = make_topics(kafka.bootstrap, partitions=1)
    missing = unique("not-yet")
    args = [*topics.args(), "--output-topic", missing, "--publish-timeout-s", "5"]
    service = start_service(kafka.bootstrap, *args)
    feed = articles(50)
    produce(kafka.bootstrap, topics.input, feed)
    wait_for(lambda: service.metric("newsclf_produce_errors_total") >= 2, 60, "produce errors to be counted")
    assert committed(kafka.bootstrap, topics.group) == {}, "nothing is committed while results are not acknowledged"
    assert not ready(service)
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    admin.create_topics([NewTopic(missing, 1, 1)])
    admin.close()
    results = read_topic(kafka.bootstrap, missing, 0, timeout_s=90, ids={k for k, _ in feed})
    assert ids_of(results) == {k for k, _ in feed}
    wait_for(lambda: committed(kafka.bootstrap, topics.group) == {0: 50}, 30, "the batch to be committed")


def fuzz_payloads(count: int, seed: int = 11) -> list[bytes | None]:
    """Hostile payloads of every kind the unit properties cover, drawn reproducibly."""
    rng = random.Random(seed)
    scripts = ["Ελλάδα εκλογές", "選舉 台北", "выборы в Москве", "انتخابات في القاهرة", "चुनाव दिल्ली", "🗳️🔥"]
    makers: list[Callable[[], bytes | None]] = [
        lambda: rng.randbytes(rng.randint(1, 300)),
        lambda: b"\xc3\x28" + rng.randbytes(20),
        lambda: b"[" * 3000 + b"]" * 3000,
        lambda: json.dumps({"text": "x" * rng.randint(100, 3000)}).encode(),
        lambda: json.dumps({"text": rng.choice([1, [], {}, None, True])}).encode(),
        lambda: json.dumps({"text": "".join(chr(rng.randint(0, 31)) for _ in range(40)) + " talks"}).encode(),
        lambda: json.dumps({"text": rng.choice(scripts), "id": rng.randint(0, 10**6)}, ensure_ascii=False).encode(),
        lambda: rng.choice([b"", None, b"   ", b'{"text": "   \\n"}', b"null", b"{}", b'"text"']),
        lambda: json.dumps({"text": "a" * 10_000}).encode(),
    ]
    return [rng.choice(makers)() for _ in range(count)]


def test_fuzz_over_the_broker_every_message_is_classified_or_dead_lettered(kafka: Kafka, start_service) -> None:
    topics = make_topics(kafka.bootstrap, partitions=2)
    payloads = fuzz_payloads(300)
    service = start_service(kafka.bootstrap, *topics.args(), "--max-message-bytes", "8192")
    produce(kafka.bootstrap, topics.input, [(f"f-{i}", p) for i, p in enumerate(payloads)])
    results = read_topic(kafka.bootstrap, topics.output, expected=1, timeout_s=30, settle_s=5)
    dead = read_topic(kafka.bootstrap, topics.dead_letter, expected=1, timeout_s=10, settle_s=1)
    assert len(results) + len(dead) == len(payloads)
    assert service.alive()
    assert service.metric("newsclf_dead_letters_total") == len(dead) > 0
    assert service.metric("newsclf_articles_classified_total") == len(results) > 0


def _copy_with_version(source: Path, target: Path, version: str) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["version"] = version
    (target / "manifest.json").write_text(json.dumps(manifest))


def test_sighup_swaps_in_a_valid_model_and_keeps_serving_on_a_bad_one(kafka: Kafka, start_service,
                                                                       model_dir: Path, tmp_path: Path) -> None:
    live = tmp_path / "live-model"
    _copy_with_version(model_dir, live, "first")
    topics = make_topics(kafka.bootstrap, partitions=1)
    service = start_service(kafka.bootstrap, *topics.args(), "--model", str(live))
    produce(kafka.bootstrap, topics.input, articles(20, "before"))
    read_topic(kafka.bootstrap, topics.output, expected=20)
    _copy_with_version(model_dir, live, "second")
    service.signal(signal.SIGHUP)
    wait_for(lambda: service.metric("newsclf_model_reloads_total", {"result": "success"}) == 1, 30, "reload")
    produce(kafka.bootstrap, topics.input, articles(20, "after"))
    results = [json.loads(r.value) for r in read_topic(kafka.bootstrap, topics.output, expected=40)]
    versions = {r["id"].split("-")[0]: set() for r in results}
    for r in results:
        versions[r["id"].split("-")[0]].add(r["model"]["version"])
    assert versions == {"before": {"first"}, "after": {"second"}}
    assert service.metric("newsclf_model_info", {"version": "second"}) == 1
    (live / "model.joblib").write_bytes(b"tampered")
    service.signal(signal.SIGHUP)
    wait_for(lambda: service.metric("newsclf_model_reloads_total", {"result": "failure"}) == 1, 30, "refusal")
    produce(kafka.bootstrap, topics.input, articles(5, "later"))
    later = [json.loads(r.value) for r in read_topic(kafka.bootstrap, topics.output, expected=45)]
    assert {r["model"]["version"] for r in later if r["id"].startswith("later")} == {"second"}
    assert any("model reload refused" in r["message"] for r in service.log_records())


@pytest.mark.parametrize("damage", ["flip-byte", "other-sklearn", "no-manifest"])
def test_serve_refuses_a_bad_artifact_at_start_with_exit_code_2(model_dir: Path, tmp_path: Path, damage: str) -> None:
    bad = tmp_path / "bad-model"
    shutil.copytree(model_dir, bad)
    if damage == "flip-byte":
        data = bytearray((bad / "model.joblib").read_bytes())
        data[100] ^= 0xFF
        (bad / "model.joblib").write_bytes(bytes(data))
    elif damage == "other-sklearn":
        _copy_with_version(model_dir, bad, "x")
        manifest = json.loads((bad / "manifest.json").read_text())
        manifest["sklearn_version"] = "1.0.0"
        (bad / "manifest.json").write_text(json.dumps(manifest))
    else:
        (bad / "manifest.json").unlink()
    result = subprocess.run([sys.executable, "-m", "consumer", "serve", "--model", str(bad), "--metrics-port", "0",
                             "--log-format", "text", "--log-level", "error"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("newsclf serve: error: refusing to load model")
    assert len(result.stderr.strip().splitlines()) == 1


def rss_kib(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def test_memory_stays_bounded_over_50000_articles(kafka: Kafka, start_service, record_property) -> None:
    topics = make_topics(kafka.bootstrap, partitions=4)
    service = start_service(kafka.bootstrap, *topics.args())
    start_rss, _ = rss_kib(service.pid)
    body = "Ministers met for talks on trade, energy and security in the capital. " * 25  # ~1.7 KB
    produce(kafka.bootstrap, topics.input,
            [(f"m-{i}", json.dumps({"id": f"m-{i}", "text": f"{body} {i}"}).encode()) for i in range(50_000)])
    wait_for(lambda: service.metric("newsclf_articles_classified_total") >= 50_000, 240, "50,000 articles")
    end_rss, peak_rss = rss_kib(service.pid)
    record_property("rss_start_mib", start_rss // 1024)
    record_property("rss_end_mib", end_rss // 1024)
    record_property("rss_peak_mib", peak_rss // 1024)
    print(f"serve RSS: start {start_rss // 1024} MiB, end {end_rss // 1024} MiB, peak {peak_rss // 1024} MiB")
    assert peak_rss < 400 * 1024, "peak RSS within the 400 MB budget"
    assert end_rss - start_rss < 100 * 1024, "no growth with the number of articles processed"
