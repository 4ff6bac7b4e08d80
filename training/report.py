"""Writing a quality report: `report.json` for machines, `report.md` for people, a confusion PNG."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SPLIT_TITLES = {"test": "Held-out test split", "validation": "Validation split",
                "holdout": "Generalisation set (different style, never trained on)",
                "evaluation": "Evaluation"}


def write_reports(directory: Path, report: dict[str, Any]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "report.json", directory / "report.md"]
    written[0].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    written[1].write_text(markdown(report), encoding="utf-8")
    png = write_confusion_png(directory / "confusion.png", report)
    return [*written, png] if png else written


def _summary_rows(splits: dict[str, Any]) -> list[str]:
    rows = ["| set | head | articles | accuracy | macro-F1 | ECE | abstained | threshold |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for split, heads in splits.items():
        for head, m in heads.items():
            rows.append(f"| {SPLIT_TITLES.get(split, split)} | {head} | {m['articles']} | {m['accuracy']:.3f} "
                        f"| {m['macro_f1']:.3f} | {m['expected_calibration_error']:.3f} "
                        f"| {m['abstention_rate']:.1%} | {m['threshold']:.2f} |")
    return rows


def _class_rows(metrics: dict[str, Any]) -> list[str]:
    rows = ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    rows += [f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |"
             for label, c in metrics["per_class"].items()]
    return rows


def _confusion_rows(metrics: dict[str, Any]) -> list[str]:
    labels = metrics["confusion"]["labels"]
    rows = ["| gold \\ predicted | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    rows += [f"| {label} | " + " | ".join(map(str, counts)) + " |"
             for label, counts in zip(labels, metrics["confusion"]["matrix"], strict=True)]
    return rows


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Quality report: {report.get('model', {}).get('name', 'model')} "
             f"{report.get('model', {}).get('version', '')}", ""]
    lines += [f"Data: {report.get('data', {}).get('articles', '?')} articles, "
              f"sha256 {report.get('data', {}).get('sha256', '?')[:16]}…", ""]
    lines += _summary_rows(report["splits"]) + [""]
    for split, heads in report["splits"].items():
        for head, metrics in heads.items():
            lines += [f"## {SPLIT_TITLES.get(split, split)}: {head}", ""]
            lines += _class_rows(metrics) + [""] + _confusion_rows(metrics) + [""]
    return "\n".join(lines)


def write_confusion_png(path: Path, report: dict[str, Any]) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: skipping %s (pip install 'newsclf[report]')", path.name)
        return None
    split = "test" if "test" in report["splits"] else next(iter(report["splits"]))
    heads = report["splits"][split]
    figure, axes = plt.subplots(1, len(heads), figsize=(7 * len(heads), 6.5))
    for axis, (head, metrics) in zip(list(getattr(axes, "flat", [axes])), heads.items(), strict=True):
        labels, matrix = metrics["confusion"]["labels"], metrics["confusion"]["matrix"]
        axis.imshow(matrix, cmap="Blues")
        axis.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
        axis.set_yticks(range(len(labels)), labels)
        for row, counts in enumerate(matrix):
            for column, count in enumerate(counts):
                if count:
                    axis.text(column, row, str(count), ha="center", va="center", fontsize=8)
        axis.set_title(f"{head} ({SPLIT_TITLES.get(split, split)})")
        axis.set_xlabel("predicted")
        axis.set_ylabel("gold")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
