"""TLS and SASL (PLAIN, SCRAM-SHA-512) against Apache Kafka listeners made for this module.

The certificates are made here with openssl (a throwaway CA and a server certificate for
127.0.0.1); the SCRAM user is created when the broker's storage is formatted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from consumer.local_broker import LocalBroker, free_port, start_kafka
from tests.integration.conftest import require_tool
from tests.integration.support import articles, make_topics, produce, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
PLAIN_USER, PLAIN_PASSWORD = "alice", "alice-plain-secret"
SCRAM_USER, SCRAM_PASSWORD = "bob", "bob-scram-secret"


def make_certificates(folder: Path) -> Path:
    openssl = require_tool("openssl")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=newsclf test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.cnf")
    keystore = folder / "server-keystore.pem"
    keystore.write_text((folder / "server.key").read_text() + (folder / "server.pem").read_text())
    return folder / "ca.pem"


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalBroker, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    ca = make_certificates(folder)
    listeners = {"SSL": ("SSL", free_port()), "SASL_PLAINTEXT": ("SASL_PLAINTEXT", free_port())}
    jaas = "org.apache.kafka.common.security"
    properties = {
        "listener.name.ssl.ssl.keystore.type": "PEM",
        "listener.name.ssl.ssl.keystore.location": str(folder / "server-keystore.pem"),
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config":
            f'{jaas}.plain.PlainLoginModule required user_{PLAIN_USER}="{PLAIN_PASSWORD}";',
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": f"{jaas}.scram.ScramLoginModule required;",
    }
    broker = start_kafka(workdir=tmp_path_factory.mktemp("secure-broker"), listeners=listeners,
                         extra_properties=properties,
                         format_options=["--add-scram", f"SCRAM-SHA-512=[name={SCRAM_USER},password={SCRAM_PASSWORD}]"])
    yield broker, ca
    broker.stop()


def secure_args(broker: LocalBroker, ca: Path, kind: str) -> tuple[list[str], dict[str, str]]:
    if kind == "ssl":
        return ["--bootstrap-servers", f"127.0.0.1:{broker.listeners['SSL']}", "--security-protocol", "SSL",
                "--ssl-cafile", str(ca)], {}
    mechanism, user, password = (("PLAIN", PLAIN_USER, PLAIN_PASSWORD) if kind == "plain"
                                 else ("SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD))
    return (["--bootstrap-servers", f"127.0.0.1:{broker.listeners['SASL_PLAINTEXT']}",
             "--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanism", mechanism, "--sasl-username", user],
            {"NEWSCLF_SASL_PASSWORD": password})


@pytest.mark.parametrize("kind", ["ssl", "plain", "scram"])
def test_service_classifies_over_a_secured_listener(secure_kafka, start_service, kind: str) -> None:
    broker, ca = secure_kafka
    topics = make_topics(broker.bootstrap)
    args, env = secure_args(broker, ca, kind)
    service = start_service(broker.bootstrap, *topics.args(), *args, env=env)
    feed = articles(40, prefix=kind)
    produce(broker.bootstrap, topics.input, feed)
    results = read_topic(broker.bootstrap, topics.output, 0, ids={k for k, _ in feed})
    assert {json.loads(r.value)["id"] for r in results} == {k for k, _ in feed}
    for secret in (PLAIN_PASSWORD, SCRAM_PASSWORD):
        assert secret not in service.log()


def test_a_wrong_password_is_one_line_and_exit_code_2(secure_kafka, service_env: dict[str, str]) -> None:
    broker, ca = secure_kafka
    args, _ = secure_args(broker, ca, "scram")
    result = subprocess.run([sys.executable, "-m", "consumer", "serve", *args, "--metrics-port", "0",
                             "--log-format", "text", "--log-level", "error"],
                            env={**service_env, "NEWSCLF_SASL_PASSWORD": "not-the-password"},
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused the SASL SCRAM-SHA-512 login" in lines[0]
    assert "not-the-password" not in result.stderr


def test_an_untrusted_certificate_is_refused_with_exit_code_2(secure_kafka, service_env: dict[str, str],
                                                             tmp_path: Path) -> None:
    broker, _ = secure_kafka
    other_ca = make_certificates(tmp_path)
    args, _ = secure_args(broker, other_ca, "ssl")
    result = subprocess.run([sys.executable, "-m", "consumer", "serve", *args, "--metrics-port", "0",
                             "--log-format", "text", "--log-level", "error"],
                            env=service_env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TLS certificate is not trusted" in lines[0]
