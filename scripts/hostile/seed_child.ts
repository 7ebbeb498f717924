/**
 * A seeding swarmd in its own process, for the hostile-peer benchmark (its RSS is read
 * from /proc by the parent): a `Client` on 127.0.0.1 seeding one torrent from disk, DHT
 * off, loopback peers allowed. Prints `{"event":"ready","port":N}` once seeding.
 *
 *   deno run -A scripts/hostile/seed_child.ts <file.torrent> <dir> [settings JSON]
 * @module
 */
import { Client } from "../../src/deno/client.ts";

const [torrent, dir, settingsJson] = Deno.args;
if (!torrent || !dir) throw new Error("usage: seed_child.ts <file.torrent> <dir> [settings]");
const client = new Client({
  port: 0,
  host: "127.0.0.1",
  stateDir: null,
  settings: { enableDht: false, allowLocalPeers: true, ...JSON.parse(settingsJson ?? "{}") },
});
await client.ready();
const t = await client.add(torrent, { dir, seed: true });
for (let i = 0; i < 1200 && t.stats().state !== "seeding"; i++) {
  await new Promise((r) => setTimeout(r, 100));
}
console.log(JSON.stringify({ event: "ready", port: client.port, state: t.stats().state }));
// Runs until the parent kills it.
