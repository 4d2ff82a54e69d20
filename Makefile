# kalcord: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: run test lint bench bench-quick services services-stop services-status proto docs build clean-data

## run: the whole system in one process on embedded defaults (SQLite, in-process bus)
run:
	$(CARGO) run --locked -p kalcord-standalone --bin kalcord

## test: the whole test suite, against the real PostgreSQL, Redis, NATS and OpenBao (`make services`)
test: fidelity-deps
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --locked --no-fail-fast
else
	@echo "cargo-nextest not found; running cargo test (install it with: cargo install cargo-nextest --locked)"
	$(CARGO) test --workspace --locked --no-fail-fast --tests
endif
	$(CARGO) test --workspace --locked --doc

## fidelity-deps: Kaltura's official Node and Python clients for the emulator's fidelity tests
## (npm ci into tests/fidelity/node, pip into .venv); skipped while their lockfiles are unchanged
.PHONY: fidelity-deps
fidelity-deps:
	bash tests/fidelity/install-deps.sh

## lint: formatting and clippy with warnings as errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## bench: speed and memory, side by side with the bare handler; rewrites docs/benchmarks.md
## (needs `make services`); fails when a target is missed
bench:
	./scripts/bench.sh

## bench-quick: the smoke version (small sizes, one run, timings not judged; report in target/bench-quick.md)
bench-quick:
	./scripts/bench.sh --quick

## build: every binary
build:
	$(CARGO) build --workspace --locked --bins

## services: install (if missing) and start PostgreSQL, Redis, NATS JetStream and OpenBao on 127.0.0.1
services:
	./scripts/services.sh start

## services-stop: stop what `make services` started (never the machine's own services)
services-stop:
	./scripts/services.sh stop

services-status:
	./scripts/services.sh status

## proto: regenerate crates/kalcord-proto/src/gen from proto/
proto:
	KALCORD_PROTO_BLESS=1 $(CARGO) test --locked -p kalcord-proto --test bootstrap

## docs: regenerate the key table of docs/configuration.md from the code
docs:
	KALCORD_DOCS_BLESS=1 $(CARGO) test --locked -p kalcord-standalone --test integration -- config_docs

## clean-data: delete the standalone SQLite database under ./data
clean-data:
	rm -rf data
