#!/usr/bin/env bash
# Image optimisation against sharp (libvips), the same work in the same run, one thread each:
# auto-rotate, shrink to fit inside 1920x1080, lossy WebP q70. Prints both medians and sizes
# and the ratios (goal: time <= 1.2x sharp, size <= 1.1x sharp).
#
# The machine is shared and its load moves, so the two alternate: ROUNDS rounds (default 3) of
# ITERATIONS runs each; the figure is the median of the per-round medians.
#
# usage: scripts/bench-images.sh [image] [iterations]
#   BENCH_IMAGES_CMD  command printing "median_ms=<ms> bytes=<n>" for "<image> <iterations>"
#                     (default: the bench_images example of spacedly-server, release build)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${1:-server/tests/fixtures/photo-4032x3024.jpg}
ITERATIONS=${2:-15}
[ -f "$IMAGE" ] || { echo "no such image: $IMAGE" >&2; exit 1; }

if [ ! -d .tools/node_modules/sharp ]; then
  echo "installing sharp into .tools/ ..." >&2
  npm install --silent --no-audit --no-fund --prefix .tools sharp >&2
fi

ROUNDS=${ROUNDS:-3}
if [ -z "${BENCH_IMAGES_CMD:-}" ]; then
  export SQLX_OFFLINE=true
  nice -n 15 cargo build --quiet --release -p spacedly-server --example bench_images >&2
  BENCH_IMAGES_CMD=target/release/examples/bench_images
fi

run_sharp() {
NODE_PATH=.tools/node_modules node - "$IMAGE" "$ITERATIONS" <<'JS'
const sharp = require('sharp');
const fs = require('fs');
const [path, iterations] = [process.argv[2], Number(process.argv[3])];
sharp.concurrency(1);
sharp.cache(false);
const input = fs.readFileSync(path);
const once = () => sharp(input)
  .rotate()
  .resize(1920, 1080, { fit: 'inside', withoutEnlargement: true })
  .webp({ quality: 70 })
  .toBuffer();
(async () => {
  let out = await once(); // warm-up, like ours runs in a warm process
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    out = await once();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`median_ms=${times[Math.floor(times.length / 2)].toFixed(1)} bytes=${out.length}`);
})();
JS
}

field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ours_runs=""; sharp_runs=""
for round in $(seq 1 "$ROUNDS"); do
  ours=$($BENCH_IMAGES_CMD "$IMAGE" "$ITERATIONS")
  sharp=$(run_sharp)
  echo "  round $round: spacedly $(field "$ours" median_ms) ms, sharp $(field "$sharp" median_ms) ms" >&2
  ours_runs+="$(field "$ours" median_ms)"$'\n'; sharp_runs+="$(field "$sharp" median_ms)"$'\n'
done
ours_ms=$(printf '%s' "$ours_runs" | median); ours_b=$(field "$ours" bytes)
sharp_ms=$(printf '%s' "$sharp_runs" | median); sharp_b=$(field "$sharp" bytes)

echo "image optimisation of $IMAGE (one thread; median of $ROUNDS alternating rounds of $ITERATIONS runs)"
printf '  %-9s %9s ms %9s bytes\n' spacedly "$ours_ms" "$ours_b" sharp "$sharp_ms" "$sharp_b"
awk -v a="$ours_ms" -v b="$sharp_ms" -v c="$ours_b" -v d="$sharp_b" 'BEGIN {
  printf "  ratio     %8.2fx time (goal <= 1.2x)  %8.2fx size (goal <= 1.1x)\n", a / b, c / d }'
