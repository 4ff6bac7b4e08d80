# newsclf: the Kafka news classifier service, with its bundled model trained at build time.
#   docker build -t newsclf .
#   docker run --rm -e NEWSCLF_BOOTSTRAP_SERVERS=broker:9092 -p 9464:9464 newsclf
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NEWSCLF_MODEL=/opt/newsclf/model \
    NEWSCLF_METRICS_HOST=0.0.0.0

WORKDIR /build
COPY pyproject.toml README.md ./
COPY consumer/ consumer/
COPY model/ model/
COPY training/ training/

# Install the package (not editable: the source tree is removed afterwards), then train the
# bundled model from the corpus shipped inside the installed `training` package. The model is
# owned by root and only read at run time.
RUN pip install --no-cache-dir . \
 && newsclf train --out "$NEWSCLF_MODEL" \
 && test -f "$NEWSCLF_MODEL/manifest.json" \
 && cd / && rm -rf /build

RUN groupadd --system --gid 10001 newsclf \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/newsclf --create-home \
        --shell /usr/sbin/nologin newsclf

USER 10001:10001
WORKDIR /home/newsclf

# /metrics, /healthz, /readyz
EXPOSE 9464

# Healthy = ready: model loaded, broker reachable, consumer group joined (a 503 or no answer -> 1).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('NEWSCLF_METRICS_PORT', '9464'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=4).status == 200 else 1)"]

# Exec form: the service is PID 1 and gets SIGTERM itself (it finishes, publishes and commits the
# batch in hand, then leaves its group; NEWSCLF_SHUTDOWN_TIMEOUT_S bounds that, 10 s by default).
CMD ["newsclf", "serve"]
