"""The news classifier: taxonomy, features, the two-head model and its artifact.

Depends on nothing else in this project; `consumer` serves it and `training` builds it.
"""

from model.artifact import LoadedModel, load, save
from model.classifier import HeadPrediction, NewsClassifier, Prediction, build_pipeline
from model.errors import ModelError, ModelIntegrityError, ModelNotFoundError, TrainingDataError
from model.features import article_text

__all__ = [
    "HeadPrediction", "LoadedModel", "ModelError", "ModelIntegrityError", "ModelNotFoundError",
    "NewsClassifier", "Prediction", "TrainingDataError", "article_text", "build_pipeline", "load", "save",
]
