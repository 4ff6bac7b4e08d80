"""Every process the bench starts, owned by PID, plus the `newsclf serve` children and their metrics.

A benchmark that leaves a broker or a consumer behind corrupts the next run's numbers (and eats
the 2 cores), so everything is started through one `Reaper` that `run.py` empties in `finally`:
SIGTERM, a bounded wait, then SIGKILL, always by PID and never by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from consumer.local_broker import LocalBroker, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent


def child_environment(pythonpath: bool = False) -> dict[str, str]:
    """The caller's environment without NEWSCLF_* settings (the bench passes every setting as a flag,
    so a user's exported NEWSCLF_BATCH_SIZE cannot silently change what is measured)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSCLF_")}
    if pythonpath:  # children run from a scratch directory but import the `bench` package
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return environment


@dataclass
class Reaper:
    """The bench's children and its broker; `stop_all` ends each by PID, newest first."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    brokers: list[LocalBroker] = field(default_factory=list)

    def spawn(self, command: list[str], log_path: Path, environment: dict[str, str],
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """A child in its own session, so a Ctrl-C reaches the bench only and the bench decides the order."""
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=environment, cwd=cwd, start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
        """SIGTERM by PID and wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait(10)
        return int(process.returncode)

    def stop_all(self) -> None:
        """Stop everything, ignoring further Ctrl-C meanwhile: a second Ctrl-C must not strand a broker.
        Each stop is bounded (TERM, wait, KILL), so this always ends. Main thread only."""
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for process in reversed(self.processes):
                self.stop(process, timeout_s=15.0)
            for broker in reversed(self.brokers):
                broker.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def http_text(url: str, timeout_s: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return str(response.read().decode())


def parse_samples(text: str, prefix: str = "newsclf_") -> dict[str, float]:
    """Sum of every sample per metric name (labels dropped); a small parser because the bench scrapes
    every 50 ms and must not eat the CPU the service is being measured on."""
    totals: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        if line.startswith(prefix):
            head, _, value = line.rpartition(" ")
            totals[head.split("{", 1)[0]] += float(value)
    return dict(totals)


def histogram_buckets(text: str, name: str) -> list[tuple[float, float]]:
    """Cumulative (upper bound, count) pairs of an unlabelled histogram, +Inf last."""
    buckets = []
    marker = f'{name}_bucket{{le="'
    for line in text.splitlines():
        if line.startswith(marker):
            bound = line[len(marker):].split('"', 1)[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.rpartition(" ")[2])))
    return sorted(buckets)


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) from /proc; None when the process is gone or /proc is absent."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


@dataclass
class ServeProcess:
    """One `python -m consumer serve` child with its metrics port and log file."""

    process: subprocess.Popen[bytes]
    metrics_port: int
    log_path: Path

    @classmethod
    def start(cls, reaper: Reaper, args: list[str], log_path: Path) -> ServeProcess:
        port = free_port()
        command = [sys.executable, "-m", "consumer", "serve", "--metrics-port", str(port),
                   "--log-format", "text", *args]
        return cls(reaper.spawn(command, log_path, child_environment(), cwd=REPO_ROOT), port, log_path)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def metrics_text(self) -> str:
        """The /metrics page, or "" while the server is not up yet."""
        try:
            return http_text(f"http://127.0.0.1:{self.metrics_port}/metrics")
        except OSError:
            return ""

    def scrape(self) -> dict[str, float]:
        return parse_samples(self.metrics_text())

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""
        return "\n".join(text.splitlines()[-lines:])
