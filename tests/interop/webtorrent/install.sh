#!/usr/bin/env bash
# Installs the pinned WebTorrent (package.json, package-lock.json) for swarmd's interop
# tests into a cache outside the source tree:
#   ${SWARMD_WEBTORRENT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/swarmd-interop/webtorrent}
# `npm ci` from the lockfile, without optional packages (utp-native) and without install
# scripts (nothing native is built or downloaded; webrtc-polyfill is a local stub, since
# the tests use TCP peers only). Needs Node.js and the npm registry; bounded to 5 minutes.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=${SWARMD_WEBTORRENT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/swarmd-interop/webtorrent}
mkdir -p "$DEST"
rm -rf "$DEST/webrtc-stub" "$DEST/installed.json"
cp -r "$HERE/webrtc-stub" "$DEST/"
cp "$HERE/package.json" "$HERE/package-lock.json" "$DEST/"
cd "$DEST"
timeout 300 npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error
# Last: the tests take an installed.json equal to the repository's package.json as the
# sign that this version is installed.
cp "$HERE/package.json" "$DEST/installed.json"
node --input-type=module -e \
  "const m = await import('webtorrent'); console.log('webtorrent', m.default.VERSION, 'in', process.cwd())"
