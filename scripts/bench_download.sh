#!/usr/bin/env bash
# Benchmark: a 1 GiB download as a user sees it, against libtorrent's own leecher on the same
# seed. Each run is a fresh process timed from its start to its exit (the data verified and on
# disk); the seed (python3-libtorrent) is found through opentracker; our progress goes to a
# file (no --quiet); the two leechers alternate, 5 rounds; min / median / max of wall time,
# CPU time and peak RSS for both. The work is done by scripts/bench_transfer.ts, which also
# has the 256 MiB --peer variant and the upload benchmark:
#   bash scripts/bench_download.sh [SIZE_MIB=1024] [RUNS=5] [more bench_transfer.ts flags]
#   deno run -A scripts/bench_transfer.ts download --via peer --size-mib 256
#   deno run -A scripts/bench_transfer.ts upload --size-mib 1024
# Needs: deno, /usr/bin/python3 with libtorrent, /usr/bin/time, opentracker.
set -euo pipefail
size_mib=${1:-1024}
runs=${2:-5}
shift $(($# > 2 ? 2 : $#))
here=$(cd "$(dirname "$0")/.." && pwd)
exec deno run -A "$here/scripts/bench_transfer.ts" download --size-mib "$size_mib" --rounds "$runs" "$@"
