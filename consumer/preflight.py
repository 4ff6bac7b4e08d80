"""Why a secured connection failed, when the Kafka client cannot say.

kafka-python reports a refused SASL login and an untrusted broker certificate as a dropped
connection, the same as a broker that is down, so the service would retry forever. After a failed
connection attempt on a secured listener we probe the first bootstrap server ourselves: a TLS
handshake with the configured CA and client certificate, then an ApiVersions round trip, which
Kafka answers before authentication. If the broker answers, the failure is ours to fix: exit 2.
"""

from __future__ import annotations

import socket
import ssl
import struct

from consumer.config import ServiceConfig
from consumer.errors import BrokerAuthError

PROBE_TIMEOUT_S = 5.0
API_VERSIONS_V0 = struct.pack(">hhih", 18, 0, 7, 8) + b"newsclf!"


def _answers_api_versions(connection: socket.socket) -> bool:
    connection.sendall(struct.pack(">i", len(API_VERSIONS_V0)) + API_VERSIONS_V0)
    header = connection.recv(8)
    return len(header) == 8 and struct.unpack(">ii", header)[1] == 7


def _tls(raw: socket.socket, config: ServiceConfig, host: str) -> socket.socket:
    context = ssl.create_default_context(cafile=str(config.ssl_cafile) if config.ssl_cafile else None)
    if config.ssl_certfile:
        context.load_cert_chain(str(config.ssl_certfile), str(config.ssl_keyfile), config.ssl_password)
    return context.wrap_socket(raw, server_hostname=host)


def diagnose_refusal(config: ServiceConfig) -> BrokerAuthError | None:
    """A BrokerAuthError if the first bootstrap server is up but refuses our TLS or SASL settings."""
    if config.security_protocol == "PLAINTEXT":
        return None
    host, _, port = config.bootstrap_servers.split(",")[0].strip().rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S) as raw:
            connection = raw
            if "SSL" in config.security_protocol:
                try:
                    connection = _tls(raw, config, host)
                except ssl.SSLCertVerificationError as exc:
                    return BrokerAuthError(f"the broker's TLS certificate is not trusted ({exc.verify_message}); "
                                           "check --ssl-cafile")
                except ssl.SSLError as exc:
                    return BrokerAuthError(f"the TLS handshake with {host}:{port} failed ({exc.reason})")
            if config.security_protocol.startswith("SASL") and _answers_api_versions(connection):
                return BrokerAuthError(
                    f"the broker at {host}:{port} answers but refused the SASL {config.sasl_mechanism} login "
                    f"of user {config.sasl_username!r}; check --sasl-username, --sasl-mechanism and "
                    "NEWSCLF_SASL_PASSWORD")
    except (OSError, ValueError):
        return None  # not reachable at all: an ordinary outage, retried
    return None
