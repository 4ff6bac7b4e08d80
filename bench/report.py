"""The plain-text table and the JSON file of one bench run, with the ratios the project targets.

Ratios are what carries across machines: absolute rates depend on the CPU, the ratio of the
service to its own model-only ceiling, to the baselines and to the stock pipeline much less.
A phase that failed or was skipped shows as "n/a (reason)" and its ratios as n/a, never as 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Results = dict[str, Any]


def _get(results: Results, *path: str) -> Any:
    """A nested value, or None when any step is missing (a failed or skipped phase)."""
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _ratio(top: Any, bottom: Any) -> float | None:
    if not isinstance(top, int | float) or not isinstance(bottom, int | float) or bottom == 0:
        return None
    return round(top / bottom, 2)


def ratios(results: Results) -> dict[str, Any]:
    """The targets: each as a plain number (or None when an input figure is missing)."""
    e2e1 = _get(results, "e2e_1_process", "articles_per_s")
    rss = [*(_get(results, "e2e_1_process", "peak_rss_mb") or []),
           *(_get(results, "e2e_2_processes", "peak_rss_mb") or []), _get(results, "latency", "peak_rss_mb")]
    return {
        "e2e_1_process_over_model_only_batch_256": _ratio(e2e1, _get(results, "model_only", "project", "256",
                                                                     "articles_per_s")),
        "e2e_over_naive": _ratio(e2e1, _get(results, "naive", "articles_per_s")),
        "e2e_over_quixstreams": _ratio(e2e1, _get(results, "quixstreams", "articles_per_s")),
        "e2e_2_processes_over_1": _ratio(_get(results, "e2e_2_processes", "articles_per_s"), e2e1),
        "e2e_2_processes_over_1_steady": _ratio(_get(results, "e2e_2_processes", "steady_articles_per_s"),
                                                _get(results, "e2e_1_process", "steady_articles_per_s")),
        "project_model_over_stock_pipeline_batch_256": _ratio(
            _get(results, "model_only", "project", "256", "articles_per_s"),
            _get(results, "model_only", "stock", "256", "articles_per_s")),
        "p99_ms_at_50pct_load": _get(results, "latency", "p99_ms"),
        "peak_rss_mb_per_process_max": max((r for r in rss if r is not None), default=None),
    }


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}" if abs(value) >= 10 else f"{value:,.2f}{unit}"
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


def _problem(section: Any) -> str | None:
    """Why a phase has no figures: its error or skip reason, first line only."""
    if not isinstance(section, dict):
        return "not run"
    reason = section.get("error") or section.get("skipped")
    return None if reason is None else "n/a (" + str(reason).splitlines()[0][:110] + ")"


def _model_lines(results: Results) -> list[str]:
    section: Any = results.get("model_only")
    if problem := _problem(section):
        return ["Model only: " + problem]
    lines = ["Model only, articles/s          batch 1    batch 32   batch 256"]
    for key, name in (("project", "newsclf model"), ("stock", "stock TF-IDF+LR per head")):
        rates = [_get(section, key, size, "articles_per_s") for size in ("1", "32", "256")]
        lines.append(f"  {name:<28}" + "".join(f"{_fmt(r):>11}" for r in rates))
    lines.append(f"  median single-article latency: newsclf {_fmt(section['project_single_article_median_ms'])} ms, "
                 f"stock {_fmt(section['stock_single_article_median_ms'])} ms")
    return lines


def _throughput_line(name: str, section: Any) -> str:
    if problem := _problem(section):
        return f"  {name:<28}{problem}"
    peaks = section.get("peak_rss_mb")
    rss = ", ".join(_fmt(r) for r in peaks) if isinstance(peaks, list) else _fmt(peaks)
    steady = section.get("steady_articles_per_s")
    steady_note = f" (steady {_fmt(steady)}/s)" if steady is not None else ""
    return (f"  {name:<28}{_fmt(section['articles']):>7} articles {_fmt(section['seconds']):>8} s "
            f"{_fmt(section['articles_per_s']):>9} articles/s{steady_note}   peak RSS {rss} MB")


def _sharing_note(results: Results) -> list[str]:
    """The 2-process clock starts when the group owns all 4 partitions, often the first joiner alone."""
    after = _get(results, "e2e_2_processes", "every_process_owned_partitions_after_s")
    if after is None:
        return []
    return [f"  {'':<28}(both processes owned partitions {_fmt(after)} s after the clock started)"]


def _latency_lines(results: Results) -> list[str]:
    section: Any = results.get("latency")
    if problem := _problem(section):
        return ["Latency at 50% of the 1-process rate: " + problem]
    return [f"Latency at 50% of the 1-process rate ({_fmt(section['offered_per_s'])} articles/s offered for "
            f"{_fmt(section['seconds'])} s, {section['received']:,} results)",
            f"  p50 {_fmt(section['p50_ms'])} ms   p95 {_fmt(section['p95_ms'])} ms   p99 {_fmt(section['p99_ms'])} ms"
            f"   max {_fmt(section['max_ms'])} ms   (input timestamp -> result read by the bench)",
            f"  service histogram p99 ~ {_fmt(section['service_histogram_p99_ms_estimate'])} ms (estimate: linear "
            "interpolation within buckets; input timestamp -> commit)"]


def render(results: Results) -> str:
    """The whole report as text, one figure per line where possible."""
    meta = results["meta"]
    quick = "  (quick)" if meta["quick"] else ""
    lines = [f"newsclf bench {meta['started_at']}  broker {meta['broker']}  {meta['cpus']} CPUs  "
             f"{meta['articles']:,} articles of ~{meta['mean_payload_bytes']:,.0f} B{quick}",
             "", *_model_lines(results), "",
             f"End to end on {meta['broker']} (4 partitions, serve batch size 256, at-least-once)",
             _throughput_line("1 serve process", results.get("e2e_1_process")),
             _throughput_line("2 serve processes, 1 group", results.get("e2e_2_processes")),
             *_sharing_note(results),
             "", *_latency_lines(results), "",
             "Baselines (same model, same input; first record consumed -> N-th result read)",
             _throughput_line("naive per-message loop", results.get("naive")),
             _throughput_line("Quix Streams apply/to_topic", results.get("quixstreams")), "", "Ratios"]
    names = {"e2e_1_process_over_model_only_batch_256": "end-to-end 1 process / model only (batch 256)",
             "e2e_over_naive": "end-to-end / naive", "e2e_over_quixstreams": "end-to-end / Quix Streams",
             "e2e_2_processes_over_1": "2 processes / 1 process",
             "e2e_2_processes_over_1_steady": "2 / 1 processes, once both own partitions",
             "project_model_over_stock_pipeline_batch_256": "newsclf model / stock pipeline (batch 256)",
             "p99_ms_at_50pct_load": "p99 at 50% load (ms)",
             "peak_rss_mb_per_process_max": "peak RSS per serve process, max of all runs (MB)"}
    lines += [f"  {names[key]:<48}{_fmt(value):>10}" for key, value in results["ratios"].items()]
    return "\n".join(lines)


def write_json(results: Results, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
