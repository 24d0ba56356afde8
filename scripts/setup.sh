#!/usr/bin/env bash
# Installs what building and testing Spacedly needs, each piece only when it is missing.
# Everything comes from crates.io, npm, PyPI or Debian (nothing else is reachable offline).
#   scripts/setup.sh          tools to build and run
#   scripts/setup.sh test     + what the tests need (Chromium, Playwright packages, SMTP sink)
#   scripts/setup.sh bench    + the load generator
set -euo pipefail
cd "$(dirname "$0")/.."

need_test=false; need_bench=false
for arg in "$@"; do
  case "$arg" in
    test) need_test=true ;;
    bench) need_bench=true ;;
  esac
done

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
apt_updated=false
apt_install() {
  if ! $apt_updated; then $SUDO apt-get update -qq; apt_updated=true; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- Rust toolchain (rust-toolchain.toml names it; the wasm target comes with it) ---
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The three Rust tools below share one build folder: their common dependencies (syn, serde,
# tokio, clap...) compile once where they resolve the same features.
INSTALL_TARGET="$PWD/.tools/install-target"

# --- cargo-leptos 0.3.10 (0.3.11 needs a newer rustc); never downloads tools itself ---
if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  log "installing cargo-leptos 0.3.10 (about 10-18 minutes on 2 cores)"
  cargo install cargo-leptos@0.3.10 --locked --features no_downloads --target-dir "$INSTALL_TARGET"
fi

# --- wasm-bindgen CLI at exactly the version of the wasm-bindgen crate in Cargo.lock ---
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WB_VERSION}\$"; then
  log "installing wasm-bindgen-cli ${WB_VERSION}"
  # Not --locked: its lock file names a webpki-roots version the registry no longer has.
  cargo install wasm-bindgen-cli --version "${WB_VERSION}" --force --target-dir "$INSTALL_TARGET"
fi

# --- wasm-opt from npm's binaryen (Debian's is too old for today's rustc output) ---
if [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
  log "installing binaryen (wasm-opt) from npm into .tools/"
  mkdir -p .tools
  (cd .tools && [ -f package.json ] || echo '{"private":true}' > package.json)
  (cd .tools && npm install --no-audit --no-fund --silent binaryen@132)
fi

# --- PostgreSQL server binaries (Debian) ---
if [ ! -x /usr/lib/postgresql/15/bin/initdb ] && ! command -v initdb >/dev/null; then
  log "installing PostgreSQL"
  apt_install postgresql
fi

if $need_test; then
  # --- sqlx-cli 0.9.0 (matches the sqlx crate): `make lint` checks that .sqlx/ is current ---
  if ! cargo sqlx --version 2>/dev/null | grep -q ' 0\.9\.0$'; then
    log "installing sqlx-cli 0.9.0 (several minutes on 2 cores)"
    cargo install sqlx-cli@0.9.0 --locked --no-default-features --features postgres,rustls \
      --target-dir "$INSTALL_TARGET"
  fi
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's Chromium"
    apt_install chromium
  fi
  if ! command -v brotli >/dev/null; then
    apt_install brotli
  fi
  if [ ! -x .tools/venv/bin/python ] || ! .tools/venv/bin/python -c 'import aiosmtpd, icalendar' 2>/dev/null; then
    log "installing the SMTP test server (PyPI aiosmtpd) and the iCalendar parser (PyPI icalendar) into .tools/venv"
    mkdir -p .tools
    python3 -m venv .tools/venv
    .tools/venv/bin/pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6 icalendar==6.3.1
  fi
  if [ ! -x .tools/s3/bin/moto_server ]; then
    log "installing the S3-compatible test server (PyPI moto) into .tools/s3"
    mkdir -p .tools
    python3 -m venv .tools/s3
    .tools/s3/bin/pip install --quiet --disable-pip-version-check \
      'moto[s3]==5.1.22' 'flask==3.1.3' 'flask-cors==6.0.5'
  fi
  if [ ! -x .tools/st/bin/st ] || ! .tools/st/bin/st --version 2>/dev/null | grep -q ' 4\.32\.5$'; then
    log "installing Schemathesis (PyPI) into .tools/st"
    mkdir -p .tools
    python3 -m venv .tools/st
    .tools/st/bin/pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "installing the end-to-end test packages"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
fi

if $need_bench; then
  if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt_install wrk
  fi
  if ! command -v brotli >/dev/null; then
    apt_install brotli
  fi
fi
log "tools ready"
