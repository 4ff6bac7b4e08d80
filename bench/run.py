"""`python -m bench.run [--broker kafka|tansu] [--articles N] [--quick] [--out PATH]`.

Runs every phase in order (model only, end to end with 1 and 2 processes, latency at 50% load,
the two baselines), prints one table and writes the same figures as JSON. A failed phase is
recorded as an error and the run goes on, so one broken baseline does not cost the other figures.
Every process the bench starts is stopped by PID in `finally`, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.processes import REPO_ROOT, Reaper

if TYPE_CHECKING:
    from bench.endtoend import Context

DEFAULT_ARTICLES, QUICK_ARTICLES = 20_000, 4_000


@dataclass(frozen=True)
class Settings:
    """Everything a run depends on; recorded in the JSON so two result files can be compared."""

    broker: str
    articles: int
    quick: bool
    out: Path
    model_dir: str
    model_seconds: float
    latency_seconds: float
    baseline_articles: int


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka", help="[default: kafka]")
    parser.add_argument("--articles", type=int, help=f"N [default: {DEFAULT_ARTICLES:,}; --quick: {QUICK_ARTICLES:,}]")
    parser.add_argument("--quick", action="store_true", help="N=4,000 and shorter phases (a smoke run, < 3 min)")
    parser.add_argument("--out", help="JSON file [default: bench/results/bench-<UTC timestamp>.json]")
    parser.add_argument("--model", help="model directory [default: NEWSCLF_MODEL, else .cache/model]")
    args = parser.parse_args(argv)
    articles = args.articles or (QUICK_ARTICLES if args.quick else DEFAULT_ARTICLES)
    if articles < 100:
        parser.error("--articles must be at least 100")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else REPO_ROOT / "bench" / "results" / f"bench-{stamp}.json"
    model = args.model or os.environ.get("NEWSCLF_MODEL") or str(REPO_ROOT / ".cache" / "model")
    return Settings(broker=args.broker, articles=articles, quick=args.quick, out=out, model_dir=model,
                    model_seconds=1.0 if args.quick else 3.0, latency_seconds=15.0 if args.quick else 30.0,
                    baseline_articles=min(articles, 600 if args.quick else 2_000))


def progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def phase(results: dict[str, Any], name: str, run: Callable[[], dict[str, Any]]) -> None:
    """Run one phase; an exception becomes `{"error": ...}` in the results (Ctrl-C still stops all)."""
    started = time.monotonic()
    try:
        results[name] = run()
    except Exception as exc:  # one failed phase must not lose the others' figures
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        progress(f"{name} FAILED: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        return
    progress(f"{name} done in {time.monotonic() - started:.1f} s")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe(settings: Settings, mean_bytes: float) -> dict[str, Any]:
    from model.artifact import read_manifest

    manifest = read_manifest(Path(settings.model_dir))
    return {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "broker": settings.broker,
            "articles": settings.articles, "baseline_articles": settings.baseline_articles,
            "quick": settings.quick, "model_seconds_per_batch_size": settings.model_seconds,
            "latency_seconds": settings.latency_seconds, "mean_payload_bytes": round(mean_bytes, 1),
            "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(), "python": platform.python_version(),
            "model": {"name": manifest.get("name"), "version": manifest.get("version"), "dir": settings.model_dir},
            "versions": {p: _version(p) for p in ("newsclf", "scikit-learn", "kafka-python", "quixstreams")}}


def start_broker(kind: str, reaper: Reaper) -> str:
    """The bench's own broker on free loopback ports; registered with the reaper before anything else."""
    from consumer.local_broker import start_kafka, start_tansu

    broker = start_kafka() if kind == "kafka" else start_tansu()
    reaper.brokers.append(broker)
    progress(f"{kind} broker ready on {broker.bootstrap} (pid {broker.pid})")
    return broker.bootstrap


def broker_phases(settings: Settings, results: dict[str, Any], payloads: list[tuple[bytes, bytes]],
                  ctx: Context) -> None:
    """End to end (1, then 2 processes), latency at half the 1-process rate, then the baselines."""
    from bench.baselines import run_baseline
    from bench.endtoend import latency_run, throughput_run

    phase(results, "e2e_1_process", lambda: throughput_run(ctx, payloads, 1))
    phase(results, "e2e_2_processes", lambda: throughput_run(ctx, payloads, 2))

    def latency() -> dict[str, Any]:
        single = results["e2e_1_process"].get("articles_per_s")
        if not single:
            raise RuntimeError("needs the 1-process end-to-end rate, which failed")
        return latency_run(ctx, payloads, 0.5 * single, settings.latency_seconds)

    phase(results, "latency", latency)
    subset = payloads[:settings.baseline_articles]
    phase(results, "naive", lambda: run_baseline(ctx, "naive", subset))
    phase(results, "quixstreams", lambda: run_baseline(ctx, "quix", subset))


def run(settings: Settings, reaper: Reaper, workdir: Path) -> dict[str, Any]:
    from bench.endtoend import Context
    from bench.modelbench import model_only
    from bench.report import ratios
    from bench.workload import build_workload, mean_payload_bytes

    articles = build_workload(settings.articles)
    payloads = [(a.id.encode(), a.payload()) for a in articles]
    results: dict[str, Any] = {"meta": describe(settings, mean_payload_bytes(articles))}
    progress(f"workload: {len(articles):,} articles of ~{results['meta']['mean_payload_bytes']:,.0f} B")
    texts = [a.model_input for a in articles[:2048]]
    phase(results, "model_only", lambda: model_only(settings.model_dir, texts, settings.model_seconds, progress))
    bootstrap = start_broker(settings.broker, reaper)
    ctx = Context(bootstrap, settings.broker, settings.model_dir, workdir, reaper, progress)
    broker_phases(settings, results, payloads, ctx)
    results["ratios"] = ratios(results)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    from consumer.errors import ServiceError
    from consumer.local_broker import interrupted_by_signals
    from model.errors import ModelError

    settings = parse_args(argv)
    os.environ.setdefault("NEWSCLF_CACHE_DIR", str(REPO_ROOT / ".cache"))  # where `make` keeps the Kafka jars
    workdir = Path(tempfile.mkdtemp(prefix="newsclf-bench-"))
    reaper = Reaper()
    started = time.monotonic()
    with interrupted_by_signals():
        try:
            results = run(settings, reaper, workdir)
        except KeyboardInterrupt:
            progress(f"interrupted: stopping every process the bench started (logs kept in {workdir})")
            return 130
        except (ServiceError, ModelError) as exc:  # no model, no Java, a broker that will not start
            print(f"bench: error: {exc}", file=sys.stderr)
            shutil.rmtree(workdir, ignore_errors=True)
            return 2
        finally:
            reaper.stop_all()
    results["meta"]["total_seconds"] = round(time.monotonic() - started, 1)
    return finish(results, settings.out, workdir)


def finish(results: dict[str, Any], out: Path, workdir: Path) -> int:
    """Table, JSON, exit code; the logs are kept only when a phase failed (they say why)."""
    from bench.report import render, write_json

    print(render(results))
    print(f"\nwritten to {write_json(results, out)} ({results['meta']['total_seconds']:.0f} s in all)")
    if any(isinstance(v, dict) and "error" in v for v in results.values()):
        print(f"some phases failed; serve and baseline logs kept in {workdir}")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
