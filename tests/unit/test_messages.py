"""The input and output contracts, example by example and as properties over arbitrary payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer import messages
from consumer.messages import Article, InputRecord, Rejection, decode
from model.classifier import HeadPrediction, Prediction

LIMIT = 10_000


def record(value: bytes | None, headers: list[tuple[str, bytes]] | None = None) -> InputRecord:
    return InputRecord("news", 3, 42, 1_700_000_000_000, b"k", value, headers or [])


@pytest.mark.parametrize(("payload", "reason"), [
    (None, messages.EMPTY_PAYLOAD),
    (b"", messages.EMPTY_PAYLOAD),
    (b"x" * (LIMIT + 1), messages.TOO_LARGE),
    (b"\xff\xfe article", messages.INVALID_UTF8),
    (b'{"text": "unterminated', messages.INVALID_JSON),
    (b"[" * 5_000 + b"]" * 5_000, messages.INVALID_JSON),
    (b'{"a":' * 1_500 + b"1" + b"}" * 1_500, messages.INVALID_JSON),
    (b'{"id": "a"}', messages.MISSING_TEXT),
    (b'{"text": null}', messages.MISSING_TEXT),
    (b'{"text": "  \\n\\t "}', messages.EMPTY_TEXT),
    (b'{"text": 42}', messages.WRONG_TYPE),
    (b'{"text": ["a"]}', messages.WRONG_TYPE),
    (b'{"text": "ok", "id": {"x": 1}}', messages.WRONG_TYPE),
    (b'{"text": "ok", "id": true}', messages.WRONG_TYPE),
    (b'{"text": "ok", "title": 7}', messages.WRONG_TYPE),
    (b'[1, 2]', messages.WRONG_TYPE),
    (b'"just a string"', messages.WRONG_TYPE),
    (b'{"text": "\\ud800 lone surrogate"}', messages.INVALID_UNICODE),
])
def test_bad_input_is_a_rejection_with_its_reason(payload: bytes | None, reason: str) -> None:
    result = decode(payload, LIMIT, "news:3:42")
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert result.detail


def test_json_article_keeps_id_and_title() -> None:
    result = decode(b'{"id": "a-1", "title": "Summit ends", "text": "Leaders met.", "url": "u"}', LIMIT, "f")
    assert result == Article(id="a-1", text="Leaders met.", title="Summit ends")
    assert result.model_input == "Summit ends\nLeaders met."


def test_numeric_id_becomes_text_and_missing_id_falls_back_to_position() -> None:
    assert decode(b'{"id": 17, "text": "t"}', LIMIT, "f").id == "17"  # type: ignore[union-attr]
    assert decode(b'{"text": "t"}', LIMIT, "news:3:42").id == "news:3:42"  # type: ignore[union-attr]
    assert decode(b'{"id": " ", "text": "t"}', LIMIT, "news:3:42").id == "news:3:42"  # type: ignore[union-attr]


def test_plain_utf8_text_is_the_article_text() -> None:
    result = decode("Breaking: floods in Dhaka — 3 dead".encode(), LIMIT, "news:0:1")
    assert result == Article(id="news:0:1", text="Breaking: floods in Dhaka — 3 dead")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2_000))
def test_any_bytes_decode_to_an_article_or_a_rejection(payload: bytes) -> None:
    result = decode(payload, 1_000, "t:0:0")
    assert isinstance(result, Article | Rejection)
    if isinstance(result, Rejection):
        assert result.reason in messages.REASONS
    else:
        assert result.text.strip() and len(payload) <= 1_000


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "text", "title", "url", "source", "x"]), json_values))
def test_any_json_object_decodes_and_a_valid_text_is_kept(payload: dict) -> None:
    result = decode(json.dumps(payload).encode(), 100_000, "t:0:0")
    text = payload.get("text")
    if isinstance(result, Article):
        assert result.text == text and isinstance(text, str) and text.strip()
    else:
        assert result.reason in messages.REASONS


def _prediction() -> Prediction:
    head = HeadPrediction("diplomacy", 0.9, {"diplomacy": 0.9, "other": 0.1}, ["talks"], False)
    region = HeadPrediction("europe", 0.8, {"europe": 0.8, "africa": 0.2}, ["Kyiv"], False)
    return Prediction(head, region)


def test_result_record_matches_the_schema_and_carries_headers(result_validator) -> None:
    source = record(b"{}", headers=[("trace", b"abc")])
    output = messages.result("out", Article("a-1", "t"), _prediction(), source, {"name": "m", "version": "1"},
                             datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    body = json.loads(output.value or b"")
    result_validator.validate(body)
    assert output.topic == "out" and output.key == b"a-1"
    assert output.headers == [("trace", b"abc")]
    assert body["classified_at"] == "2026-01-02T03:04:05.678Z"
    assert body["source"] == {"topic": "news", "partition": 3, "offset": 42, "timestamp": 1_700_000_000_000}


def test_dead_letter_keeps_the_original_bytes_and_says_why() -> None:
    original = record(b"\xff raw", headers=[("trace", b"abc")])
    output = messages.dead_letter("dlq", original, Rejection(messages.INVALID_UTF8, "byte 0 is not UTF-8"))
    headers = dict(output.headers)
    assert (output.topic, output.key, output.value) == ("dlq", b"k", b"\xff raw")
    assert headers["trace"] == b"abc"
    assert headers["newsclf.error.reason"] == b"invalid_utf8"
    assert headers["newsclf.source.topic"] == b"news"
    assert headers["newsclf.source.partition"] == b"3"
    assert headers["newsclf.source.offset"] == b"42"
