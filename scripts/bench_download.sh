#!/usr/bin/env bash
# Benchmark: download a single-file torrent (default 1 GiB) over loopback from a
# python3-libtorrent seeder, with our `get` and with libtorrent's own leecher against
# the same seeder, interleaved, in the same run. Reports wall time, CPU time (user+sys)
# and peak RSS from /usr/bin/time -v, medians of RUNS runs.
#   usage: scripts/bench_download.sh [SIZE_MIB=1024] [RUNS=3]
# Needs: deno, /usr/bin/python3 with libtorrent, /usr/bin/time.
set -euo pipefail
size_mib=${1:-1024}
runs=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/swarmd-bench}
mkdir -p "$work"
payload="$work/payload-${size_mib}m.bin"
if [ ! -f "$payload" ]; then
  echo "making $payload"
  head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$payload"
fi
torrent="$work/payload-${size_mib}m.torrent"
[ -f "$torrent" ] || deno run -A "$here/mod.ts" create "$payload" -o "$torrent" --piece-length 1048576 --no-date >/dev/null

seed_log="$work/seeder.log"
/usr/bin/python3 "$here/scripts/interop/lt_peer.py" --torrent "$torrent" --save "$work" \
  --listen 127.0.0.2:0 --seed-mode --timeout 3600 > "$seed_log" 2>&1 &
seeder=$!
trap 'kill $seeder 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$seed_log" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '"port": [0-9]*' "$seed_log" | head -1 | grep -o '[0-9]*$')
echo "libtorrent seeder on 127.0.0.2:$port; $size_mib MiB; $runs runs each"

measure() { # name, command (the download dir is appended)
  local name=$1; shift
  local log="$work/time-$name.log"
  local dl="$work/dl-$name"
  rm -rf "$dl"; mkdir -p "$dl"
  /usr/bin/time -v bash -c "$1 \"\$0\"" "$dl" > "$work/out-$name.log" 2> "$log" || { echo "$name failed"; tail -5 "$log"; return 1; }
  local wall user sys rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  user=$(grep "User time" "$log" | awk '{print $NF}')
  sys=$(grep "System time" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$log" | awk '{print $NF}')
  cmp -s "$dl/$(basename "$payload")" "$payload" || { echo "$name: data differs"; return 1; }
  echo "$name wall=$wall cpu=$(echo "$user + $sys" | bc) rss_mb=$((rss / 1024))"
  rm -rf "$dl"
}
ours="deno run -A $here/mod.ts get $torrent --peer 127.0.0.2:$port --port 0 --host 127.0.0.1 --quiet -o"
theirs="/usr/bin/python3 $here/scripts/interop/lt_peer.py --torrent $torrent --listen 127.0.0.4:0 --peer 127.0.0.2:$port --exit-when-complete --timeout 600 --save"

# Warm-up: module cache and page cache for both clients (not counted).
measure warmup "$ours" > /dev/null || true
results="$work/results.txt"; : > "$results"
for i in $(seq 1 "$runs"); do
  measure swarmd "$ours" | tee -a "$results"
  measure libtorrent "$theirs" | tee -a "$results"
done
echo "--- medians"
for name in swarmd libtorrent; do
  grep "^$name " "$results" | python3 -c '
import sys, statistics
rows = [dict(kv.split("=") for kv in line.split()[1:]) for line in sys.stdin]
def secs(t):
    parts = [float(p) for p in t.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
print(sys.argv[1], "wall %.2fs cpu %.2fs rss %d MB" % (
    statistics.median(secs(r["wall"]) for r in rows),
    statistics.median(float(r["cpu"]) for r in rows),
    statistics.median(int(r["rss_mb"]) for r in rows)))' "$name"
done
