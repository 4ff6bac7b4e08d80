"""The benchmark's input: ~2 KB articles built deterministically from the bundled corpus.

Bundled articles average ~1.1 KB; real wire articles are longer, and vectorising cost grows with
length, so paragraphs of several articles of the same topic are joined until ~2 KB. The same seed
always gives the same articles, so runs on different days measure the same work.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass

from training.corpus import LabelledArticle, bundled_corpus_files, load_articles

TARGET_CHARS = 1_800
MAX_CHARS = 2_000
DEFAULT_SEED = 20_240_601


@dataclass(frozen=True)
class BenchArticle:
    """One article of the input contract: {"id", "title", "text"}."""

    id: str
    title: str
    text: str

    def payload(self) -> bytes:
        """The Kafka record value the service and the baselines receive."""
        return json.dumps({"id": self.id, "title": self.title, "text": self.text},
                          ensure_ascii=False).encode("utf-8")

    @property
    def model_input(self) -> str:
        """What `NewsClassifier.predict` reads: the same text the service builds from the payload."""
        return f"{self.title}\n{self.text}"


def _paragraphs_by_topic(corpus: list[LabelledArticle]) -> dict[str, list[tuple[str, list[str]]]]:
    """Per topic label: (title, paragraphs) of each bundled article, in file order."""
    grouped: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for article in corpus:
        paragraphs = [p.strip() for p in article.text.split("\n") if p.strip()]
        grouped[article.topic].append((article.title or paragraphs[0][:80], paragraphs))
    return dict(sorted(grouped.items()))


def _compose(rng: random.Random, pool: list[tuple[str, list[str]]]) -> tuple[str, str]:
    """Join paragraphs of randomly chosen same-topic articles until the text reaches ~2 KB."""
    title, paragraphs = rng.choice(pool)
    parts = list(paragraphs)
    while sum(len(p) + 1 for p in parts) < TARGET_CHARS:
        parts.extend(rng.choice(pool)[1])
    text = "\n".join(parts)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS].rsplit(" ", 1)[0]
    return title, text


def build_workload(count: int, seed: int = DEFAULT_SEED) -> list[BenchArticle]:
    """`count` articles, topics in round robin so every slice of the workload has the same mix."""
    grouped = _paragraphs_by_topic(load_articles(bundled_corpus_files()))
    topics = list(grouped)
    rng = random.Random(seed)
    articles = []
    for index in range(count):
        title, text = _compose(rng, grouped[topics[index % len(topics)]])
        articles.append(BenchArticle(id=f"bench-{index:06d}", title=title, text=text))
    return articles


def mean_payload_bytes(articles: list[BenchArticle]) -> float:
    """Reported beside every figure: throughput only means something for a stated article size."""
    sample = articles[:1000]
    return sum(len(a.payload()) for a in sample) / max(1, len(sample))
