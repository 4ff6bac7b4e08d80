"""`newsclf evaluate`: the training report's measures for any model on any labelled files."""

from __future__ import annotations

from pathlib import Path

from model import load
from training.corpus import data_hash, load_articles
from training.evaluate import evaluate
from training.report import write_reports


def evaluate_files(model_dir: Path, files: list[Path], out: Path | None = None) -> Path:
    loaded = load(model_dir)
    articles = load_articles(files)
    out = out or model_dir / "evaluation"
    report = {"model": {"name": loaded.classifier.name, "version": loaded.version},
              "data": {"articles": len(articles), "sha256": data_hash(articles), "files": [p.name for p in files]},
              "splits": {"evaluation": evaluate(loaded.classifier, articles)}}
    write_reports(out, report)
    return out
