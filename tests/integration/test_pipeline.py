"""End to end on Apache Kafka: outside clients in, `newsclf serve` processes in the middle, results out."""

from __future__ import annotations

import collections
import json
import signal
import subprocess
import time

import pytest

from tests.integration.conftest import Kafka, require_tool
from tests.integration.support import articles, committed, make_topics, produce, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def ids_of(records: list) -> list[str]:
    return [json.loads(r.value)["id"] for r in records]


def test_seed_stories_published_by_kcat_come_out_labelled(kafka: Kafka, start_service, seed_stories,
                                                         result_validator) -> None:
    kcat = require_tool("kcat")
    topics = make_topics(kafka.bootstrap)
    start_service(kafka.bootstrap, *topics.args())
    lines = "".join(f"{story['id']}\t{json.dumps(story)}\n" for story in seed_stories)
    subprocess.run([kcat, "-b", kafka.bootstrap, "-P", "-t", topics.input, "-K", "\t"], input=lines.encode(),
                   check=True, timeout=30)
    results = read_topic(kafka.bootstrap, topics.output, expected=len(seed_stories))
    assert len(results) == len(seed_stories)
    by_id = {}
    for record in results:
        body = json.loads(record.value)
        result_validator.validate(body)
        assert record.key.decode() == body["id"]
        by_id[body["id"]] = body
    for story in seed_stories:
        expected = story["expected"]
        assert by_id[story["id"]]["topic"]["label"] == expected["topic"], story["id"]
        assert by_id[story["id"]]["region"]["label"] in {expected["region"], *expected["region_also_acceptable"]}


def test_every_bad_input_kind_is_dead_lettered_while_good_ones_around_it_are_classified(
        kafka: Kafka, start_service, result_validator) -> None:
    topics = make_topics(kafka.bootstrap, partitions=1)
    bad = {"invalid_utf8": b"\xff\xfe\xfd", "invalid_json": b'{"text": "cut', "missing_text": b'{"id": "x"}',
           "empty_text": b'{"text": " "}', "wrong_type": b'{"text": ["a"]}', "too_large": b"x" * 5_000,
           "empty_payload": None, "invalid_unicode": b'{"text": "\\udc80"}'}
    good = articles(len(bad) + 1, prefix="good")
    interleaved: list[tuple[str | None, bytes | None]] = []
    for (key, value), (reason, poison) in zip(good, bad.items(), strict=False):
        interleaved += [(key, value), (f"bad-{reason}", poison)]
    interleaved.append(good[-1])
    service = start_service(kafka.bootstrap, *topics.args(), "--max-message-bytes", "4096")
    produce(kafka.bootstrap, topics.input, interleaved, headers=[("trace-id", b"t-1")])
    results = read_topic(kafka.bootstrap, topics.output, expected=len(good))
    dead = read_topic(kafka.bootstrap, topics.dead_letter, expected=len(bad))
    assert sorted(ids_of(results)) == sorted(k for k, _ in good)
    for record in results:
        result_validator.validate(json.loads(record.value))
        assert ("trace-id", b"t-1") in record.headers
    reasons = {}
    for record in dead:
        headers = dict(record.headers)
        reason = headers["newsclf.error.reason"].decode()
        reasons[reason] = record.value
        assert headers["newsclf.source.topic"].decode() == topics.input
        assert int(headers["newsclf.source.offset"]) >= 0 and headers["trace-id"] == b"t-1"
    assert reasons == bad
    time.sleep(5.5)  # one lag refresh
    assert service.metric("newsclf_dead_letters_total") == len(bad)
    assert service.metric("newsclf_articles_classified_total") == len(good)
    assert service.metric("newsclf_consumer_lag_messages") == 0


def test_sigterm_mid_stream_exits_0_and_a_restart_reprocesses_nothing_committed(kafka: Kafka,
                                                                                  start_service) -> None:
    topics = make_topics(kafka.bootstrap)
    feed = articles(3000)
    produce(kafka.bootstrap, topics.input, feed)
    service = start_service(kafka.bootstrap, *topics.args(), "--batch-size", "64")
    assert len(read_topic(kafka.bootstrap, topics.output, expected=300, timeout_s=60)) >= 300
    assert service.stop() == 0
    first_run = ids_of(read_topic(kafka.bootstrap, topics.output, expected=3000, timeout_s=5, settle_s=1))
    offsets = committed(kafka.bootstrap, topics.group)
    assert sum(offsets.values()) == len(first_run) < 3000, "everything published was committed, nothing more"
    assert any(r["message"].startswith("stopping: last batch committed") for r in service.log_records())
    start_service(kafka.bootstrap, *topics.args())
    everything = ids_of(read_topic(kafka.bootstrap, topics.output, expected=3000, settle_s=2))
    assert sorted(everything) == sorted(k for k, _ in feed), "each article exactly once across the restart"


def _crash_and_restart(kafka: Kafka, start_service, topics, extra: list[str], isolation: str) -> list[str]:
    feed = articles(2000)
    produce(kafka.bootstrap, topics.input, feed)
    service = start_service(kafka.bootstrap, *topics.args(), "--batch-size", "50", *extra)
    assert len(read_topic(kafka.bootstrap, topics.output, expected=1000, timeout_s=60,
                          isolation_level=isolation)) >= 1000
    service.signal(signal.SIGKILL)
    service.process.wait(10)  # type: ignore[union-attr]
    start_service(kafka.bootstrap, *topics.args(), *extra)
    seen = ids_of(read_topic(kafka.bootstrap, topics.output, 0, isolation_level=isolation, settle_s=3,
                             timeout_s=90, ids={k for k, _ in feed}))
    assert set(seen) == {k for k, _ in feed}, "every input id has a result after kill -9 and restart"
    return seen


def test_kill_9_halfway_loses_nothing(kafka: Kafka, start_service, record_property) -> None:
    seen = _crash_and_restart(kafka, start_service, make_topics(kafka.bootstrap), [], "read_uncommitted")
    duplicates = sum(n - 1 for n in collections.Counter(seen).values())
    record_property("at_least_once_duplicates", duplicates)
    print(f"at-least-once: {len(seen)} results for 2000 ids, {duplicates} duplicates after kill -9")


def test_kill_9_halfway_exactly_once_shows_each_id_once(kafka: Kafka, start_service) -> None:
    seen = _crash_and_restart(kafka, start_service, make_topics(kafka.bootstrap),
                              ["--delivery", "exactly-once", "--instance-id", "eos-test-replica"], "read_committed")
    assert len(seen) == 2000, f"{len(seen) - 2000} duplicates visible to a read_committed consumer"


def test_two_processes_share_the_partitions_and_publish_everything(kafka: Kafka, start_service) -> None:
    topics = make_topics(kafka.bootstrap, partitions=4)
    first = start_service(kafka.bootstrap, *topics.args())
    second = start_service(kafka.bootstrap, *topics.args())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (first.metric("newsclf_assigned_partitions"),
                                           second.metric("newsclf_assigned_partitions")) != (2, 2):
        time.sleep(0.5)
    assert (first.metric("newsclf_assigned_partitions"), second.metric("newsclf_assigned_partitions")) == (2, 2)
    feed = articles(800)
    produce(kafka.bootstrap, topics.input, feed)
    assert sorted(ids_of(read_topic(kafka.bootstrap, topics.output, expected=800, settle_s=1))) == \
        sorted(k for k, _ in feed)
    shares = [first.metric("newsclf_articles_classified_total"), second.metric("newsclf_articles_classified_total")]
    assert sum(shares) == 800 and min(shares) > 0
