# The project's single source of truth for set-up, run, test, lint and bench.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# command[:debian-package]
DEBIAN_TOOLS := curl wrk nginx chromium nghttp:nghttp2-client h2load:nghttp2-client nghttpd:nghttp2-server
# Extra options for bench/server.py, e.g. make bench BENCH_ARGS='--quick --only plaintext'
BENCH_ARGS ?=

.PHONY: run test lint typecheck pytest bench deps tools clean conformance

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev,all,bench]'  # bench: the real aiohttp, for compat tests and benchmarks
	touch $(STAMP)

deps: $(STAMP)

# Debian tools the interop tests and benchmarks drive; installed only when missing.
tools:
	@missing=""; for t in $(DEBIAN_TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $$missing >/dev/null; \
	fi

run: deps
	$(BIN)/python -m examples.demo

lint: deps
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: deps
	$(BIN)/mypy

test: deps tools lint typecheck
	$(BIN)/pytest -q

# The whole Autobahn WebSocket suite (compression groups included; takes minutes), both sides.
conformance: deps
	$(BIN)/python -m tests.ws.conformance

bench: deps tools
	$(BIN)/python -m bench.server $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
