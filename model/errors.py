"""Errors the classifier package raises, each with a message that tells the user what to do.

    ModelError(Exception)
    ├── ModelNotFoundError(ModelError, FileNotFoundError)  no artifact at the path
    ├── ModelIntegrityError(ModelError, ValueError)        checksum, manifest or version mismatch
    └── TrainingDataError(ModelError, ValueError)          a labelled file cannot be used
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of every error raised by `model`."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """Raised when the model directory or one of its files is missing."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no model at {path}: run `newsclf train` to build one, or pass --model DIR")


class ModelIntegrityError(ModelError, ValueError):
    """Raised before unpickling when an artifact does not match its manifest.

    A joblib file is executable code, so a file that does not match the manifest written beside it
    (sha256, scikit-learn version, format) is never loaded.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"refusing to load model {path}: {problem}")


class TrainingDataError(ModelError, ValueError):
    """Raised when labelled data is missing, malformed or too small to train on."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")
