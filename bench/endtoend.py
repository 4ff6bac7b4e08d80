"""End-to-end runs of `newsclf serve` on a real broker: throughput (1 and 2 processes) and latency.

Throughput is read from the services' own /metrics, polled every 50 ms, so the figure covers
exactly consume -> classify -> publish -> commit and not the bench's producing or start-up:
N / (t_last - t_assigned), t_assigned being the first poll at which the processes together own
all 4 partitions, t_last the poll at which N articles are classified and commits stopped growing.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.kafka_tools import PARTITIONS, OutputReader, Topics, fresh_topics, paced_produce, prefill
from bench.processes import Reaper, ServeProcess, histogram_buckets, peak_rss_mb

POLL_S = 0.050
SETTLE_S = 0.5
ASSIGNED = "newsclf_assigned_partitions"
CLASSIFIED = "newsclf_articles_classified_total"
COMMITS = "newsclf_commits_total"
E2E_HISTOGRAM = "newsclf_end_to_end_latency_seconds"


@dataclass
class Context:
    """What every broker phase needs: where the broker is and how to start and stop things."""

    bootstrap: str
    broker_kind: str
    model_dir: str
    workdir: Path
    reaper: Reaper
    progress: Callable[[str], None]

    @property
    def group_args(self) -> list[str]:
        """Tansu needs a short session timeout (it does not notice departures quickly otherwise)."""
        return ["--session-timeout-ms", "6000", "--heartbeat-interval-ms", "1000"] if self.broker_kind == "tansu" \
            else []

    def start_serves(self, topics: Topics, count: int, label: str) -> list[ServeProcess]:
        args = ["--bootstrap-servers", self.bootstrap, "--model", self.model_dir, *topics.args(),
                *self.group_args]
        return [ServeProcess.start(self.reaper, args, self.workdir / f"serve-{label}-{i}.log") for i in range(count)]

    def stop_serves(self, serves: Sequence[ServeProcess]) -> list[int]:
        return [self.reaper.stop(s.process, timeout_s=45.0) for s in serves]


def _totals(serves: Sequence[ServeProcess]) -> tuple[dict[str, float], list[dict[str, float]]]:
    scraped = [s.scrape() for s in serves]
    total = {name: sum(s.get(name, 0.0) for s in scraped) for name in (ASSIGNED, CLASSIFIED, COMMITS)}
    return total, scraped


def _check_alive(serves: Sequence[ServeProcess]) -> None:
    for serve in serves:
        if not serve.alive():
            raise RuntimeError(f"serve (pid {serve.pid}) exited with {serve.process.returncode}:\n"
                               f"{serve.log_tail()}")


def watch_until_done(serves: Sequence[ServeProcess], expected: int, timeout_s: float) -> dict[str, object]:
    """Poll /metrics every 50 ms; returns t_assigned, t_last (monotonic) and the final per-process counts."""
    deadline = time.monotonic() + timeout_s
    t_assigned = t_done = t_shared = None
    classified_when_shared = 0.0
    commits, commits_changed = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        tick = time.monotonic()
        total, scraped = _totals(serves)
        if t_assigned is None and total[ASSIGNED] >= PARTITIONS:
            t_assigned = tick
        if t_shared is None and all(s.get(ASSIGNED, 0.0) > 0 for s in scraped) and total[ASSIGNED] >= PARTITIONS:
            t_shared = tick  # with 2 processes: the first joiner often owns all 4 until the second arrives
            classified_when_shared = total[CLASSIFIED]
        if total[COMMITS] != commits:
            commits, commits_changed = total[COMMITS], tick
        if t_done is None and total[CLASSIFIED] >= expected:
            t_done = tick
        if t_done is not None and tick - commits_changed >= SETTLE_S:
            t_assigned = t_assigned if t_assigned is not None else t_done
            return {"t_assigned": t_assigned, "t_last": max(t_done, commits_changed), "commits": commits,
                    "every_process_owned_partitions_after_s": None if t_shared is None
                    else round(max(0.0, t_shared - t_assigned), 3),
                    "t_shared": t_shared, "classified_when_shared": classified_when_shared,
                    "classified_per_process": [s.get(CLASSIFIED, 0.0) for s in scraped]}
        _check_alive(serves)
        time.sleep(max(0.0, tick + POLL_S - time.monotonic()))
    raise TimeoutError(f"{int(_totals(serves)[0][CLASSIFIED])} of {expected} articles classified "
                       f"after {timeout_s:.0f} s")


def throughput_run(ctx: Context, payloads: Sequence[tuple[bytes, bytes]], processes: int) -> dict[str, object]:
    """Pre-fill a fresh input topic with N articles, start `processes` serves in one group, time them."""
    topics = fresh_topics(ctx.bootstrap, f"e2e{processes}")
    fill_s = prefill(ctx.bootstrap, topics.input, payloads)
    ctx.progress(f"end to end, {processes} process(es): {len(payloads)} articles pre-filled in {fill_s:.1f} s; "
                 "starting serve")
    serves = ctx.start_serves(topics, processes, f"e2e{processes}")
    try:
        watched = watch_until_done(serves, len(payloads), timeout_s=90 + len(payloads) / 50)
        rss = [peak_rss_mb(s.pid) for s in serves]
    finally:
        codes = ctx.stop_serves(serves)
    seconds = float(watched["t_last"]) - float(watched["t_assigned"])  # type: ignore[arg-type]
    # Steady state: from the moment every process owns partitions, counting only what is left then.
    shared_start = watched["t_shared"] if watched["t_shared"] is not None else watched["t_assigned"]
    steady_s = float(watched["t_last"]) - float(shared_start)  # type: ignore[arg-type]
    steady_articles = len(payloads) - float(watched["classified_when_shared"])  # type: ignore[arg-type]
    return {"processes": processes, "articles": len(payloads), "seconds": round(seconds, 3),
            "articles_per_s": round(len(payloads) / seconds, 1),
            "steady_articles_per_s": round(steady_articles / steady_s, 1) if steady_s > 0 else None,
            "peak_rss_mb": rss,
            "commits": watched["commits"], "classified_per_process": watched["classified_per_process"],
            "every_process_owned_partitions_after_s": watched["every_process_owned_partitions_after_s"],
            "exit_codes": codes}


def wait_assigned(serves: Sequence[ServeProcess], timeout_s: float = 90.0) -> float:
    """Seconds until the processes own all partitions (the latency phase offers load only then)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if _totals(serves)[0][ASSIGNED] >= PARTITIONS:
            return time.monotonic() - started
        _check_alive(serves)
        time.sleep(POLL_S)
    raise TimeoutError(f"partitions not assigned after {timeout_s:.0f} s")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: an observed latency, never an interpolated one."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]


def histogram_quantile(buckets: Sequence[tuple[float, float]], fraction: float) -> float | None:
    """Prometheus-style estimate: linear interpolation inside the bucket holding the quantile."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    target = fraction * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= target:
            if bound == float("inf"):
                return lower_bound  # above the largest finite bucket: only a lower bound is known
            return lower_bound + (bound - lower_bound) * (target - lower_count) / max(count - lower_count, 1e-12)
        lower_bound, lower_count = bound, count
    return None


def latency_run(ctx: Context, payloads: Sequence[tuple[bytes, bytes]], rate: float,
                duration_s: float) -> dict[str, object]:
    """One serve on fresh topics, a paced producer at `rate`, results timed by the bench's reader."""
    topics = fresh_topics(ctx.bootstrap, "latency")
    serves = ctx.start_serves(topics, 1, "latency")
    reader = OutputReader(ctx.bootstrap, topics.output)
    try:
        wait_assigned(serves)
        reader.start()
        ctx.progress(f"latency: offering {rate:.0f} articles/s for {duration_s:.0f} s")
        sent = paced_produce(ctx.bootstrap, topics.input, payloads, rate, duration_s)
        complete = reader.wait_for(sent, timeout_s=60.0, alive=serves[0].alive)
        time.sleep(0.3)  # the last commit's histogram update follows its acknowledgement
        buckets = histogram_buckets(serves[0].metrics_text(), E2E_HISTOGRAM)
        rss = peak_rss_mb(serves[0].pid)
    finally:
        reader.stop()
        ctx.stop_serves(serves)
    latencies = reader.latencies_ms()
    if not latencies:
        raise RuntimeError("no result arrived during the latency phase")
    service_p99 = histogram_quantile(buckets, 0.99)
    return {"offered_per_s": round(rate, 1), "seconds": duration_s, "sent": sent, "received": len(latencies),
            "complete": complete, "p50_ms": round(percentile(latencies, 0.50), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies), 1), "mean_ms": round(statistics.fmean(latencies), 1),
            "service_histogram_p99_ms_estimate": None if service_p99 is None else round(service_p99 * 1000, 1),
            "peak_rss_mb": rss}
