"""Tansu (the demo broker) restarted empty: topics, groups and committed offsets are all gone.

What the service does: it stays up and reports not ready while it has no partitions; its producer,
whose idempotent state the new broker does not know, is replaced; once the topics exist again it
joins, starts from the earliest offset (there is no committed one) and classifies what arrives.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from consumer.local_broker import start_tansu
from tests.integration.support import articles, http_get, make_topics, produce, read_topic

pytestmark = [
    pytest.mark.integration, pytest.mark.timeout(240),
    # kafka-python leaves the sockets of a broker that died under it to the garbage collector
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def test_service_resumes_when_tansu_comes_back_empty(start_service) -> None:
    broker = start_tansu()
    try:
        topics = make_topics(broker.bootstrap, partitions=1)
        service = start_service(broker.bootstrap, *topics.args())
        produce(broker.bootstrap, topics.input, articles(20, "before"))
        assert len(read_topic(broker.bootstrap, topics.output, 0, ids={f"before-{i}" for i in range(20)})) >= 20
        broker.process.kill()
        broker.process.wait(10)
        broker = start_tansu(broker.port)
        states = set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            states.add(http_get(service.url + "/readyz")[0])
            time.sleep(0.5)
        assert service.alive()
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        for topic in (topics.input, topics.output, topics.dead_letter):
            with contextlib.suppress(TopicAlreadyExistsError):  # Tansu auto-creates on metadata requests
                admin.create_topics([NewTopic(topic, 1, 1)])
        admin.close()
        after = articles(20, "after")
        produce(broker.bootstrap, topics.input, after, enable_idempotence=False)
        results = read_topic(broker.bootstrap, topics.output, 0, timeout_s=120, ids={k for k, _ in after})
        assert {json.loads(r.value)["id"] for r in results} == {k for k, _ in after}, service.log()
        assert service.alive()
        noticed = [r["message"] for r in service.log_records()
                   if "was recreated" in r["message"] or "lost this partition's data" in r["message"]]
        assert noticed, "the service says why it restarted the partitions"
        print(noticed[0])
        print(f"/readyz answers seen while the broker came back empty: {sorted(states)}")
    finally:
        broker.stop()
