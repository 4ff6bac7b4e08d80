"""The shared feature space both heads read: TF-IDF word n-grams beside gazetteer place features.

Vectorising is most of the cost of a prediction, so it is done once per batch and both heads read
the same matrix.
"""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from model.gazetteer import GazetteerFeatures


def article_text(text: str, title: str | None = None) -> str:
    """The text the model reads: the headline (when there is one) on its own line, then the body."""
    return f"{title}\n{text}" if title else text


def build_features(*, ngram_range: tuple[int, int] = (1, 2), min_df: int = 2,
                   max_features: int | None = 60000, places_weight: float = 1.0) -> FeatureUnion:
    words = TfidfVectorizer(ngram_range=ngram_range, min_df=min_df, max_features=max_features,
                            sublinear_tf=True, strip_accents="unicode")
    return FeatureUnion([("words", words), ("places", GazetteerFeatures())],
                        transformer_weights={"words": 1.0, "places": places_weight})
