"""Quality measures for a classifier on labelled articles: the numbers every report is built from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from model.classifier import ABSTAIN_LABELS, HEADS, NewsClassifier
from training.corpus import LabelledArticle

CALIBRATION_BINS = 15
Score = Callable[[Sequence[str], Sequence[str]], float]


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return float(f1_score(gold, predicted, average="macro", zero_division=0))


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return float(accuracy_score(gold, predicted))


SELECTION_SCORES: dict[str, Score] = {"topic": macro_f1, "region": accuracy}


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    bins = np.minimum((confidence * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    error = 0.0
    for b in np.unique(bins):
        members = bins == b
        error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def apply_threshold(classes: Sequence[str], proba: np.ndarray, threshold: float, abstain: str) -> list[str]:
    best = proba.argmax(axis=1)
    return [abstain if proba[i, b] < threshold else classes[b] for i, b in enumerate(best)]


def choose_threshold(gold: Sequence[str], classes: Sequence[str], proba: np.ndarray, abstain: str,
                     score: Score) -> tuple[float, float]:
    """The confidence floor that scores best on validation data; ties go to the middle of the plateau.

    Taking the middle of the best plateau, rather than its lowest point, keeps a margin on both sides
    when validation data are too easy to separate the candidates.
    """
    grid = np.round(np.arange(0.0, 0.96, 0.01), 2)
    scores = np.array([score(gold, apply_threshold(classes, proba, t, abstain)) for t in grid])
    best = np.flatnonzero(scores >= scores.max() - 1e-9)
    chosen = float(grid[best[len(best) // 2]]) if len(best) else 0.0
    return chosen, float(scores.max())


def head_report(gold: Sequence[str], predicted: Sequence[str], best_guess: Sequence[str],
                confidence: np.ndarray, abstained: Sequence[bool]) -> dict[str, Any]:
    labels = sorted(set(gold) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0)
    correct = np.array([g == b for g, b in zip(gold, best_guess, strict=True)], dtype=float)
    return {
        "articles": len(gold),
        "accuracy": round(accuracy(gold, predicted), 4),
        "macro_f1": round(macro_f1(gold, predicted), 4),
        "expected_calibration_error": round(expected_calibration_error(confidence, correct), 4),
        "abstention_rate": round(float(np.mean(abstained)) if len(abstained) else 0.0, 4),
        "per_class": {label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                              "f1": round(float(f), 4), "support": int(s)}
                      for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)},
        "confusion": {"labels": labels,
                      "matrix": confusion_matrix(gold, predicted, labels=labels).tolist()},
    }


def evaluate(classifier: NewsClassifier, articles: Sequence[LabelledArticle]) -> dict[str, dict[str, Any]]:
    """Both heads' measures on `articles`, with the classifier's own thresholds."""
    predictions = classifier.predict([a.model_input for a in articles])
    report: dict[str, dict[str, Any]] = {}
    for head in HEADS:
        results = [getattr(p, head) for p in predictions]
        best_guess = [max(r.scores, key=r.scores.get) for r in results]
        report[head] = head_report(
            gold=[getattr(a, head) for a in articles], predicted=[r.label for r in results],
            best_guess=best_guess, confidence=np.array([r.confidence for r in results]),
            abstained=[r.abstained for r in results])
        report[head]["threshold"] = classifier.thresholds.get(head, 0.0)
        report[head]["abstain_label"] = ABSTAIN_LABELS[head]
    return report
