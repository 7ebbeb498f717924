#!/usr/bin/env bash
# Benchmark: `create` on a 1 GiB file against mktorrent (Debian) with the same piece length
# (1 MiB) and two hashing threads (`mktorrent -t 2 -l 20`), runs interleaved, warm page cache.
# Reports wall-time medians, the ratio ours/mktorrent, CPU time and peak RSS (/usr/bin/time),
# and checks both tools computed the same info-hash.
#
# Usage: bash scripts/bench_create.sh
#   env: BENCH_DIR, BENCH_SIZE_MIB (1024), BENCH_RUNS (3), SWARMD_CLI_ENTRY (mod.ts)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIR=${BENCH_DIR:-/tmp/swarmd-bench-create}
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
ENTRY=src/cli/main.ts
if [[ -f mod.ts ]] && grep -q "cli/main.ts" mod.ts; then ENTRY=mod.ts; fi
ENTRY=${SWARMD_CLI_ENTRY:-$ENTRY}
command -v mktorrent >/dev/null || { echo "mktorrent not installed (apt-get install mktorrent)"; exit 1; }

mkdir -p "$DIR"
FILE="$DIR/payload-${SIZE_MIB}MiB.bin"
if [[ ! -f $FILE || $(stat -c %s "$FILE") != $((SIZE_MIB * 1024 * 1024)) ]]; then
  echo "making $FILE"
  # Incompressible, fast: AES-CTR keystream of a fixed key.
  openssl enc -aes-128-ctr -nosalt -pass pass:swarmd -in <(head -c $((SIZE_MIB * 1024 * 1024)) /dev/zero) \
    -out "$FILE" 2>/dev/null || head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$FILE"
fi
cat "$FILE" >/dev/null # warm the page cache: both tools read from memory

# Loads every module once so the first timed run does not pay for type stripping or npm.
deno run -A --quiet "$ENTRY" --version >/dev/null

HAVE_TIME=0
[[ -x /usr/bin/time ]] && HAVE_TIME=1

# run NAME CMD...: times one run; appends "wall user sys rss_kib" to $DIR/NAME.times.
run() {
  local name=$1
  shift
  rm -f "$DIR/$name.torrent"
  if [[ $HAVE_TIME == 1 ]]; then
    /usr/bin/time -f "%e %U %S %M" -o "$DIR/$name.last" "$@" >/dev/null
  else
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc) 0 0 0" >"$DIR/$name.last"
  fi
  cat "$DIR/$name.last" >>"$DIR/$name.times"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

rm -f "$DIR"/*.times
for i in $(seq 1 "$RUNS"); do
  run swarmd deno run -A --quiet "$ENTRY" create "$FILE" -o "$DIR/swarmd.torrent" --piece-length 1M --no-date
  run mktorrent mktorrent -t 2 -l 20 -d -o "$DIR/mktorrent.torrent" "$FILE"
  echo "run $i: swarmd $(cut -d' ' -f1 "$DIR/swarmd.last") s, mktorrent $(cut -d' ' -f1 "$DIR/mktorrent.last") s"
done

ours_hash=$(deno run -A --quiet "$ENTRY" info "$DIR/swarmd.torrent" --json | sed -E 's/.*"infoHash":"([0-9a-f]+)".*/\1/')
their_hash=$(deno run -A --quiet "$ENTRY" info "$DIR/mktorrent.torrent" --json | sed -E 's/.*"infoHash":"([0-9a-f]+)".*/\1/')

echo
echo "create, ${SIZE_MIB} MiB file, 1 MiB pieces, warm cache, $RUNS runs each, $(nproc) cores"
for name in swarmd mktorrent; do
  wall=$(cut -d' ' -f1 "$DIR/$name.times" | median)
  cpu=$(awk '{ print $2 + $3 }' "$DIR/$name.times" | median)
  rss=$(cut -d' ' -f4 "$DIR/$name.times" | median)
  mbps=$(awk -v w="$wall" -v s="$SIZE_MIB" 'BEGIN { printf "%.0f", s * 1.048576 / w }')
  printf "  %-10s wall median %6.2f s (%5s MB/s)  cpu %6.2f s  peak RSS %6.1f MiB\n" \
    "$name" "$wall" "$mbps" "$cpu" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
  declare "wall_$name=$wall"
done
awk -v a="$wall_swarmd" -v b="$wall_mktorrent" 'BEGIN { printf "  ratio swarmd/mktorrent (wall): %.2f\n", a / b }'
if [[ $ours_hash == "$their_hash" ]]; then
  echo "  info-hash: identical ($ours_hash)"
else
  echo "  info-hash MISMATCH: swarmd $ours_hash, mktorrent $their_hash"
  exit 1
fi
