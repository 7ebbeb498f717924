# Sourced by the loopback benchmarks against python3-libtorrent (bench_encryption.sh,
# bench_utp_engine.sh) after they set size_mib and bench_name: a temp dir `work` (removed
# on exit, with every process in `pids` killed), a random payload of size_mib MiB and its
# torrent (1 MiB pieces), `lt` (the command of a libtorrent
# peer on that torrent) and `start_lt_seeder`.
# Sets: here, work, pids, payload, torrent, lt.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "/tmp/swarmd-bench-$bench_name.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
payload="$work/payload.bin"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$payload"
torrent="$work/payload.torrent"
deno run -A "$here/mod.ts" create "$payload" -o "$torrent" --piece-length 1048576 >/dev/null

# A libtorrent peer on the payload's torrent: "${lt[@]}" flags... (an array, so that a
# background one's $! is python's own pid)
lt=(/usr/bin/python3 "$here/scripts/interop/lt_peer.py" --torrent "$torrent")

# address, extra flags...: sets seeder_port once the torrent has started. Not in $(...):
# there the pid would go to a subshell's pids, and the seeder would outlive the run.
start_lt_seeder() {
  local addr=$1; shift
  local log="$work/seeder-$addr.log"
  "${lt[@]}" --save "$work" --listen "$addr:0" --seed-mode --timeout 7200 "$@" > "$log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do grep -q '"started"' "$log" 2>/dev/null && break; sleep 0.1; done
  seeder_port=$(grep -o '"port": [0-9]*' "$log" | head -1 | grep -o '[0-9]*$')
}
