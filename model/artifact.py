"""Saving and loading a model directory: `model.joblib` plus `manifest.json` beside it.

A joblib file is executable code. `load` reads the manifest first and refuses, before unpickling,
any file whose sha256 or scikit-learn version differs from what the manifest records; a version
warning raised while unpickling is an error too.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from model.classifier import NewsClassifier
from model.errors import ModelIntegrityError, ModelNotFoundError

ARTIFACT_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class LoadedModel:
    classifier: NewsClassifier
    manifest: dict[str, Any]
    path: Path

    @property
    def version(self) -> str:
        return str(self.manifest["version"])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(classifier: NewsClassifier, directory: Path, **details: Any) -> dict[str, Any]:
    """Write the artifact and its manifest; the manifest goes last, so a half-written model never loads."""
    directory.mkdir(parents=True, exist_ok=True)
    artifact = directory / ARTIFACT_FILE
    (directory / MANIFEST_FILE).unlink(missing_ok=True)
    joblib.dump(classifier, artifact, compress=3)
    manifest = {
        "format": FORMAT_VERSION,
        "name": classifier.name,
        "version": classifier.version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sklearn_version": sklearn.__version__,
        "labels": classifier.labels,
        "thresholds": classifier.thresholds,
        **details,
        "artifact": {"file": ARTIFACT_FILE, "sha256": sha256_of(artifact),
                     "bytes": artifact.stat().st_size},
    }
    temporary = directory / (MANIFEST_FILE + ".tmp")
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(temporary, directory / MANIFEST_FILE)
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    manifest_path = directory / MANIFEST_FILE
    if not directory.is_dir() or not (directory / ARTIFACT_FILE).is_file():
        raise ModelNotFoundError(str(directory))
    if not manifest_path.is_file():
        raise ModelIntegrityError(str(directory), f"{MANIFEST_FILE} is missing; retrain with `newsclf train`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelIntegrityError(str(directory), f"{MANIFEST_FILE} is unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise ModelIntegrityError(str(directory), f"{MANIFEST_FILE} is not a format-{FORMAT_VERSION} manifest")
    return manifest


def verify(directory: Path, manifest: dict[str, Any]) -> None:
    """Everything that must hold before the joblib file may be unpickled."""
    trained_with = manifest.get("sklearn_version")
    if trained_with != sklearn.__version__:
        raise ModelIntegrityError(
            str(directory), f"trained with scikit-learn {trained_with}, this is {sklearn.__version__}; "
            "retrain with `newsclf train` or install the matching scikit-learn")
    expected = manifest.get("artifact", {}).get("sha256")
    actual = sha256_of(directory / ARTIFACT_FILE)
    if expected != actual:
        raise ModelIntegrityError(
            str(directory), f"{ARTIFACT_FILE} sha256 {actual[:12]}... does not match the manifest "
            f"({str(expected)[:12]}...); the file was changed or corrupted")


def load(directory: Path | str) -> LoadedModel:
    directory = Path(directory)
    manifest = read_manifest(directory)
    verify(directory, manifest)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            classifier = joblib.load(directory / ARTIFACT_FILE)
        except InconsistentVersionWarning as exc:
            raise ModelIntegrityError(str(directory), f"scikit-learn version mismatch: {exc}") from exc
        except Exception as exc:  # a verified file that still fails to unpickle: report, never crash
            raise ModelIntegrityError(str(directory), f"cannot unpickle {ARTIFACT_FILE}: {exc}") from exc
    if not isinstance(classifier, NewsClassifier):
        raise ModelIntegrityError(str(directory), f"{ARTIFACT_FILE} does not hold a NewsClassifier")
    return LoadedModel(classifier=classifier, manifest=manifest, path=directory)
