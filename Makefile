# Two commands for a fresh machine: `make run` (the demo; needs only python3) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL_DIR := $(CURDIR)/.cache/model
# The bundled model and the Kafka jars live in .cache/ (ignored by git), not in your home directory.
export NEWSCLF_MODEL := $(MODEL_DIR)
export NEWSCLF_CACHE_DIR := $(CURDIR)/.cache
MODEL_SOURCES := $(wildcard training/data/corpus/*/*.jsonl model/*.py model/data/*.json training/*.py)

.PHONY: run test unit integration lint model bench bench-tansu kafka-jars clean

run: model
	$(BIN)/newsclf demo

test: model lint kafka-jars
	$(BIN)/python -m pytest

unit: model
	$(BIN)/python -m pytest tests/unit tests/service

integration: model kafka-jars
	$(BIN)/python -m pytest tests/integration

lint: $(BIN)/newsclf
	$(BIN)/ruff check consumer model training tests bench
	$(BIN)/mypy consumer model training

model: $(MODEL_DIR)/manifest.json

$(MODEL_DIR)/manifest.json: $(BIN)/newsclf $(MODEL_SOURCES)
	$(BIN)/newsclf train --out $(MODEL_DIR)

kafka-jars: $(BIN)/newsclf
	$(BIN)/python -c "from consumer.local_broker import fetch_kafka_jars; print('Kafka jars in', fetch_kafka_jars())"

bench: model kafka-jars
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.run

bench-tansu: model
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench.run --broker tansu

$(BIN)/newsclf: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .cache build *.egg-info
