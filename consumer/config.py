"""One frozen configuration, built once from CLI flags over `NEWSCLF_*` variables over defaults.

Every setting has a flag (`--batch-size`) and a variable (`NEWSCLF_BATCH_SIZE`); the flag wins.
Values are parsed and checked here, at start-up, with errors that name the flag, the variable and
the bad value. Nothing else in the service reads the environment.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consumer.errors import ConfigError

DELIVERY_MODES = ("at-least-once", "exactly-once")
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")


def default_model_dir(environ: Mapping[str, str]) -> Path:
    """Where `newsclf train` writes and every other command reads, unless told otherwise."""
    data_home = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", "~")) / ".local" / "share")
    return Path(data_home).expanduser() / "newsclf" / "model"


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value
    return parse


def _existing_file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError(f"{text!r} is not a readable file")
    return path


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    parse: Callable[[str], Any] = _non_empty
    choices: tuple[str, ...] | None = None
    secret: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def variable(self) -> str:
        return "NEWSCLF_" + self.name.upper()


@dataclass(frozen=True)
class ServiceConfig:
    """Everything `serve` (and `classify`, `demo`) needs; passed down, never re-read."""

    bootstrap_servers: str = "127.0.0.1:9092"
    input_topic: str = "articles"
    output_topic: str = "articles.classified"
    dead_letter_topic: str = "articles.dead-letter"
    group_id: str = "newsclf"
    instance_id: str | None = None
    model: Path | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    batch_size: int = 256
    batch_max_wait_ms: int = 100
    max_message_bytes: int = 1_048_576
    delivery: str = "at-least-once"
    security_protocol: str = "PLAINTEXT"
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: str | None = dataclasses.field(default=None, repr=False)
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = dataclasses.field(default=None, repr=False)
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    publish_timeout_s: int = 30
    shutdown_timeout_s: int = 10
    log_format: str = "json"
    log_level: str = "info"

    @property
    def model_dir(self) -> Path:
        assert self.model is not None, "ServiceConfig.model is resolved by build_config"
        return self.model

    def describe(self) -> dict[str, Any]:
        """The effective settings for the start-up log line: secrets masked, paths as text."""
        secret = {s.name for s in SETTINGS if s.secret}
        return {k: ("***" if k in secret and v else str(v) if isinstance(v, Path) else v)
                for k, v in dataclasses.asdict(self).items()}


SETTINGS: tuple[Setting, ...] = (
    Setting("bootstrap_servers", "Kafka bootstrap servers, host:port[,host:port...]"),
    Setting("input_topic", "topic the articles are read from"),
    Setting("output_topic", "topic the labelled results are written to, keyed by article id"),
    Setting("dead_letter_topic", "topic that receives bad input unchanged, with the reason in headers"),
    Setting("group_id", "consumer group; replicas with the same id share the partitions"),
    Setting("instance_id", "stable name of this replica (e.g. the pod name) [default: host-pid]; "
            "with exactly-once, a restarted replica with the same name aborts its predecessor's "
            "open transaction at once instead of after the 30 s transaction timeout"),
    Setting("model", "model directory (model.joblib + manifest.json) [default: ~/.local/share/newsclf/model]",
            lambda text: Path(_non_empty(text)).expanduser()),
    Setting("metrics_host", "address of the /metrics, /healthz and /readyz server"),
    Setting("metrics_port", "port of that server (0 picks a free one)", _int_between(0, 65535)),
    Setting("batch_size", "most articles classified in one predict call", _int_between(1, 10_000)),
    Setting("batch_max_wait_ms", "longest wait for a batch to fill before classifying what is there",
            _int_between(1, 60_000)),
    Setting("max_message_bytes", "larger input records are dead-lettered as too_large, never classified",
            _int_between(64, 100_000_000)),
    Setting("delivery", "at-least-once (commit after ack) or exactly-once (Kafka transactions)",
            choices=DELIVERY_MODES),
    Setting("security_protocol", "Kafka security protocol", choices=SECURITY_PROTOCOLS),
    Setting("ssl_cafile", "CA certificate (PEM) that signed the brokers' certificates", _existing_file),
    Setting("ssl_certfile", "client certificate (PEM) for mutual TLS", _existing_file),
    Setting("ssl_keyfile", "client private key (PEM) for mutual TLS", _existing_file),
    Setting("ssl_password", "password of the client private key (prefer the variable)", secret=True),
    Setting("sasl_mechanism", "SASL mechanism", choices=SASL_MECHANISMS),
    Setting("sasl_username", "SASL user name"),
    Setting("sasl_password", "SASL password (prefer the variable: flags show in `ps`)", secret=True),
    Setting("session_timeout_ms", "consumer group session timeout", _int_between(1_000, 300_000)),
    Setting("heartbeat_interval_ms", "consumer group heartbeat interval", _int_between(100, 60_000)),
    Setting("publish_timeout_s", "longest wait for a batch's acknowledgements before it is retried",
            _int_between(1, 600)),
    Setting("shutdown_timeout_s", "longest a clean shutdown may take", _int_between(1, 600)),
    Setting("log_format", "json (one object per line) or text", choices=LOG_FORMATS),
    Setting("log_level", "least severe level logged", choices=LOG_LEVELS),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def add_arguments(parser: argparse.ArgumentParser, names: tuple[str, ...] | None = None) -> None:
    """Flags for the chosen settings; their defaults are None so the environment can fill in."""
    for setting in SETTINGS:
        if names is None or setting.name in names:
            default = ServiceConfig.__dataclass_fields__[setting.name].default
            shown = "" if setting.secret or default is None else f" [default: {default}]"
            parser.add_argument(setting.flag, dest=setting.name, default=None, choices=setting.choices,
                                metavar=None if setting.choices else setting.name.split("_")[-1].upper(),
                                help=f"{setting.help}{shown} (env {setting.variable})")


def _value(setting: Setting, cli: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[bool, Any]:
    raw = cli.get(setting.name)
    source = setting.flag
    if raw is None and setting.variable in environ:
        raw, source = environ[setting.variable], setting.variable
    if raw is None:
        return False, None
    try:
        if setting.choices is not None and raw not in setting.choices:
            raise ValueError(f"{raw!r} is not one of {', '.join(setting.choices)}")
        return True, setting.parse(str(raw))
    except ValueError as exc:
        shown = "***" if setting.secret else None
        raise ConfigError(source, shown or str(exc)) from None


def resolve_model_dir(cli_value: str | None, environ: Mapping[str, str]) -> Path:
    """The model directory for commands that need nothing else: --model, NEWSCLF_MODEL, default."""
    given, value = _value(SETTINGS_BY_NAME["model"], {"model": cli_value}, environ)
    return value if given else default_model_dir(environ)


def build_config(cli: Mapping[str, Any], environ: Mapping[str, str]) -> ServiceConfig:
    values = {}
    for setting in SETTINGS:
        given, value = _value(setting, cli, environ)
        if given:
            values[setting.name] = value
    values.setdefault("model", default_model_dir(environ))
    config = ServiceConfig(**values)
    _check_combination(config)
    return config


def _check_combination(config: ServiceConfig) -> None:
    sasl = config.security_protocol.startswith("SASL")
    if sasl and not (config.sasl_mechanism and config.sasl_username and config.sasl_password):
        raise ConfigError("--security-protocol", f"{config.security_protocol} needs --sasl-mechanism, "
                          "--sasl-username and NEWSCLF_SASL_PASSWORD")
    if not sasl and config.sasl_mechanism:
        raise ConfigError("--sasl-mechanism", "is set but --security-protocol is not SASL_PLAINTEXT or SASL_SSL")
    if bool(config.ssl_certfile) != bool(config.ssl_keyfile):
        raise ConfigError("--ssl-certfile", "a client certificate needs its key (--ssl-keyfile), and vice versa")
    if config.heartbeat_interval_ms >= config.session_timeout_ms:
        raise ConfigError("--heartbeat-interval-ms", "must be below --session-timeout-ms")
    if config.input_topic in (config.output_topic, config.dead_letter_topic):
        raise ConfigError("--input-topic", "must differ from the output and dead-letter topics")
