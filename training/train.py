"""`newsclf train`: corpus in, model directory out (artifact, manifest, reports).

Stratified train/validation/test split; the pipeline is fit on train, the abstention thresholds are
chosen on validation, and the reported quality is measured on test (plus the bundled generalisation
set, written in other styles and never trained on). Deterministic for a given seed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sklearn.model_selection import train_test_split

from model import artifact
from model.classifier import ABSTAIN_LABELS, HEADS, NewsClassifier, build_pipeline
from model.errors import TrainingDataError
from training.corpus import LabelledArticle, data_hash, load_articles
from training.evaluate import SELECTION_SCORES, choose_threshold, evaluate
from training.report import write_reports

Progress = Callable[[str], None]
HYPERPARAMETERS: dict[str, Any] = {"C": 10.0, "calibration_folds": 3, "min_df": 2, "max_features": 60000,
                                   "places_weight": 1.0}


@dataclass(frozen=True)
class TrainingOptions:
    data: Sequence[Path]
    out: Path
    seed: int = 0
    holdout: Path | None = None
    name: str = "newsclf"
    hyperparameters: dict[str, Any] = field(default_factory=lambda: dict(HYPERPARAMETERS))


def split(articles: Sequence[LabelledArticle], seed: int
          ) -> tuple[list[LabelledArticle], list[LabelledArticle], list[LabelledArticle]]:
    """70/15/15, stratified by topic and region together where every cell allows it."""
    cells = [f"{a.topic}|{a.region}" for a in articles]
    if min(Counter(cells).values()) < 4:
        cells = [a.topic for a in articles]
    if len(articles) < 20 or min(Counter(cells).values()) < 4:
        raise TrainingDataError("training data", f"{len(articles)} articles are too few: "
                                "need at least 20, and 4 per topic")
    train, rest = train_test_split(list(articles), test_size=0.3, random_state=seed, stratify=cells)
    rest_cells = [f"{a.topic}|{a.region}" if "|" in cells[0] else a.topic for a in rest]
    if min(Counter(rest_cells).values()) < 2:
        rest_cells = [a.topic for a in rest]
    validation, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=rest_cells)
    return train, validation, test


def fit(train: Sequence[LabelledArticle], validation: Sequence[LabelledArticle],
        options: TrainingOptions, version: str) -> NewsClassifier:
    pipeline = build_pipeline(random_state=options.seed, **options.hyperparameters)
    pipeline.fit([a.model_input for a in train], [[a.topic, a.region] for a in train])
    classifier = NewsClassifier(pipeline, thresholds={h: 0.0 for h in HEADS},
                                name=options.name, version=version)
    _, _, probabilities = classifier.probabilities([a.model_input for a in validation])
    for head, proba in zip(HEADS, probabilities, strict=True):
        gold = [getattr(a, head) for a in validation]
        classes = classifier.labels[head]
        classifier.thresholds[head], _ = choose_threshold(
            gold, classes, proba, ABSTAIN_LABELS[head], SELECTION_SCORES[head])
    return classifier


def train(options: TrainingOptions, progress: Progress = lambda _: None) -> dict[str, Any]:
    started = time.perf_counter()

    def step(message: str) -> None:
        progress(f"[{time.perf_counter() - started:5.1f}s] {message}")

    articles = load_articles(options.data)
    digest = data_hash(articles)
    step(f"loaded {len(articles)} articles from {len(options.data)} file(s), sha256 {digest[:12]}")
    train_set, validation, test = split(articles, options.seed)
    version = f"{datetime.now(UTC):%Y%m%d}.{digest[:8]}"
    step(f"fitting on {len(train_set)} articles (validation {len(validation)}, test {len(test)})")
    classifier = fit(train_set, validation, options, version)
    step(f"thresholds chosen on validation: {classifier.thresholds}")
    splits = {"validation": evaluate(classifier, validation), "test": evaluate(classifier, test)}
    if options.holdout is not None:
        splits["holdout"] = evaluate(classifier, load_articles([options.holdout]))
    step("evaluated: " + "; ".join(f"{s} topic F1 {m['topic']['macro_f1']:.3f} region acc "
                                   f"{m['region']['accuracy']:.3f}" for s, m in splits.items()))
    details = {"seed": options.seed, "hyperparameters": options.hyperparameters,
               "training_data": {"sha256": digest, "articles": len(articles),
                                 "files": [p.name for p in options.data]},
               "metrics": {s: {h: {k: m[h][k] for k in ("accuracy", "macro_f1", "expected_calibration_error",
                                                       "abstention_rate")} for h in HEADS}
                           for s, m in splits.items()}}
    manifest = artifact.save(classifier, options.out, **details)
    report = {"model": {"name": options.name, "version": version}, "data": details["training_data"],
              "splits": splits, "training_seconds": round(time.perf_counter() - started, 1)}
    written = write_reports(options.out, report)
    step(f"wrote {options.out / artifact.ARTIFACT_FILE} and {', '.join(p.name for p in written)}")
    return manifest
