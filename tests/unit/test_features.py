"""The fast paths compute exactly what scikit-learn's own transforms compute."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from model import LoadedModel
from model.features import BatchTfidfVectorizer, words_and_bigrams
from training.corpus import bundled_corpus_files, load_articles


def test_batch_tfidf_equals_scikit_learns_transform() -> None:
    texts = [a.model_input for a in load_articles(bundled_corpus_files())[:600]]
    options = {"analyzer": words_and_bigrams, "min_df": 2, "sublinear_tf": True, "dtype": np.float32}
    ours, theirs = BatchTfidfVectorizer(**options).fit(texts), TfidfVectorizer(**options).fit(texts)
    sample = [*texts[:50], "", "zzz unseen words only", "Talks in Hanoi. Talks in Hanoi."]
    assert abs(ours.transform(sample) - theirs.transform(sample)).max() == 0


def test_analyzer_matches_scikit_learns_word_bigrams() -> None:
    text = "Leaders met in Hanoi; the U.S. envoy's talks (2026) ended — a 'first' for Việt Nam."
    reference = TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()(text)
    assert words_and_bigrams(text) == reference


def test_classifier_features_equal_the_fitted_feature_union(loaded_model: LoadedModel) -> None:
    texts = ["Ministers met in Nairobi for talks.", "A dog in Porto learned to surf.", ""]
    union = loaded_model.classifier.pipeline.named_steps["features"]
    features, mentions = loaded_model.classifier.features(texts)
    assert abs(features - union.transform(texts)).max() == 0
    assert [m[1] for m in mentions[0]] == ["Nairobi"]
