"""The model being served, and hot reload: validate a new artifact, swap it in between two batches.

SIGHUP only sets a flag (signal-handler safe); the loop calls `reload_if_requested` between batches,
so a batch is always classified by one model. A new artifact must pass the manifest and checksum
checks and a smoke prediction; if it does not, the old model keeps serving and the failure is
logged and counted.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path

from consumer.health import Health
from consumer.metrics import Metrics
from model import LoadedModel, ModelError, load

logger = logging.getLogger(__name__)

SMOKE_ARTICLES = (
    "Foreign ministers met in the capital on Tuesday for talks on trade and a new treaty.",
    "Voters queued at polling stations as the election commission began counting ballots.",
    "The navy began live-fire drills and joint exercises off the coast, the defence ministry said.",
    "A retired teacher's dog became an online sensation after learning to ride a bicycle.",
)


def smoke_test(candidate: LoadedModel) -> None:
    """A new model must produce well-formed predictions on a few built-in articles."""
    predictions = candidate.classifier.predict(list(SMOKE_ARTICLES))
    for prediction in predictions:
        for head in (prediction.topic, prediction.region):
            total = sum(head.scores.values())
            if not head.label or not math.isclose(total, 1.0, abs_tol=0.01):
                raise ModelError(f"smoke prediction is malformed: {head.label!r} with scores summing to {total}")


class ModelHolder:
    def __init__(self, path: Path, metrics: Metrics, health: Health) -> None:
        self.path = path
        self.metrics = metrics
        self.health = health
        self._reload = threading.Event()
        self._current: LoadedModel | None = None

    @property
    def current(self) -> LoadedModel:
        assert self._current is not None, "load() runs before the service starts"
        return self._current

    @property
    def info(self) -> dict[str, str]:
        return {"name": self.current.classifier.name, "version": self.current.version}

    def load(self) -> LoadedModel:
        """Load, check and install the model at `path`; raises ModelError and keeps the old one."""
        started = time.perf_counter()
        candidate = load(self.path)
        smoke_test(candidate)
        self._install(candidate, time.perf_counter() - started)
        return candidate

    def _install(self, candidate: LoadedModel, seconds: float) -> None:
        self._current = candidate
        manifest = candidate.manifest
        self.metrics.model_info.info({"name": str(manifest["name"]), "version": candidate.version,
                                      "sklearn_version": str(manifest["sklearn_version"])})
        self.metrics.model_load_seconds.set(seconds)
        labels = candidate.classifier.labels
        self.metrics.initialise_labels(labels["topic"] + ["other"], labels["region"] + ["unknown"])
        self.health.set_model_loaded(True)
        logger.info("serving model %s %s from %s (loaded in %.2f s)", manifest["name"], candidate.version,
                    self.path, seconds)

    def request_reload(self) -> None:
        self._reload.set()

    def reload_if_requested(self) -> bool:
        if not self._reload.is_set():
            return False
        self._reload.clear()
        previous = self.current.version
        try:
            self.load()
        except (ModelError, OSError) as exc:
            self.metrics.model_reloads.labels(result="failure").inc()
            logger.error("model reload refused, still serving %s: %s", previous, exc)
            return False
        self.metrics.model_reloads.labels(result="success").inc()
        logger.info("model reloaded: %s -> %s", previous, self.current.version)
        return True
