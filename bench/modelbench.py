"""Model-only speed: the project's `NewsClassifier.predict` against a stock scikit-learn pipeline.

No broker, no JSON, no threads: this is the ceiling the service can reach, so the end-to-end
figures can be read as a fraction of it. The stock pipeline is what a tutorial would build
(TF-IDF word 1-2 grams + logistic regression, one pipeline per head, so each article is
vectorised twice); its ratio tells whether the project's shared-features model pays for itself.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from training.corpus import bundled_corpus_files, load_articles

BATCH_SIZES = (1, 32, 256)
Predictor = Callable[[Sequence[str]], object]


@dataclass(frozen=True)
class SpeedResult:
    batch_size: int
    articles: int
    seconds: float
    articles_per_s: float
    median_call_ms: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class StockPipeline:
    """One TF-IDF + logistic regression pipeline per head, trained on the bundled corpus."""

    def __init__(self, heads: dict[str, Pipeline]) -> None:
        self.heads = heads

    @classmethod
    def train(cls) -> StockPipeline:
        """Fit on the same bundled corpus the project's model was trained on (all of it)."""
        corpus = load_articles(bundled_corpus_files())
        texts = [a.model_input for a in corpus]
        heads = {}
        for head in ("topic", "region"):
            pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                                     LogisticRegression(max_iter=2000))
            heads[head] = pipeline.fit(texts, [getattr(a, head) for a in corpus])
        return cls(heads)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float, str, float]]:
        """Label and confidence per head, like the project's model reports (predict_proba + argmax)."""
        per_head = []
        for pipeline in self.heads.values():
            proba = pipeline.predict_proba(list(texts))
            classes = pipeline.classes_
            best = proba.argmax(axis=1)
            per_head.append([(str(classes[i]), float(proba[row, i])) for row, i in enumerate(best)])
        return [(t[0], t[1], r[0], r[1]) for t, r in zip(per_head[0], per_head[1], strict=True)]


def measure(predict: Predictor, texts: Sequence[str], batch_size: int, duration_s: float) -> SpeedResult:
    """Call `predict` on consecutive batches (cycling the texts) until `duration_s` has passed."""
    predict(texts[:batch_size])  # warm-up: first-call allocations are not steady-state speed
    calls: list[float] = []
    done = 0
    started = time.perf_counter()
    position = 0
    while time.perf_counter() - started < duration_s:
        if position + batch_size > len(texts):
            position = 0
        batch = texts[position:position + batch_size]
        position += batch_size
        before = time.perf_counter()
        predict(batch)
        calls.append(time.perf_counter() - before)
        done += len(batch)
    elapsed = time.perf_counter() - started
    return SpeedResult(batch_size, done, round(elapsed, 3), round(done / elapsed, 1),
                       round(statistics.median(calls) * 1000, 3))


def measure_all(predict: Predictor, texts: Sequence[str], duration_s: float) -> dict[int, SpeedResult]:
    """One `measure` per batch size of `BATCH_SIZES`."""
    return {size: measure(predict, texts, size, duration_s) for size in BATCH_SIZES}


def model_only(model_dir: str, texts: Sequence[str], duration_s: float,
               progress: Callable[[str], None]) -> dict[str, object]:
    """Both models, every batch size; the single-article median latency is the batch-1 median call."""
    from model.artifact import load

    classifier = load(model_dir).classifier
    progress(f"model only: newsclf model, batches {BATCH_SIZES}, ~{duration_s:.0f} s each")
    project = measure_all(classifier.predict, texts, duration_s)
    progress("model only: training the stock scikit-learn pipeline on the bundled corpus")
    started = time.perf_counter()
    stock_model = StockPipeline.train()
    train_s = time.perf_counter() - started
    progress(f"model only: stock pipeline (trained in {train_s:.1f} s), batches {BATCH_SIZES}")
    stock = measure_all(stock_model.predict, texts, duration_s)
    return {
        "project": {str(k): v.as_dict() for k, v in project.items()},
        "stock": {str(k): v.as_dict() for k, v in stock.items()},
        "project_single_article_median_ms": project[1].median_call_ms,
        "stock_single_article_median_ms": stock[1].median_call_ms,
        "stock_train_seconds": round(train_s, 2),
    }
