#!/usr/bin/env bash
# Benchmark (issue: uTP): the whole engine over uTP against python3-libtorrent on loopback,
# each pair alternating ROUNDS rounds in one run, wall time from process start to the
# verified exit (fresh processes), min/median/max:
#   download: our `get` (default flags) from a uTP-only libtorrent seeder, against a
#             uTP-only libtorrent leecher from the same seeder;
#   upload:   a uTP-only libtorrent leecher from our `seed`, against the same leecher from a
#             uTP-only libtorrent seeder;
#   default:  a default libtorrent leecher (uTP on, TCP on) from our `seed`, against the same
#             leecher from a default libtorrent seeder (the target: ratio <= 1.1).
#   usage: scripts/bench_utp_engine.sh [SIZE_MIB=256] [ROUNDS=5]
# Needs: deno, /usr/bin/python3 with libtorrent.
set -euo pipefail
size_mib=${1:-256}
rounds=${2:-5}
bench_name=utp
# shellcheck source=scripts/_bench_lt.sh
source "$(dirname "$0")/_bench_lt.sh"

start_our_seed() { # address; sets our_port (not in $(...): see start_lt_seeder)
  local addr=$1 log="$work/our-seed-$1.log"
  deno run -A "$here/mod.ts" seed "$torrent" "$work" --port 0 --host "$addr" --no-dht \
    --json > "$log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 300); do grep -q '"check-finished"' "$log" 2>/dev/null && break; sleep 0.1; done
  # its own listener: another seed on the same address must not be taken for it
  our_port=$(grep -o 'on port [0-9]*\|"port":[0-9]*' "$log" | head -1 | grep -o '[0-9]*$' ||
    ss -ltnp | grep "pid=$pid," | grep -o "$addr:[0-9]*" | head -1 | cut -d: -f2)
}

results="$work/results.txt"
: > "$results"
run() { # label, command...
  local label=$1; shift
  local dl="$work/dl-$label"
  rm -rf "$dl"; mkdir -p "$dl"
  local t0 t1
  t0=$(date +%s.%N)
  "$@" "$dl" > "$work/out-$label.log" 2>&1 || { echo "$label failed"; tail -3 "$work/out-$label.log"; return 1; }
  t1=$(date +%s.%N)
  cmp -s "$dl/payload.bin" "$payload" || { echo "$label: data differs"; return 1; }
  echo "$label $(echo "$t1 - $t0" | bc)" | tee -a "$results"
  rm -rf "$dl"
}
ours_get() { deno run -A "$here/mod.ts" get "$torrent" --peer "$1" --port 0 --host 127.0.0.1 --no-dht -o "$2"; }
lt_get() { # peer, extra flags..., save dir (last)
  local peer=$1; shift
  local args=("$@"); local save=${args[-1]}; unset 'args[-1]'
  "${lt[@]}" --listen 127.0.0.79:0 --peer "$peer" --exit-when-complete --timeout 600 "${args[@]}" --save "$save"
}

start_lt_seeder 127.0.0.71 --utp-only
lt_utp_port=$seeder_port
start_lt_seeder 127.0.0.72
lt_default_port=$seeder_port
start_our_seed 127.0.0.73
echo "seeders: lt uTP-only 127.0.0.71:$lt_utp_port, lt default 127.0.0.72:$lt_default_port," \
  "ours 127.0.0.73:$our_port; $size_mib MiB; $rounds rounds"
for _ in $(seq 1 "$rounds"); do
  run download-ours ours_get "127.0.0.71:$lt_utp_port"
  run download-lt lt_get "127.0.0.71:$lt_utp_port" --utp-only
  run upload-ours lt_get "127.0.0.73:$our_port" --utp-only
  run upload-lt lt_get "127.0.0.71:$lt_utp_port" --utp-only
  run default-ours lt_get "127.0.0.73:$our_port"
  run default-lt lt_get "127.0.0.72:$lt_default_port"
done
python3 - "$results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, secs = line.split()
    rows.setdefault(label, []).append(float(secs))
for label, xs in rows.items():
    xs.sort()
    print(f"{label:13} min/median/max {xs[0]:.2f} / {statistics.median(xs):.2f} / {xs[-1]:.2f} s")
for pair in ("download", "upload", "default"):
    ours, theirs = rows.get(f"{pair}-ours"), rows.get(f"{pair}-lt")
    if ours and theirs:
        print(f"{pair}: ours / libtorrent (medians) = "
              f"{statistics.median(ours) / statistics.median(theirs):.2f}")
EOF
