"""Errors of the service. Bad input is never one of these: it is data, dead-lettered with a reason.

    ServiceError(Exception)
    ├── ConfigError(ServiceError, ValueError)       bad flag or NEWSCLF_* value; exit code 2
    ├── BrokerError(ServiceError, ConnectionError)  the broker cannot be used
    │   ├── BrokerAuthError(BrokerError)            credentials or TLS refused; exit code 2, no retry loop
    │   └── PublishError(BrokerError)               a batch was not acknowledged; retried, not committed
    └── StartupError(ServiceError, RuntimeError)    a port cannot be bound, a broker cannot be started

Model errors (missing, corrupted, wrong version) come from `model.errors` and also exit with code 2.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error raised by `consumer`."""


class ConfigError(ServiceError, ValueError):
    """Raised at start-up when a setting is invalid; names the flag, the variable and the value."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"invalid {setting}: {problem}")


class BrokerError(ServiceError, ConnectionError):
    """Raised when the broker cannot be reached or refuses a request."""


class BrokerAuthError(BrokerError):
    """Raised when the broker rejects our credentials or TLS settings: retrying cannot help."""


class PublishError(BrokerError):
    """Raised when a batch's results or offsets were not acknowledged; the batch is retried.

    A publisher whose producer is unusable (fenced, or its idempotent state broken) replaces it
    before raising this, so the retry starts clean.
    """

    def __init__(self, message: str, *, stage: str = "produce") -> None:
        self.stage = stage  # "produce" (results not acknowledged) or "commit" (offsets not committed)
        super().__init__(message)


class StartupError(ServiceError, RuntimeError):
    """Raised when something the service needs at start cannot be set up."""
