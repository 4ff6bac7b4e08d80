"""The Kafka service: configuration, the consume-classify-publish-commit loop, metrics, health, CLI."""

__version__ = "0.1.0"
