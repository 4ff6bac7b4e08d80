"""The suite's Apache Kafka broker (one per session, owned by PID) and `serve` processes per test.

NEWSCLF_TEST_BOOTSTRAP points the suite at an existing cluster instead of starting a broker.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from consumer.local_broker import LocalBroker, start_kafka
from tests.integration.support import FAST_GROUP, ServiceProcess


@dataclass(frozen=True)
class Kafka:
    bootstrap: str
    broker: LocalBroker | None


@pytest.fixture(scope="session")
def kafka() -> Iterator[Kafka]:
    external = os.environ.get("NEWSCLF_TEST_BOOTSTRAP")
    if external:
        yield Kafka(external, None)
        return
    broker = start_kafka()
    try:
        yield Kafka(broker.bootstrap, broker)
    finally:
        broker.stop()


@pytest.fixture
def service_env(model_dir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSCLF_")}
    environment["NEWSCLF_MODEL"] = str(model_dir)
    return environment


@pytest.fixture
def start_service(tmp_path: Path, service_env: dict[str, str]) -> Iterator[Callable[..., ServiceProcess]]:
    """Starts `serve` processes for a test; every one still running at the end is killed by PID."""
    started: list[ServiceProcess] = []

    def start(bootstrap: str, *args: str, fast_group: bool = True, env: dict[str, str] | None = None,
              wait: bool = True) -> ServiceProcess:
        arguments = ["--bootstrap-servers", bootstrap, *(FAST_GROUP if fast_group else []), *args]
        process = ServiceProcess(arguments, tmp_path / f"serve-{len(started)}.log", {**service_env, **(env or {})})
        started.append(process.start())
        if wait:
            process.wait_ready()
        return process

    yield start
    for process in started:
        process.kill()


def require_tool(name: str) -> str:
    """Tests needing a system tool skip with a reason where it is missing; CI installs them all."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed, but CI must run this test (.ci/run installs it)")
        pytest.skip(f"{name} is not installed (apt-get install {name}); .ci/run installs it")
    return path
