"""A joblib file is code: one that does not match its manifest is refused before it is unpickled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from consumer.cli import main
from model import ModelIntegrityError, ModelNotFoundError, load
from model.artifact import ARTIFACT_FILE, MANIFEST_FILE


@pytest.fixture
def model_copy(model_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    return copy


def test_a_good_artifact_loads_with_its_manifest(model_copy: Path) -> None:
    loaded = load(model_copy)
    manifest = loaded.manifest
    assert loaded.version == manifest["version"]
    for key in ("name", "created_at", "sklearn_version", "labels", "training_data", "metrics", "artifact"):
        assert key in manifest
    assert manifest["training_data"]["sha256"] and manifest["artifact"]["sha256"]


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _other_sklearn(path: Path) -> None:
    manifest = json.loads(path.read_text())
    manifest["sklearn_version"] = "0.24.2"
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda d: _flip_one_byte(d / ARTIFACT_FILE), "sha256"),
    (lambda d: _other_sklearn(d / MANIFEST_FILE), "scikit-learn 0.24.2"),
    (lambda d: (d / MANIFEST_FILE).unlink(), "manifest.json is missing"),
    (lambda d: (d / MANIFEST_FILE).write_text("{not json"), "unreadable"),
])
def test_a_damaged_artifact_is_refused(model_copy: Path, damage, expected: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    damage(model_copy)
    with pytest.raises(ModelIntegrityError, match=expected):
        load(model_copy)
    assert main(["classify", "--model", str(model_copy), "--text", "Talks in Hanoi"], environ={}) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and expected in error


def test_a_missing_model_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="newsclf train"):
        load(tmp_path / "absent")
