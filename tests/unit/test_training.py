"""Training: deterministic for a seed, label sets from the data, bad data refused in one line."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from consumer.cli import main
from model import load
from training.corpus import bundled_corpus_files, load_articles

SMALL = 400


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    articles = load_articles(bundled_corpus_files())
    random.Random(7).shuffle(articles)
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    path.write_text("".join(json.dumps({"title": a.title, "text": a.text, "topic": a.topic, "region": a.region}) + "\n"
                            for a in articles[:SMALL]))
    return path


def test_training_is_deterministic_for_a_seed(small_corpus: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert main(["train", "--data", str(small_corpus), "--out", str(tmp_path / name), "--seed", "3"]) == 0
    first, second = load(tmp_path / "a"), load(tmp_path / "b")
    texts = ["Leaders met in Seoul for talks.", "The navy held drills near Okinawa.", "A cat rode a bus."]
    assert first.classifier.predict(texts) == second.classifier.predict(texts)
    assert first.manifest["metrics"] == second.manifest["metrics"]
    for report in ("report.json", "report.md", "confusion.png"):
        assert (tmp_path / "a" / report).is_file()


def test_label_sets_come_from_the_data(tmp_path: Path) -> None:
    rows = [{"text": f"{word} story number {i} about {word} things", "topic": word, "region": place}
            for i in range(30) for word, place in (("sport", "north"), ("money", "south"))]
    path = tmp_path / "custom.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "topic", "region"])
        writer.writeheader()
        writer.writerows(rows)
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "m")]) == 0
    loaded = load(tmp_path / "m")
    assert loaded.classifier.labels == {"topic": ["money", "sport"], "region": ["north", "south"]}
    assert loaded.classifier.predict(["sport story about sport things"])[0].topic.label == "sport"


@pytest.mark.parametrize(("content", "problem"), [
    ('{"text": "x", "topic": "a"}\n', "`region` must be a non-empty string"),
    ("not json\n", "not JSON"),
    ('{"text": "x", "topic": "a", "region": "b"}\n', "too few"),
])
def test_bad_training_data_is_one_line_and_exit_code_2(tmp_path: Path, content: str, problem: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "m")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]  # progress lines aside
    assert len(errors) == 1 and errors[0].startswith("newsclf train: error:") and problem in errors[0]


def test_evaluate_writes_the_same_report_for_any_labelled_file(model_dir: Path, small_corpus: Path,
                                                               tmp_path: Path) -> None:
    assert main(["evaluate", "--model", str(model_dir), "--data", str(small_corpus), "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["splits"]["evaluation"]["topic"]["articles"] == SMALL
    assert "expected_calibration_error" in report["splits"]["evaluation"]["region"]
