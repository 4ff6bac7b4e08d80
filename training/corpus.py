"""Labelled articles from JSON Lines or CSV files, validated line by line.

Each record needs `text`, `topic` and `region`; `title` is optional. The label sets come from the
data, so users can train on their own taxonomy.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from model.errors import TrainingDataError
from model.features import article_text


@dataclass(frozen=True)
class LabelledArticle:
    text: str
    topic: str
    region: str
    title: str | None = None

    @property
    def model_input(self) -> str:
        return article_text(self.text, self.title)


def bundled_corpus_files() -> list[Path]:
    """The bundled training corpus: one folder per language (`data/corpus/<language>/*.jsonl`)."""
    folder = resources.files("training").joinpath("data/corpus")
    return sorted(Path(str(folder)).glob("*/*.jsonl"))


def bundled_holdout_file() -> Path:
    return Path(str(resources.files("training").joinpath("data/holdout/en/generalisation.jsonl")))


def _records(path: Path) -> Iterator[tuple[int, object]]:
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix.lower() == ".csv":
            yield from enumerate(csv.DictReader(handle), start=2)
            return
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TrainingDataError(f"{path}:{number}", f"not JSON ({exc.msg})") from exc


def _article(where: str, record: object) -> LabelledArticle:
    if not isinstance(record, dict):
        raise TrainingDataError(where, "each record must be an object with text, topic and region")
    values = {}
    for key in ("text", "topic", "region"):
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            raise TrainingDataError(where, f"`{key}` must be a non-empty string")
        values[key] = value.strip()
    title = record.get("title")
    return LabelledArticle(title=title.strip() if isinstance(title, str) and title.strip() else None,
                           **values)


def load_articles(paths: Iterable[Path]) -> list[LabelledArticle]:
    articles: list[LabelledArticle] = []
    for path in paths:
        if not path.is_file():
            raise TrainingDataError(str(path), "no such file")
        try:
            articles.extend(_article(f"{path}:{n}", record) for n, record in _records(path))
        except UnicodeDecodeError as exc:
            raise TrainingDataError(str(path), "not UTF-8 text") from exc
    if not articles:
        raise TrainingDataError(", ".join(map(str, paths)) or "(no files)", "holds no labelled articles")
    return articles


def data_hash(articles: Iterable[LabelledArticle]) -> str:
    """A digest of the labelled content, independent of file names and order of files."""
    digest = hashlib.sha256()
    for line in sorted(json.dumps([a.title, a.text, a.topic, a.region]) for a in articles):
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()
