#!/usr/bin/env bash
# Builds the server of an earlier commit once, for `make bench` to load it side by side with
# this one (the "before" of a change). Prints the binary's path.
#
#   scripts/bench-baseline.sh REV
#
# The commit is checked out in a git worktree under target/baseline/ and built there with its
# own target folder, first seeded with a copy of ours (the same dependencies are not compiled
# again); a binary already built for REV is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
REV=$(git rev-parse --short "${1:?usage: scripts/bench-baseline.sh REV}")
DIR="$ROOT/target/baseline"
BIN="$DIR/spacedly-$REV"
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi

mkdir -p "$DIR"
SRC="$DIR/src-$REV"
[ -d "$SRC" ] || git worktree add --detach "$SRC" "$REV" >&2
if [ ! -d "$DIR/target/release" ] && [ -d "$ROOT/target/release" ]; then
  mkdir -p "$DIR/target"
  echo "[baseline] copying the build folder's dependencies" >&2
  cp -a "$ROOT/target/release" "$DIR/target/release"
fi
(cd "$SRC" && SQLX_OFFLINE=true CARGO_TARGET_DIR="$DIR/target" \
  cargo build --release --locked --package spacedly --bin spacedly --no-default-features --features ssr >&2)
cp "$DIR/target/release/spacedly" "$BIN"
git worktree remove --force "$SRC" >&2
echo "$BIN"
