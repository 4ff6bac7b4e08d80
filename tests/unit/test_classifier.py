"""The bundled model on what it must get right: the seed stories, its floors, its evidence."""

from __future__ import annotations

import pytest

from model import LoadedModel, article_text
from model.classifier import HEADS
from training.corpus import bundled_corpus_files, bundled_holdout_file, load_articles
from training.evaluate import evaluate
from training.train import split

TEST_SPLIT_FLOOR = 0.95
GENERALISATION_FLOOR = 0.90


def test_seed_stories_get_their_expected_labels(loaded_model: LoadedModel, seed_stories: list[dict]) -> None:
    predictions = loaded_model.classifier.predict([article_text(s["text"], s.get("title")) for s in seed_stories])
    for story, prediction in zip(seed_stories, predictions, strict=True):
        expected = story["expected"]
        acceptable = {expected["region"], *expected.get("region_also_acceptable", [])}
        assert prediction.topic.label == expected["topic"], story["id"]
        assert prediction.region.label in acceptable, story["id"]


def test_quality_floors_on_the_held_out_test_split(loaded_model: LoadedModel) -> None:
    """Recomputes the training split from the manifest's seed and measures the loaded model on it."""
    articles = load_articles(bundled_corpus_files())
    _, _, test = split(articles, loaded_model.manifest["seed"])
    report = evaluate(loaded_model.classifier, test)
    assert report["topic"]["macro_f1"] >= TEST_SPLIT_FLOOR
    assert report["region"]["accuracy"] >= TEST_SPLIT_FLOOR


def test_quality_on_the_generalisation_set_written_in_other_styles(loaded_model: LoadedModel) -> None:
    report = evaluate(loaded_model.classifier, load_articles([bundled_holdout_file()]))
    assert report["topic"]["macro_f1"] >= GENERALISATION_FLOOR
    assert report["region"]["accuracy"] >= GENERALISATION_FLOOR


def test_scores_are_probabilities_and_evidence_explains(loaded_model: LoadedModel) -> None:
    text = "Vietnamese and Philippine coastguard officials held talks in Hanoi on the maritime dispute."
    prediction = loaded_model.classifier.predict([text])[0]
    for head in HEADS:
        result = getattr(prediction, head)
        assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert result.confidence == max(result.scores.values())
        assert 1 <= len(result.evidence) <= 3 and all(isinstance(t, str) and t for t in result.evidence)
    assert prediction.region.label == "southeast_asia"
    assert "Hanoi" in prediction.region.evidence or "Vietnamese" in prediction.region.evidence


def test_unseen_places_are_placed_by_the_gazetteer(loaded_model: LoadedModel) -> None:
    corpus_words = {w.strip(".,;:'\"()") for a in load_articles(bundled_corpus_files()) for w in a.text.split()}
    stories = [
        ("Bien Hoa", "Residents of Bien Hoa cheered as a farmer's giant pumpkin won a prize.", "southeast_asia"),
        ("Tamale", "Thousands queued to vote in Tamale as polls opened for the presidential runoff.", "africa"),
        ("Zhytomyr", "Officials in Zhytomyr said a grandmother had knitted 3,000 socks for volunteers.", "europe"),
        ("Yichang", "A photo of a dog-shaped hill near Yichang went viral and drew crowds of hikers.", "east_asia"),
        ("Gujranwala", "Police in Gujranwala arrested two men after a jewellery shop robbery.", "south_asia"),
        ("Rancagua", "Voters in Rancagua chose a new mayor in a tight municipal election.", "latin_america"),
        ("Toowoomba", "A flower festival in Toowoomba drew record crowds this weekend.", "oceania"),
    ]
    for place, text, region in stories:
        assert not set(place.split()) <= corpus_words, f"{place} is in the corpus; pick a place it never names"
        assert loaded_model.classifier.predict([text])[0].region.label == region, text


def test_low_confidence_abstains_but_still_reports_scores(loaded_model: LoadedModel) -> None:
    prediction = loaded_model.classifier.predict(["lorem ipsum dolor sit amet"])[0]
    assert prediction.region.label == "unknown"
    assert prediction.region.scores and prediction.topic.scores
