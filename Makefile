# terraform-provider-nested — the two commands a new user runs are
# `make demo` and `make test`; everything they need is installed by them.

SHELL := /bin/bash
CARGO ?= cargo
PROVIDER := terraform-provider-nested

.PHONY: help build build-provider venv lab-setup demo test lint fmt unit acceptance schema bench clean docs docs-check release-check probe-static probe-image

help:
	@echo "make demo    build, start moto, run Terraform on examples/quickstart, clean up"
	@echo "make test    formatting, clippy, unit and acceptance tests (real Terraform + moto), the node lab (root)"
	@echo "make bench   benchmarks against Terraform's own floor (release build; writes docs/benchmarks.md)"
	@echo "make schema  refresh schemas/provider-schema.json after a deliberate schema change"
	@echo "make probe-static  build nested-probe as a static binary for the probe image"
	@echo "make probe-image   build the probe image (podman or buildah) and its OCI archive under target/probe-image/"
	@echo "make docs    regenerate docs/ (Registry pages) from the schema, capabilities.toml, examples and templates"
	@echo "make docs-check  fail with a diff when docs/ is not what make docs would write"
	@echo "make release-check  assemble the release zip, manifest and SHA256SUMS in dist/ (PROVIDER_BIN=path to skip the release build)"

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

# The node lab's packages (crun, bubblewrap, podman, sudo, iptables, …) from
# Debian, installed when missing; needs root, as the lab itself does.
lab-setup:
	bash acceptance/lab/setup.sh

# The demo needs the provider binary only; the dependency features are the
# same as the test build's (see Cargo.toml), so `make test` afterwards reuses
# every dependency it compiled.
build-provider:
	$(CARGO) build -p $(PROVIDER) --bin $(PROVIDER)

demo: build-provider venv
	bash scripts/demo.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Unit tests, the provider process tests, the acceptance suite and the node
# lab (real crun containers with the real sandboxes; root). The probe image
# is built first (after lab-setup, which installs podman): the tests load it
# into a rootless podman and put it in the release layout.
test: docs-check lint venv lab-setup build probe-image
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
bench: venv probe-image
	$(CARGO) build --release -p $(PROVIDER)
	.venv/bin/python scripts/bench.py --provider-dir $${CARGO_TARGET_DIR:-target}/release --probe-image-dir $${CARGO_TARGET_DIR:-target}/probe-image --write docs/benchmarks.md $(BENCH_ARGS)

clean:
	$(CARGO) clean
	rm -rf .venv .venv.lock

# Registry documentation, generated (Python 3.11 standard library only).
# docs/benchmarks.md is written by `make bench`, not by the generator.
docs:
	python3 scripts/docgen.py --out docs

docs-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	python3 scripts/docgen.py --out "$$tmp" && \
	if ! diff -ru -x benchmarks.md docs "$$tmp"; then \
	  echo "docs/ is stale: run \`make docs\` and commit the result"; exit 1; \
	fi

# The release assets of .goreleaser.yml, for this machine only, in dist/;
# nothing is published. PROVIDER_BIN=path reuses a built binary.
release-check:
	bash scripts/release-check.sh

# nested-probe as one static executable for the probe image (glibc static-pie).
probe-static:
	RUSTFLAGS='-C target-feature=+crt-static' $(CARGO) build -p nested-probe --release --target x86_64-unknown-linux-gnu
	@file $${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release/nested-probe

# The probe image, as the release builds it (probe/Containerfile over a
# dockers_v2-shaped context), for this platform, with Debian's podman or
# buildah; also written as an OCI archive to <target>/probe-image/.
probe-image:
	bash scripts/probe-image.sh
