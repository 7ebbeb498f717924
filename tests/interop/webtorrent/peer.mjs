// A WebTorrent peer for swarmd's interop tests, run by Node.js with the WebTorrent that
// install.sh put in $WEBTORRENT_DIR. TCP only: no DHT, trackers, LSD, uTP, UPnP/NAT-PMP,
// web seeds or PEX; its listening socket is bound to $WEBTORRENT_HOST (WebTorrent itself
// binds every interface), so nothing leaves 127.0.0.0/8.
//
//   node peer.mjs leech <file.torrent> <dir> <host:port> [secure]
//     downloads into <dir> from the one peer it is given, prints {"done":true,"ms":N}
//     and exits 0 (exit 1 on an error, with {"error":...})
//   node peer.mjs seed <file.torrent> <dir> [secure]
//     checks the data in <dir>, prints {"seeding":true,"port":N} and seeds until killed
//
// secure: WebTorrent's `secure` option, 0 (no MSE/PE), 1 (its default: MSE/PE with a
// plain BitTorrent fallback) or 2 (MSE/PE with RC4 only). Every peer connection is
// printed as {"wire":"host:port","type":...}.
import net from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const host = process.env.WEBTORRENT_HOST ?? "127.0.0.1";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && (args.length === 1 || typeof args[1] === "function")) {
    args.splice(1, 0, host);
  }
  return listen.apply(this, args);
};

const entry = join(process.env.WEBTORRENT_DIR ?? ".", "node_modules", "webtorrent", "index.js");
const { default: WebTorrent } = await import(pathToFileURL(entry).href);

const [mode, torrentFile, dir, ...rest] = process.argv.slice(2);
const peer = mode === "leech" ? rest.shift() : undefined;
const secure = rest[0] === undefined ? undefined : Number(rest[0]);
const print = (value) => console.log(JSON.stringify(value));

const client = new WebTorrent({
  dht: false,
  tracker: false,
  lsd: false,
  utp: false,
  utPex: false,
  natUpnp: false,
  natPmp: false,
  webSeeds: false,
  ...(secure === undefined ? {} : { secure }),
});
client.on("error", (err) => {
  print({ error: String(err?.message ?? err) });
  process.exit(1);
});

const started = performance.now();
client.add(readFileSync(torrentFile), { path: dir }, (torrent) => {
  torrent.on("wire", (wire, addr) => print({ wire: addr, type: wire.type }));
  torrent.on("warning", (err) => print({ warning: String(err?.message ?? err) }));
  if (peer) torrent.addPeer(peer);
  const finished = () => {
    if (mode === "seed") {
      print({ seeding: true, port: client.torrentPort });
      return;
    }
    print({ done: true, ms: Math.round(performance.now() - started) });
    client.destroy(() => process.exit(0));
  };
  if (torrent.done) finished();
  else torrent.once("done", finished);
});
