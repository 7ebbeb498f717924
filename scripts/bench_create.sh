#!/usr/bin/env bash
# Benchmark: `create` against mktorrent (Debian) with the same piece length (1 MiB) and two
# hashing threads (`mktorrent -t 2 -l 20`), on a 256 MiB and a 1 GiB file, runs alternating,
# warm page cache. Each run is a fresh process timed by /usr/bin/time from start to exit
# (`deno run -A mod.ts create ...`, as a user types it). Reports min / median / max of wall
# time, median CPU (user + sys) and peak RSS, the ratio of medians ours/mktorrent, and checks
# that both tools computed the same info-hash. Also times `deno run -A mod.ts --version`
# (loading the library, no hashing) alternating with the runs: our wall time less that is the
# hashing phase, the part comparable with mktorrent's whole run. The installed command
# (`swarmd`, i.e. cli.ts, which loads only the create command's modules) is timed too, as
# "swarmd-cli". The CPU floor (CPU time over the cores) of both tools ends each size's report.
#
# Usage: bash scripts/bench_create.sh
#   env: BENCH_DIR (/tmp/swarmd-bench-create), BENCH_SIZES_MIB ("256 1024"), BENCH_RUNS (5),
#        BENCH_KEEP=1 keeps the payloads (deleted at the end otherwise)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIR=${BENCH_DIR:-/tmp/swarmd-bench-create}
SIZES=${BENCH_SIZES_MIB:-256 1024}
RUNS=${BENCH_RUNS:-5}
command -v mktorrent >/dev/null || { echo "mktorrent not installed (apt-get install mktorrent)"; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not installed"; exit 1; }

mkdir -p "$DIR"
cleanup() { [[ ${BENCH_KEEP:-0} == 1 ]] || rm -f "$DIR"/payload-*.bin; }
trap cleanup EXIT

# Loads every module once so the first timed run does not pay for type stripping.
deno run -A --quiet mod.ts --version >/dev/null

# run NAME CMD...: times one run; appends "wall user sys rss_kib" to $DIR/NAME.times.
run() {
  local name=$1
  shift
  rm -f "$DIR/$name.torrent"
  /usr/bin/time -f "%e %U %S %M" -o "$DIR/$name.last" "$@" >/dev/null
  cat "$DIR/$name.last" >>"$DIR/$name.times"
}

# stats FIELD FILE: "min median max" of a column.
stats() {
  cut -d' ' -f"$1" "$2" | sort -n | awk '{ a[NR] = $1 } END {
    m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "%.2f %.2f %.2f", a[1], m, a[NR] }'
}

info_hash() {
  deno run -A --quiet mod.ts info "$1" --json | sed -E 's/.*"infoHash":"([0-9a-f]+)".*/\1/'
}

for size in $SIZES; do
  FILE="$DIR/payload-${size}MiB.bin"
  if [[ ! -f $FILE || $(stat -c %s "$FILE") != $((size * 1024 * 1024)) ]]; then
    # Incompressible, fast: AES-CTR keystream of a fixed key.
    openssl enc -aes-128-ctr -nosalt -pass pass:swarmd -in <(head -c $((size * 1024 * 1024)) /dev/zero) \
      -out "$FILE" 2>/dev/null || head -c $((size * 1024 * 1024)) /dev/urandom >"$FILE"
  fi
  cat "$FILE" >/dev/null # warm the page cache: both tools read from memory
  rm -f "$DIR"/*.times
  for i in $(seq 1 "$RUNS"); do
    # alternate who goes first, so neither always runs right after the other
    if ((i % 2)); then order="swarmd mktorrent swarmd-cli"; else order="swarmd-cli mktorrent swarmd"; fi
    run startup deno run -A mod.ts --version
    for who in $order; do
      if [[ $who == swarmd ]]; then
        run swarmd deno run -A mod.ts create "$FILE" -o "$DIR/swarmd.torrent" --piece-length 1M --no-date
      elif [[ $who == swarmd-cli ]]; then
        run swarmd-cli deno run -A cli.ts create "$FILE" -o "$DIR/swarmd-cli.torrent" --piece-length 1M --no-date
      else
        run mktorrent mktorrent -t 2 -l 20 -o "$DIR/mktorrent.torrent" "$FILE"
      fi
    done
    echo "  run $i: swarmd $(cut -d' ' -f1 "$DIR/swarmd.last") s, swarmd-cli $(cut -d' ' -f1 "$DIR/swarmd-cli.last") s, mktorrent $(cut -d' ' -f1 "$DIR/mktorrent.last") s"
  done
  ours=$(info_hash "$DIR/swarmd.torrent")
  theirs=$(info_hash "$DIR/mktorrent.torrent")
  echo "create, ${size} MiB file, 1 MiB pieces, warm cache, $RUNS runs each, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
  for name in swarmd swarmd-cli mktorrent; do
    read -r wmin wmed wmax <<<"$(stats 1 "$DIR/$name.times")"
    cpu=$(awk '{ print $2 + $3 }' "$DIR/$name.times" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    rss=$(cut -d' ' -f4 "$DIR/$name.times" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] / 1024 }')
    printf "  %-10s wall %s / %s / %s s (min / median / max)  cpu %.2f s  peak RSS %.0f MiB\n" \
      "$name" "$wmin" "$wmed" "$wmax" "$cpu" "$rss"
    declare "wall_${name/-/_}=$wmed" "cpu_${name/-/_}=$cpu"
  done
  read -r smin smed smax <<<"$(stats 1 "$DIR/startup.times")"
  printf "  start-up (mod.ts --version) %s / %s / %s s; hashing phase ~%.2f s (median wall less start-up)\n" \
    "$smin" "$smed" "$smax" "$(echo "$wall_swarmd - $smed" | bc)"
  awk -v a="$wall_swarmd" -v c="$wall_swarmd_cli" -v b="$wall_mktorrent" 'BEGIN {
    printf "  ratio swarmd/mktorrent (median wall): %.2f; swarmd-cli/mktorrent: %.2f\n", a / b, c / b }'
  # No run is shorter than its CPU time spread over every core: mktorrent's CPU over the
  # cores, against its wall, says how far below mktorrent any tool hashing as efficiently
  # could go here.
  awk -v a="$cpu_swarmd_cli" -v m="$cpu_mktorrent" -v w="$wall_mktorrent" -v n="$(nproc)" 'BEGIN {
    printf "  CPU floor over %d cores: swarmd-cli %.2f s (%.2fx mktorrent), mktorrent %.2f s (%.2fx)\n",
      n, a / n, a / n / w, m / n, m / n / w }'
  if [[ $ours == "$theirs" && $(info_hash "$DIR/swarmd-cli.torrent") == "$theirs" ]]; then
    echo "  info-hash: identical ($ours)"
  else
    echo "  info-hash MISMATCH: swarmd $ours, mktorrent $theirs"
    exit 1
  fi
done
