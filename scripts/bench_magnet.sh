#!/usr/bin/env bash
# Benchmark: time from a magnet link to the metadata and to the first verified byte, on
# loopback, from a python3-libtorrent seeder given as the only peer (x.pe): our `get`
# against libtorrent's own magnet leecher, interleaved, RUNS times each, medians.
#   usage: scripts/bench_magnet.sh [SIZE_MIB=64] [RUNS=5]
set -euo pipefail
size_mib=${1:-64}
runs=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/swarmd-bench-magnet}
mkdir -p "$work"
payload="$work/payload-${size_mib}m.bin"
[ -f "$payload" ] || head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$payload"
torrent="$work/payload-${size_mib}m.torrent"
[ -f "$torrent" ] || deno run -A "$here/mod.ts" create "$payload" -o "$torrent" --no-date >/dev/null
hash=$(deno run -A "$here/mod.ts" info "$torrent" --json | python3 -c 'import sys,json; print(json.load(sys.stdin)["infoHash"])')
/usr/bin/python3 "$here/scripts/interop/lt_peer.py" --torrent "$torrent" --save "$work" \
  --listen 127.0.0.2:0 --seed-mode --timeout 3600 > "$work/seeder.log" 2>&1 &
seeder=$!
trap 'kill $seeder 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$work/seeder.log" && break; sleep 0.1; done
port=$(grep -o '"port": [0-9]*' "$work/seeder.log" | head -1 | grep -o '[0-9]*$')
magnet="magnet:?xt=urn:btih:$hash&x.pe=127.0.0.2:$port"
echo "seeder 127.0.0.2:$port; $size_mib MiB; $runs runs each"
: > "$work/results.txt"
for i in $(seq 1 "$runs"); do
  rm -rf "$work/dl-ours" "$work/dl-lt"
  # Ours: timestamps of the JSON events from "torrent-added" (the torrent exists; process
  # start-up excluded), as libtorrent's are from add_torrent.
  deno run -A "$here/mod.ts" get "$magnet" -o "$work/dl-ours" --port 0 --host 127.0.0.3 \
    --allow-local-peers --no-dht --json | python3 -c '
import sys, json, time
t0 = time.time(); meta = first = None
for line in sys.stdin:
    e = json.loads(line)
    if e["type"] == "torrent-added": t0 = time.time()
    if e["type"] == "metadata-received" and meta is None: meta = time.time() - t0
    if e["type"] == "piece-verified" and first is None: first = time.time() - t0
print("swarmd metadata=%.3f first=%.3f" % (meta, first))' | tee -a "$work/results.txt"
  /usr/bin/python3 "$here/scripts/interop/lt_peer.py" --torrent "$torrent" --magnet \
    --save "$work/dl-lt" --listen 127.0.0.4:0 --peer "127.0.0.2:$port" --exit-when-complete \
    --timeout 300 | python3 -c '
import sys, json
meta = first = None
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "metadata": meta = e["seconds"]
    if e["event"] == "first-byte": first = e["seconds"]
print("libtorrent metadata=%.3f first=%.3f" % (meta, first))' | tee -a "$work/results.txt"
done
echo "--- medians (seconds)"
for name in swarmd libtorrent; do
  grep "^$name " "$work/results.txt" | python3 -c '
import sys, statistics
rows = [dict(kv.split("=") for kv in l.split()[1:]) for l in sys.stdin]
print(sys.argv[1], "metadata %.3f first byte %.3f" % (
  statistics.median(float(r["metadata"]) for r in rows),
  statistics.median(float(r["first"]) for r in rows)))' "$name"
done
