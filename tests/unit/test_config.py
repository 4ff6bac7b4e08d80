"""One config from flags over NEWSCLF_* variables over defaults, checked once, errors in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.cli import main, parser
from consumer.config import SETTINGS, ServiceConfig, build_config
from consumer.errors import ConfigError


def test_defaults_when_nothing_is_set() -> None:
    config = build_config({}, {"HOME": "/home/reader"})
    assert config.batch_size == 256
    assert config.delivery == "at-least-once"
    assert config.model == Path("/home/reader/.local/share/newsclf/model")


def test_flags_win_over_environment_and_values_are_parsed() -> None:
    config = build_config({"batch_size": "32"}, {"NEWSCLF_BATCH_SIZE": "64", "NEWSCLF_INPUT_TOPIC": "feed",
                                                 "NEWSCLF_DELIVERY": "exactly-once"})
    assert (config.batch_size, config.input_topic, config.delivery) == (32, "feed", "exactly-once")


@pytest.mark.parametrize(("cli", "environ", "named"), [
    ({}, {"NEWSCLF_BATCH_SIZE": "lots"}, "NEWSCLF_BATCH_SIZE"),
    ({"batch_size": "0"}, {}, "--batch-size"),
    ({"metrics_port": "70000"}, {}, "--metrics-port"),
    ({}, {"NEWSCLF_DELIVERY": "twice"}, "NEWSCLF_DELIVERY"),
    ({"ssl_cafile": "/no/such/ca.pem"}, {}, "--ssl-cafile"),
    ({"security_protocol": "SASL_SSL"}, {}, "--security-protocol"),
    ({"sasl_mechanism": "PLAIN"}, {}, "--sasl-mechanism"),
    ({"input_topic": "same", "output_topic": "same"}, {}, "--input-topic"),
    ({"heartbeat_interval_ms": "9000", "session_timeout_ms": "6000"}, {}, "--heartbeat-interval-ms"),
])
def test_bad_values_name_the_setting(cli: dict, environ: dict, named: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_config(cli, environ)
    assert named in str(error.value)
    assert "\n" not in str(error.value)


def test_secrets_never_show(capsys: pytest.CaptureFixture[str]) -> None:
    config = build_config({}, {"NEWSCLF_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "NEWSCLF_SASL_MECHANISM": "PLAIN",
                               "NEWSCLF_SASL_USERNAME": "svc", "NEWSCLF_SASL_PASSWORD": "hunter2-secret"})
    assert "hunter2-secret" not in repr(config)
    assert config.describe()["sasl_password"] == "***"
    assert main(["serve", "--help"], environ={"NEWSCLF_SASL_PASSWORD": "hunter2-secret"}) == 0
    assert "hunter2" not in capsys.readouterr().out


def test_bad_config_is_one_line_and_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--batch-size", "-3"], environ={}) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("newsclf serve: error: invalid --batch-size")
    assert len(error.splitlines()) == 1


def test_help_documents_every_setting_with_its_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for setting in SETTINGS:
        assert setting.flag in text and setting.variable in text


def test_every_setting_is_a_config_field() -> None:
    assert {s.name for s in SETTINGS} == set(ServiceConfig.__dataclass_fields__)


def test_missing_model_is_one_line_saying_how_to_make_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["classify", "--model", str(tmp_path / "none"), "--text", "hello"], environ={})
    error = capsys.readouterr().err.strip()
    assert code == 2 and len(error.splitlines()) == 1
    assert "newsclf train" in error
