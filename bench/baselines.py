"""Baselines on the same model and input: the tutorial loop and a Quix Streams pipeline.

Both run as child processes (`python -m bench.baselines naive|quix ...`), like `serve`, so each
has its own interpreter and GIL, and the bench can stop them by PID. Each writes the wall-clock
time it got its first record to a marker file; the bench times the N-th result on the output
topic with its own reader, so throughput = N / (t_Nth_result - t_first_record).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.endtoend import Context
from bench.kafka_tools import OutputReader, fresh_topics, prefill
from bench.processes import child_environment, peak_rss_mb

QUIX_MISSING = "quixstreams is not installed: pip install -e '.[bench]' (skipping the Quix Streams baseline)"
TANSU_GROUP = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}


def quix_installed() -> bool:
    return importlib.util.find_spec("quixstreams") is not None


def _marker(path: Path) -> Callable[[], None]:
    """Writes the first-record time once; later calls cost one attribute test."""
    state = {"done": False}

    def mark() -> None:
        if not state["done"]:
            state["done"] = True
            path.write_text(repr(time.time()))

    return mark


def _classifier(model_dir: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """One article in, one result out: what both baselines call per message."""
    from model.artifact import load
    from model.features import article_text

    classifier = load(model_dir).classifier

    def classify_one(article: dict[str, Any]) -> dict[str, Any]:
        prediction = classifier.predict([article_text(article["text"], article.get("title"))])[0]
        return {"id": article.get("id"), "topic": prediction.topic.as_dict(), "region": prediction.region.as_dict()}

    return classify_one


def run_naive(args: argparse.Namespace) -> None:
    """The common tutorial loop: per message predict, send, wait for the ack, commit that offset."""
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.structs import OffsetAndMetadata, TopicPartition

    classify_one, mark = _classifier(args.model), _marker(Path(args.mark))
    consumer = KafkaConsumer(args.input, bootstrap_servers=args.bootstrap, group_id=args.group,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             **(TANSU_GROUP if args.tansu else {}))
    producer = KafkaProducer(bootstrap_servers=args.bootstrap)
    try:
        for message in consumer:
            mark()
            result = classify_one(json.loads(message.value))
            producer.send(args.output, key=message.key, value=json.dumps(result).encode()).get(timeout=30)
            consumer.commit({TopicPartition(message.topic, message.partition):
                             OffsetAndMetadata(message.offset + 1, "", -1)})
    finally:
        producer.close(5)
        consumer.close(autocommit=False)


def run_quix(args: argparse.Namespace) -> None:
    """A Quix Streams pipeline in its natural per-message style: apply, then to_topic."""
    from quixstreams import Application

    classify_one, mark = _classifier(args.model), _marker(Path(args.mark))

    def timed_classify(value: dict[str, Any]) -> dict[str, Any]:
        mark()
        return classify_one(value)

    extra = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000} if args.tansu else None
    app = Application(broker_address=args.bootstrap, consumer_group=args.group, auto_offset_reset="earliest",
                      consumer_extra_config=extra)
    sdf = app.dataframe(app.topic(args.input, value_deserializer="json"))
    sdf = sdf.apply(timed_classify)
    sdf.to_topic(app.topic(args.output, value_serializer="json"))
    app.run()  # until SIGTERM, which Quix handles by finishing and committing


def run_baseline(ctx: Context, kind: str, payloads: Sequence[tuple[bytes, bytes]]) -> dict[str, object]:
    """Fresh topics pre-filled with the payloads, the baseline child started, its N-th result timed."""
    if kind == "quix" and not quix_installed():
        print(QUIX_MISSING, flush=True)
        return {"skipped": QUIX_MISSING}
    topics = fresh_topics(ctx.bootstrap, kind)
    prefill(ctx.bootstrap, topics.input, payloads)
    reader = OutputReader(ctx.bootstrap, topics.output).start()
    mark = ctx.workdir / f"{kind}-{topics.group}.first"
    command = [sys.executable, "-m", "bench.baselines", kind, "--bootstrap", ctx.bootstrap, "--input", topics.input,
               "--output", topics.output, "--group", topics.group, "--model", ctx.model_dir, "--mark", str(mark)]
    log = ctx.workdir / f"{kind}.log"
    ctx.progress(f"baseline {kind}: {len(payloads)} articles")
    process = ctx.reaper.spawn(command + (["--tansu"] if ctx.broker_kind == "tansu" else []), log,
                               child_environment(pythonpath=True), cwd=ctx.workdir)
    try:
        done = reader.wait_for(len(payloads), timeout_s=90 + len(payloads) / 10, alive=lambda: process.poll() is None)
        rss = peak_rss_mb(process.pid)
    finally:
        reader.stop()
        code = ctx.reaper.stop(process)
    if not done or not mark.is_file():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.is_file() else ""
        raise RuntimeError(f"{kind}: {len(reader.received)} of {len(payloads)} results (exit {code}):\n{tail}")
    seconds = reader.received[len(payloads) - 1][0] - float(mark.read_text())
    return {"articles": len(payloads), "seconds": round(seconds, 3),
            "articles_per_s": round(len(payloads) / seconds, 1), "peak_rss_mb": rss}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines")
    parser.add_argument("kind", choices=("naive", "quix"))
    for name in ("bootstrap", "input", "output", "group", "model", "mark"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--tansu", action="store_true", help="short session timeout for Tansu")
    args = parser.parse_args(argv)
    if args.kind == "naive":  # Quix installs its own SIGTERM handler; the tutorial loop needs one
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        run_naive(args)
    else:
        run_quix(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
