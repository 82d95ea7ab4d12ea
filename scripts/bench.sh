#!/usr/bin/env bash
# Side-by-side build benchmark: casebook, Hugo (when installed) and the floor
# program on the same generated corpus, alternating runs, medians of RUNS.
#   scripts/bench.sh [N=10000] [RUNS=5]
# Needs: python3, /usr/bin/time; Hugo from Debian's `hugo` package (optional).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
RUNS=${2:-5}
SHARED=../shared/bench
WORK=${BENCH_DIR:-target/bench}
mkdir -p "$WORK"
[ -d "$WORK/c$N" ] || python3 "$SHARED/gen_corpus.py" "$N" "$WORK/c$N" >/dev/null
if command -v hugo >/dev/null && [ ! -d "$WORK/peers$N/hugo" ]; then
  python3 "$SHARED/make_peer_sites.py" "$N" "$WORK/peers$N" --tools hugo >/dev/null
fi
cargo build --release --quiet
cargo build --release --quiet --manifest-path "$SHARED/floor/Cargo.toml" --target-dir target/floor
CASEBOOK="$PWD/target/release/casebook"
FLOOR="$PWD/target/floor/release/floor"

declare -A wall rss
run() { # name, dir, command...
  local name=$1 dir=$2; shift 2
  local out tmp
  tmp=$(mktemp)
  (cd "$dir" && /usr/bin/time -o "$tmp" -f "%e %M" "$@" >/dev/null 2>&1)
  out=$(tail -1 "$tmp")
  rm -f "$tmp"
  wall[$name]+="${out% *} "
  rss[$name]+="${out#* } "
}
# One untimed run of each, so every tool rebuilds over its previous output.
run warm-casebook "$WORK/c$N" "$CASEBOOK" build
run warm-floor "$WORK" "$FLOOR" "c$N/content" "floor-out$N"
command -v hugo >/dev/null && run warm-hugo "$WORK/peers$N/hugo" hugo --quiet
for i in $(seq "$RUNS"); do
  run casebook "$WORK/c$N" "$CASEBOOK" build
  command -v hugo >/dev/null && run hugo "$WORK/peers$N/hugo" hugo --quiet
  run floor "$WORK" "$FLOOR" "c$N/content" "floor-out$N"
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "\nN = %s, median of %s runs, rebuilding over the previous output\n\n" "$N" "$RUNS"
printf "| tool | wall s | peak RSS MB |\n|---|---:|---:|\n"
declare -A med
for t in floor hugo casebook; do
  [ -n "${wall[$t]:-}" ] || continue
  med[$t]=$(echo "${wall[$t]}" | median)
  printf "| %s | %s | %d |\n" "$t" "${med[$t]}" "$(( $(echo "${rss[$t]}" | median) / 1024 ))"
done
echo
[ -n "${med[hugo]:-}" ] && awk -v c="${med[casebook]}" -v h="${med[hugo]}" 'BEGIN {printf "casebook / Hugo  = %.2f\n", c / h}'
awk -v c="${med[casebook]}" -v f="${med[floor]}" 'BEGIN {printf "casebook / floor = %.2f\n", c / f}'
