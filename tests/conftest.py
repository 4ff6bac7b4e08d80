"""Fixtures shared by every tier: the trained model (built once) and the bundled samples."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from model import LoadedModel, load

REPO = Path(__file__).resolve().parents[1]
SEED_STORIES = REPO / "consumer" / "samples" / "seed-stories.jsonl"
RESULT_SCHEMA = REPO / "consumer" / "schemas" / "result.schema.json"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled model: NEWSCLF_MODEL when it holds one (`make test` trains it first), else trained here."""
    configured = os.environ.get("NEWSCLF_MODEL")
    if configured and (Path(configured) / "manifest.json").is_file():
        return Path(configured)
    from training.corpus import bundled_corpus_files
    from training.train import TrainingOptions, train

    out = tmp_path_factory.mktemp("model")
    train(TrainingOptions(data=bundled_corpus_files(), out=out))
    return out


@pytest.fixture(scope="session")
def loaded_model(model_dir: Path) -> LoadedModel:
    return load(model_dir)


@pytest.fixture(scope="session")
def seed_stories() -> list[dict]:
    return [json.loads(line) for line in SEED_STORIES.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def result_validator():
    from jsonschema import Draft202012Validator, FormatChecker

    schema = json.loads(RESULT_SCHEMA.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())
