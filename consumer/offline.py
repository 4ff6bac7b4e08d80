"""`newsclf classify`: the service's decode-classify-encode path over JSON lines, without a broker.

Each input line is treated exactly as a Kafka record value would be, so a line the service would
dead-letter gets an error object on its own output line instead of stopping the run.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable
from typing import TextIO

from consumer.config import ServiceConfig
from consumer.health import Health
from consumer.messages import InputRecord
from consumer.metrics import Metrics
from consumer.reload import ModelHolder
from consumer.service import classify_batch

STDIN_TOPIC = "stdin"


def _records(lines: Iterable[str], raw_text: bool) -> Iterable[InputRecord]:
    now_ms = int(time.time() * 1000)
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\n")
        if not line.strip() and not raw_text:
            continue
        payload = json.dumps({"text": line}) if raw_text else line
        value = payload.encode("utf-8", "surrogateescape")
        yield InputRecord(STDIN_TOPIC, 0, number, now_ms, None, value, [])


def classify_stream(config: ServiceConfig, lines: Iterable[str], out: TextIO, raw_text: bool = False) -> int:
    """Write one output-contract line (or error object) per input line."""
    from prometheus_client import CollectorRegistry

    metrics = Metrics.create(CollectorRegistry())
    holder = ModelHolder(config.model_dir, metrics, Health(metrics))
    holder.load()
    records = iter(_records(lines, raw_text))
    while chunk := list(itertools.islice(records, config.batch_size)):
        batch = classify_batch(chunk, holder, config)
        results = iter(batch.outputs)
        for record, output in zip(chunk, results, strict=True):
            if output.topic == config.dead_letter_topic:
                reason = dict(output.headers)
                out.write(json.dumps({"line": record.offset, "error": {
                    "reason": reason["newsclf.error.reason"].decode(),
                    "detail": reason["newsclf.error.detail"].decode()}}) + "\n")
            else:
                out.write((output.value or b"").decode("utf-8") + "\n")
        out.flush()
    return 0
