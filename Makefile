# Spacedly — the two commands of the README are `make run` and `make test`.
# Both install what is missing first (scripts/setup.sh) and skip what is already there.

SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Builds check our SQL against the query data committed in .sqlx/ (`make sqlx-prepare` writes it,
# `make lint` checks it is current), so they need no database; the job queue crate ships its own.
export SQLX_OFFLINE := true
# The built site; the binary serves it from here whatever the working directory.
export LEPTOS_SITE_ROOT := $(CURDIR)/target/site
# cargo-leptos builds with LEPTOS_OUTPUT_NAME set, and leptos reads it at compile time: with the
# same value the test build reuses the release build's leptos crates instead of rebuilding six.
export LEPTOS_OUTPUT_NAME := spacedly

BIN := target/release/spacedly
E2E_PORT ?= 3100

.PHONY: run test setup setup-test db db-stop build unit wasm-deps e2e e2e-repeat schemathesis bench lint fmt clean-data sqlx-db sqlx-prepare

## run: build the release and serve it at http://127.0.0.1:3000 (local PostgreSQL unless DATABASE_URL is set)
run: setup build
	@if [ -z "$$DATABASE_URL" ]; then bash scripts/db.sh start; fi
	@DATABASE_URL="$${DATABASE_URL:-$$(bash scripts/db.sh url)}" exec $(BIN) serve

## test: unit + integration tests (fresh database per test), WASM dependency check, Playwright on the release build
test: setup-test build
	bash scripts/db.sh start
	# --release reuses the dependencies the release build just compiled (about 1 min instead of 5).
	DATABASE_URL="$$(bash scripts/db.sh url postgres)" cargo test --release --workspace --features ssr --no-fail-fast
	bash scripts/schemathesis.sh
	$(MAKE) lint
	bash scripts/check-wasm-deps.sh
	bash scripts/check-size.sh
	$(MAKE) e2e

setup:
	@bash scripts/setup.sh

setup-test:
	@bash scripts/setup.sh test

build:
	cargo leptos build --release --precompress

## e2e: Playwright in Debian's Chromium against the release build
e2e:
	bash scripts/db.sh start
	bash scripts/db.sh reset spacedly_e2e
	rm -rf .data/e2e .data/e2e-dev .data/e2e-smtp
	cd end2end && E2E_PORT=$(E2E_PORT) \
	  E2E_DATABASE_URL="$$(bash ../scripts/db.sh url spacedly_e2e)" \
	  SPACEDLY_BIN=$(CURDIR)/$(BIN) npx playwright test $(E2E_ARGS)

## schemathesis: property-based tests of the JSON API from /api/openapi.json, on the release build
schemathesis: setup-test build
	bash scripts/schemathesis.sh $(ST_ARGS)

## e2e-repeat: the whole Playwright suite N times in a row (default 10), stopping at the first failure
e2e-repeat:
	for i in $$(seq 1 $${N:-10}); do echo "== run $$i"; $(MAKE) --no-print-directory e2e || exit 1; done

## bench: load figures for BENCHMARKS.md; the task API also on BENCH_BASELINE's server (a commit,
## built once into target/baseline/; empty: none), "before" beside "after" in the same rounds.
# The default is the last commit before the structure change (compile-time SQL, one path per action).
BENCH_BASELINE ?= e91afe6
bench: setup-test build
	@bash scripts/setup.sh bench
	bash scripts/db.sh start
	$(MAKE) e2e E2E_ARGS=tests/budget.spec.ts
	BENCH_IMAGES_CMD="target/release/spacedly bench-images" bash scripts/bench-images.sh > target/bench-images.txt
	bash scripts/bench-reminders.sh
	if [ -n "$(BENCH_BASELINE)" ]; then \
	  BASELINE_BIN="$$(bash scripts/bench-baseline.sh $(BENCH_BASELINE))" BASELINE_REV=$(BENCH_BASELINE) bash scripts/bench.sh; \
	else bash scripts/bench.sh; fi

wasm-deps:
	bash scripts/check-wasm-deps.sh

## lint: formatting, clippy, and that .sqlx/ matches the code and the migrations
lint: sqlx-db
	python3 scripts/check-layers.py
	cargo fmt --all --check
	cargo clippy --workspace --features ssr --tests -- -D warnings
	cargo clean -q -p apalis-postgres
	SQLX_OFFLINE=false DATABASE_URL="$$(bash scripts/db.sh url $(SQLX_DB))" cargo sqlx prepare --workspace --check -- -p spacedly-server --features test-clock

# The database the SQL macros are checked against: a fresh one with our migrations and the job
# queue's (apalis's, from its crate: some of our statements read and change its jobs table).
# sqlx-cli means to recompile every crate that uses sqlx's macros, apalis-postgres included, so
# .sqlx/ also holds the job queue's statements, checked against the same schema; its own clean
# of that crate did not always take (the job queue's files came and went between runs), so the
# recipes clean it first.
SQLX_DB := spacedly_sqlx
APALIS_MIGRATIONS = $$(cargo metadata --format-version 1 --locked | python3 -c 'import json, os, sys; print(next(os.path.dirname(p["manifest_path"]) for p in json.load(sys.stdin)["packages"] if p["name"] == "apalis-postgres") + "/migrations")')
sqlx-db:
	bash scripts/db.sh start
	bash scripts/db.sh reset $(SQLX_DB)
	DATABASE_URL="$$(bash scripts/db.sh url $(SQLX_DB))" cargo sqlx migrate run --source migrations
	DATABASE_URL="$$(bash scripts/db.sh url $(SQLX_DB))" cargo sqlx migrate run --ignore-missing --source "$(APALIS_MIGRATIONS)"

## sqlx-prepare: rewrite .sqlx/ after changing a statement or a migration (commit it with the change)
sqlx-prepare: sqlx-db
	cargo clean -q -p apalis-postgres
	SQLX_OFFLINE=false DATABASE_URL="$$(bash scripts/db.sh url $(SQLX_DB))" cargo sqlx prepare --workspace -- -p spacedly-server --features test-clock

fmt:
	cargo fmt --all

db:
	bash scripts/db.sh start
	@echo "DATABASE_URL=$$(bash scripts/db.sh url)"

db-stop:
	bash scripts/db.sh stop
