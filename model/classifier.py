"""The two-head news classifier: one vectorisation, a calibrated linear head per label set.

`NewsClassifier.predict` is the only call the service makes: one call per batch, pure, no I/O.
Each head returns its label, the probability of its best guess, every label's probability and the
terms that pushed the decision. Below the head's threshold (chosen on validation data) the label is
the abstention label (`other` / `unknown`) and `abstained` is set; the scores are still reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline

from model.features import build_features
from model.gazetteer import GazetteerFeatures, Mention
from model.taxonomy import REGION_UNKNOWN, TOPIC_OTHER

HEADS = ("topic", "region")
ABSTAIN_LABELS = {"topic": TOPIC_OTHER, "region": REGION_UNKNOWN}
EVIDENCE_TERMS = 3


@dataclass(frozen=True)
class HeadPrediction:
    label: str
    confidence: float
    scores: dict[str, float]
    evidence: list[str]
    abstained: bool

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "confidence": self.confidence, "scores": self.scores,
                "evidence": self.evidence, "abstained": self.abstained}


@dataclass(frozen=True)
class Prediction:
    topic: HeadPrediction
    region: HeadPrediction


def build_pipeline(*, C: float = 10.0, calibration_folds: int = 3, random_state: int = 0,
                   **feature_params: object) -> Pipeline:
    """An unfitted pipeline: shared features, then a calibrated logistic regression per head."""
    head = CalibratedClassifierCV(
        LogisticRegression(C=C, max_iter=2000, random_state=random_state),
        method="temperature", cv=calibration_folds, ensemble=False)
    return Pipeline([("features", build_features(**feature_params)),  # type: ignore[arg-type]
                     ("heads", MultiOutputClassifier(head))])


@dataclass
class NewsClassifier:
    """A fitted pipeline plus what serving needs around it: thresholds, names, version."""

    pipeline: Pipeline
    thresholds: dict[str, float]
    name: str = "newsclf"
    version: str = "0"
    _feature_names: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._feature_names = self.pipeline.named_steps["features"].get_feature_names_out()

    @property
    def labels(self) -> dict[str, list[str]]:
        return {head: [str(c) for c in est.classes_]
                for head, est in zip(HEADS, self.pipeline.named_steps["heads"].estimators_, strict=True)}

    def features(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, list[list[Mention]]]:
        """What the fitted FeatureUnion computes, with each text's place mentions kept as evidence
        (so the gazetteer scans every text once, not once for features and again for evidence)."""
        union = self.pipeline.named_steps["features"]
        (_, words), (_, places) = union.transformer_list
        weights = union.transformer_weights or {}
        mentions = [places.mentions(text) for text in texts]
        blocks = [words.transform(texts) * weights.get("words", 1.0),
                  places.features(mentions) * weights.get("places", 1.0)]
        return sp.hstack(blocks, format="csr"), mentions

    def probabilities(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, list[list[Mention]], list[np.ndarray]]:
        features, mentions = self.features(texts)
        heads = self.pipeline.named_steps["heads"].estimators_
        return features, mentions, [est.predict_proba(features) for est in heads]

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Label a batch; one vectorisation and one matrix product per head for the whole batch."""
        if not texts:
            return []
        features, mentions, probabilities = self.probabilities(texts)
        per_head = [self._head_predictions(head, features, proba, mentions)
                    for head, proba in zip(HEADS, probabilities, strict=True)]
        return [Prediction(topic, region) for topic, region in zip(*per_head, strict=True)]

    def _head_predictions(self, head: str, features: sp.csr_matrix, proba: np.ndarray,
                          mentions: Sequence[list[Mention]]) -> list[HeadPrediction]:
        head_index = HEADS.index(head)
        estimator = self.pipeline.named_steps["heads"].estimators_[head_index]
        classes = [str(c) for c in estimator.classes_]
        weights = _class_weights(estimator)
        best = proba.argmax(axis=1)
        threshold = self.thresholds.get(head, 0.0)
        results = []
        for row, found in enumerate(mentions):
            confidence = float(proba[row, best[row]])
            label = classes[best[row]]
            abstained = confidence < threshold
            evidence = self._evidence(features, row, weights[best[row]], head, label, found)
            results.append(HeadPrediction(
                label=ABSTAIN_LABELS[head] if abstained else label,
                confidence=round(confidence, 4),
                scores={c: round(float(p), 4) for c, p in zip(classes, proba[row], strict=True)},
                evidence=evidence, abstained=abstained))
        return results

    def _evidence(self, features: sp.csr_matrix, row: int, weights: np.ndarray, head: str,
                  label: str, mentions: list[Mention]) -> list[str]:
        start, end = features.indptr[row], features.indptr[row + 1]
        columns = features.indices[start:end]
        contributions = features.data[start:end] * weights[columns]
        order = np.argsort(-contributions)
        terms: list[str] = []
        for position in order:
            if contributions[position] <= 0 or len(terms) >= EVIDENCE_TERMS:
                break
            name = str(self._feature_names[columns[position]])
            if head == "region":
                terms.extend(self._readable(name, label, mentions))
            elif name.startswith("words__"):  # place priors are not evidence for a topic
                terms.append(name)
        terms = list(dict.fromkeys(t.split("__", 1)[-1] for t in terms))
        return terms[:EVIDENCE_TERMS]

    def _readable(self, name: str, label: str, mentions: list[Mention]) -> list[str]:
        """Place features become the place names behind them ("Hanoi", not "places:southeast_asia")."""
        if not name.startswith("places__"):
            return [name]
        gazetteer: GazetteerFeatures = self.pipeline.named_steps["features"].transformer_list[1][1]
        region = gazetteer.regions_.index(label) if label in gazetteer.regions_ else -1
        return [surface for _, surface, weights in mentions if weights[0][0] == region]


def _class_weights(estimator: CalibratedClassifierCV) -> np.ndarray:
    """Per-class coefficient rows; a binary head has one row, for the second class."""
    coef = estimator.calibrated_classifiers_[0].estimator.coef_
    return np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef
