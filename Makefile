# terraform-provider-nested — the two commands a new user runs are
# `make demo` and `make test`; everything they need is installed by them.

SHELL := /bin/bash
CARGO ?= cargo
PROVIDER := terraform-provider-nested

.PHONY: help build venv demo test lint fmt unit acceptance schema bench clean

help:
	@echo "make demo    build, start moto, run Terraform on examples/quickstart, clean up"
	@echo "make test    formatting, clippy, unit and acceptance tests (real Terraform + moto)"
	@echo "make bench   benchmarks against Terraform's own floor (release build; writes docs/benchmarks.md)"
	@echo "make schema  refresh schemas/provider-schema.json after a deliberate schema change"

# Built exactly as the test run builds it (bins and tests together), so the
# test step reuses the artifacts; a plain `cargo build` of the binary would
# resolve other dependency features and rebuild the AWS SDK.
build:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest list --workspace >/dev/null; \
	else \
	  $(CARGO) test --no-run --workspace; \
	fi

venv:
	bash acceptance/tools/setup-venv.sh

demo: build venv
	bash scripts/demo.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Unit tests, the provider process tests and the acceptance suite.
test: lint venv build
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run --workspace --no-fail-fast; \
	else \
	  $(CARGO) test --workspace --no-fail-fast; \
	fi

schema: venv build
	UPDATE_SCHEMA_SNAPSHOT=1 $(CARGO) test -p acceptance --test schema_snapshot provider_schema_matches_the_committed_snapshot

# Figures, not assertions: start/handshake, schema, 200-data-source plan and
# node groups against moto, each against Terraform's own floor. Release build.
# BENCH_ARGS e.g. `--runs 3 --groups 20`.
BENCH_ARGS ?=
bench: venv
	$(CARGO) build --release -p $(PROVIDER)
	.venv/bin/python scripts/bench.py --provider-dir $${CARGO_TARGET_DIR:-target}/release --write docs/benchmarks.md $(BENCH_ARGS)

clean:
	$(CARGO) clean
	rm -rf .venv .venv.lock
