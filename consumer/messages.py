"""The wire contracts: input records to articles or rejections, results and dead letters to records.

Pure functions of their inputs. Every payload decodes to an `Article` or a `Rejection` with a
reason; nothing raises. A rejection is data: it is dead-lettered with the original bytes unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from model.classifier import Prediction
from model.features import article_text

Headers = list[tuple[str, bytes]]

# Dead-letter reasons: the values of the `newsclf.error.reason` header and of the metric label.
TOO_LARGE = "too_large"
EMPTY_PAYLOAD = "empty_payload"
INVALID_UTF8 = "invalid_utf8"
INVALID_JSON = "invalid_json"
WRONG_TYPE = "wrong_type"
MISSING_TEXT = "missing_text"
EMPTY_TEXT = "empty_text"
INVALID_UNICODE = "invalid_unicode"
REASONS = (TOO_LARGE, EMPTY_PAYLOAD, INVALID_UTF8, INVALID_JSON, WRONG_TYPE, MISSING_TEXT, EMPTY_TEXT,
           INVALID_UNICODE)
HEADER_PREFIX = "newsclf."


@dataclass(frozen=True)
class InputRecord:
    """What the service needs of a consumed record, independent of the Kafka client."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


@dataclass(frozen=True)
class Article:
    id: str
    text: str
    title: str | None = None

    @property
    def model_input(self) -> str:
        return article_text(self.text, self.title)


@dataclass(frozen=True)
class Rejection:
    reason: str
    detail: str


@dataclass(frozen=True)
class OutputRecord:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers


def _fields(payload: dict[str, Any], fallback_id: str) -> Article | Rejection:
    text = payload.get("text")
    if text is None:
        return Rejection(MISSING_TEXT, "the object has no `text` field")
    if not isinstance(text, str):
        return Rejection(WRONG_TYPE, f"`text` is a JSON {type(text).__name__}, not a string")
    if not text.strip():
        return Rejection(EMPTY_TEXT, "`text` is empty or whitespace")
    article_id, title = payload.get("id"), payload.get("title")
    if article_id is not None and (isinstance(article_id, bool) or not isinstance(article_id, str | int)):
        return Rejection(WRONG_TYPE, f"`id` is a JSON {type(article_id).__name__}, not a string or integer")
    if title is not None and not isinstance(title, str):
        return Rejection(WRONG_TYPE, f"`title` is a JSON {type(title).__name__}, not a string")
    article_id = str(article_id) if article_id is not None and str(article_id).strip() else fallback_id
    return Article(id=article_id, text=text, title=(title.strip() or None) if title else None)


def decode(value: bytes | None, max_bytes: int, fallback_id: str) -> Article | Rejection:
    """Input contract: a JSON object with `text` (and optional `id`, `title`, ...), or plain UTF-8 text."""
    if not value:
        return Rejection(EMPTY_PAYLOAD, "the record has no value")
    if len(value) > max_bytes:
        return Rejection(TOO_LARGE, f"{len(value)} bytes is over the {max_bytes}-byte limit")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(INVALID_UTF8, f"byte {exc.start} is not UTF-8")
    try:
        payload = json.loads(text)
    except RecursionError:
        return Rejection(INVALID_JSON, "JSON nested too deeply")
    except ValueError as exc:
        if text.lstrip().startswith("{"):
            return Rejection(INVALID_JSON, str(exc)[:200])
        payload = {"text": text}
    if not isinstance(payload, dict):
        return Rejection(WRONG_TYPE, f"a JSON {type(payload).__name__} is not an article object")
    article = _fields(payload, fallback_id)
    if isinstance(article, Article) and not _encodable(article):
        return Rejection(INVALID_UNICODE, "the text holds lone surrogate escapes")
    return article


def _encodable(article: Article) -> bool:
    try:
        article.id.encode("utf-8")
        article.model_input.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def result(topic: str, article: Article, prediction: Prediction, record: InputRecord,
           model: dict[str, str], classified_at: datetime) -> OutputRecord:
    """Output contract: one JSON object per article, keyed by its id, input headers carried over."""
    body = {
        "id": article.id,
        "topic": prediction.topic.as_dict(),
        "region": prediction.region.as_dict(),
        "model": model,
        "source": {"topic": record.topic, "partition": record.partition, "offset": record.offset,
                   "timestamp": record.timestamp_ms},
        "classified_at": rfc3339(classified_at),
    }
    value = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return OutputRecord(topic=topic, key=article.id.encode("utf-8"), value=value, headers=list(record.headers))


def dead_letter(topic: str, record: InputRecord, rejection: Rejection) -> OutputRecord:
    """The original key, bytes and headers, plus headers that say why and where it came from."""
    extra = [("error.reason", rejection.reason), ("error.detail", rejection.detail),
             ("source.topic", record.topic), ("source.partition", str(record.partition)),
             ("source.offset", str(record.offset)), ("source.timestamp", str(record.timestamp_ms))]
    headers = list(record.headers) + [(HEADER_PREFIX + k, v.encode("utf-8", "replace")) for k, v in extra]
    return OutputRecord(topic=topic, key=record.key, value=record.value, headers=headers)
