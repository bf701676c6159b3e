# The only entry points the README shows. Everything installs into ./.venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 9042
DATA ?= ./data
# Builds use the host network: engines started with --bridge=none (as on these machines) have no other.
DOCKER_BUILD_FLAGS ?= --network host

# cqld's packages, compiled to bytecode before they run: where PYTHONDONTWRITEBYTECODE is set (as in many
# containers and CI images) Python would otherwise compile them again at every start (about 0.3 s).
PACKAGES := server cql_grammar storage paxos

.PHONY: run test lint bench docker docker-test clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m compileall -q $(PACKAGES)
	$(BIN)/cqld --host $(HOST) --port $(PORT) --data-dir $(DATA)

test: $(STAMP)
	$(BIN)/python -m compileall -q $(PACKAGES)
	$(BIN)/python -m pytest -q tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m bench

docker:
	docker build $(DOCKER_BUILD_FLAGS) -f docker/Dockerfile -t cqld:latest .

docker-test: $(STAMP)
	sh docker/docker-test.sh

clean:
	rm -rf $(VENV) data .pytest_cache
