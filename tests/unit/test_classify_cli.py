"""`newsclf classify`: the service's decode-classify-encode path over JSON lines, no broker."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from consumer.cli import main


def run(args: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert main(["classify", *args], environ={}) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_each_line_gets_a_result_or_an_error_in_order(model_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str], result_validator) -> None:
    lines = ['{"id": "a", "title": "Polls close", "text": "Voters in Lima chose a new president."}',
             '{"id": "b"}',
             "{broken",
             "Plain text: the navy held live-fire drills off Okinawa on Monday."]
    out = run(["--model", str(model_dir)], "\n".join(lines) + "\n", monkeypatch, capsys)
    assert [o.get("id") for o in out] == ["a", None, None, "stdin:0:4"]
    result_validator.validate(out[0])
    assert out[0]["topic"]["label"] == "elections" and out[0]["region"]["label"] == "latin_america"
    assert out[1] == {"line": 2, "error": {"reason": "missing_text", "detail": "the object has no `text` field"}}
    assert out[2]["error"]["reason"] == "invalid_json"
    assert out[3]["topic"]["label"] == "military_drills"


def test_text_flag_classifies_one_article(model_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = run(["--model", str(model_dir), "--text", "Foreign ministers met in Nairobi for talks."], "",
              monkeypatch, capsys)
    assert len(out) == 1 and out[0]["topic"]["label"] == "diplomacy" and out[0]["region"]["label"] == "africa"
