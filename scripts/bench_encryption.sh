#!/usr/bin/env bash
# Benchmark (issue: MSE/PE): our `get` (a fresh process, default flags, progress to a file)
# downloads the payload from python3-libtorrent seeders on loopback, found as a user finds
# them, through a tracker (Debian's opentracker): one seeder forces RC4 both ways
# (allowed_enc_level rc4), the other has encryption disabled. Each seeds its own torrent of
# the same bytes (a hard link under another name, so another info-hash), so the tracker hands
# each torrent one seeder. The two alternate, ROUNDS rounds; reports wall time, CPU time
# (user+sys) and peak RSS of each run, then min/median/max per kind and the
# encrypted/plaintext ratio of the medians.
# Each row also gives the seeder's CPU time for the run (from /proc): on a 2-core machine the
# seeder's RC4 competes with ours, and that sets the floor of the ratio, printed last: the
# CPU both processes spent on an encrypted run, spread over every core, against the
# plaintext median.
# BENCH_LT=1 adds python3-libtorrent's own leecher (kinds lt-rc4, lt-plaintext, alternating
# with ours, through the same tracker), the same ratio for a native client.
#   usage: scripts/bench_encryption.sh [SIZE_MIB=256] [ROUNDS=5]
# Needs: deno, /usr/bin/python3 with libtorrent, /usr/bin/time, opentracker.
set -euo pipefail
size_mib=${1:-256}
rounds=${2:-5}
bench_name=enc
# shellcheck source=scripts/_bench_lt.sh
source "$(dirname "$0")/_bench_lt.sh"
command -v opentracker >/dev/null || { echo "opentracker not installed"; exit 1; }

# The tracker, on 127.0.0.51 (HTTP and UDP on one port), serving the two torrents only.
tracker_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.51", 0)); print(s.getsockname()[1])')
announce="http://127.0.0.51:$tracker_port/announce"
ln "$payload" "$work/payload-plain.bin"
declare -A torrent_of file_of
for kind in rc4 plaintext; do
  file_of[$kind]=$([[ $kind == rc4 ]] && echo payload.bin || echo payload-plain.bin)
  torrent_of[$kind]="$work/$kind.torrent"
  deno run -A "$here/mod.ts" create "$work/${file_of[$kind]}" -o "${torrent_of[$kind]}" \
    --piece-length 1048576 --tracker "$announce" > /dev/null
done
mkdir -p "$work/opentracker"
for kind in rc4 plaintext; do
  deno run -A "$here/mod.ts" info "${torrent_of[$kind]}" --json |
    sed -E 's/.*"infoHash":"([0-9a-f]+)".*/\1/'
done > "$work/opentracker/whitelist"
opentracker -i 127.0.0.51 -p "$tracker_port" -P "$tracker_port" -d "$work/opentracker" \
  -w whitelist -A 127.0.0.51 > /dev/null 2>&1 &
pids+=("$!")

start_lt_seeder 127.0.0.52 --torrent "${torrent_of[rc4]}" --enc forced --enc-level rc4
rc4_pid=${pids[-1]}
start_lt_seeder 127.0.0.53 --torrent "${torrent_of[plaintext]}" --enc disabled
plain_pid=${pids[-1]}
echo "opentracker $announce; libtorrent seeders: RC4-only on 127.0.0.52, plaintext on" \
  "127.0.0.53; $size_mib MiB; $rounds rounds"

# seeder_cpu PID: user + system CPU seconds the process has used so far.
seeder_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}
declare -A seeder_pid=([rc4]=$rc4_pid [plaintext]=$plain_pid)

results="$work/results.txt"
: > "$results"
measure() { # kind: rc4, plaintext, lt-rc4 or lt-plaintext
  local kind=$1 seeded=${1#lt-} dl="$work/dl-$1" log="$work/time-$1.log" seeder_before
  rm -rf "$dl"
  mkdir -p "$dl"
  seeder_before=$(seeder_cpu "${seeder_pid[$seeded]}")
  if [[ $kind == lt-* ]]; then
    local enc=(--enc disabled)
    [[ $kind == lt-rc4 ]] && enc=(--enc forced --enc-level rc4)
    /usr/bin/time -v "${lt[@]}" --torrent "${torrent_of[$seeded]}" --listen 127.0.0.54:0 \
      --exit-when-complete --timeout 600 --save "$dl" "${enc[@]}" \
      > "$work/progress-$kind.log" 2> "$log" || { echo "$kind failed"; tail -5 "$log"; return 1; }
  else
    /usr/bin/time -v deno run -A "$here/mod.ts" get "${torrent_of[$seeded]}" --port 0 \
      --host 127.0.0.1 --no-dht -o "$dl" > "$work/progress-$kind.log" 2> "$log" ||
      { echo "$kind failed"; tail -5 "$log"; return 1; }
  fi
  cmp -s "$dl/${file_of[$seeded]}" "$payload" || { echo "$kind: data differs"; return 1; }
  local wall user sys rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  user=$(grep "User time" "$log" | awk '{print $NF}')
  sys=$(grep "System time" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$log" | awk '{print $NF}')
  local seeder
  seeder=$(echo "$(seeder_cpu "${seeder_pid[$seeded]}") - $seeder_before" | bc)
  echo "$kind wall=$wall cpu=$(echo "$user + $sys" | bc) rss_mb=$((rss / 1024)) seeder_cpu=$seeder" |
    tee -a "$results"
  rm -rf "$dl"
}
measure plaintext > /dev/null # warm-up
: > "$results"
for _ in $(seq 1 "$rounds"); do
  measure rc4
  measure plaintext
  if [[ ${BENCH_LT:-0} == 1 ]]; then
    measure lt-rc4
    measure lt-plaintext
  fi
done
python3 - "$results" <<'EOF'
import os, statistics, sys
def secs(t):
    return sum(float(p) * 60 ** i for i, p in enumerate(reversed(t.split(":"))))
rows = {}
for line in open(sys.argv[1]):
    kind, *kv = line.split()
    r = dict(x.split("=") for x in kv)
    rows.setdefault(kind, []).append(
        (secs(r["wall"]), float(r["cpu"]), int(r["rss_mb"]), float(r["seeder_cpu"])))
med = {}
for kind, rs in rows.items():
    walls = sorted(r[0] for r in rs)
    med[kind] = statistics.median(walls)
    print(f"{kind:9} wall min/median/max {walls[0]:.2f} / {med[kind]:.2f} / {walls[-1]:.2f} s;"
          f" cpu median {statistics.median(r[1] for r in rs):.2f} s;"
          f" seeder cpu median {statistics.median(r[3] for r in rs):.2f} s;"
          f" peak rss median {statistics.median(r[2] for r in rs)} MB")
print(f"rc4 / plaintext (medians): {med['rc4'] / med['plaintext']:.2f}")
# No run can be shorter than the CPU both processes spend, spread over every core.
cores = os.cpu_count() or 1
need = statistics.median(r[1] + r[3] for r in rows["rc4"])
print(f"rc4 CPU floor: (ours + seeder's, median {need:.2f} s) / {cores} cores = {need / cores:.2f} s,"
      f" {need / cores / med['plaintext']:.2f}x the plaintext median")
if "lt-rc4" in med:
    print(f"libtorrent leecher rc4 / plaintext (medians): {med['lt-rc4'] / med['lt-plaintext']:.2f};"
          f" ours / libtorrent's, rc4: {med['rc4'] / med['lt-rc4']:.2f},"
          f" plaintext: {med['plaintext'] / med['lt-plaintext']:.2f}")
EOF
