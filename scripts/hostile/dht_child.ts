/**
 * A DHT node in its own process, for the hostile-peer benchmark's query flood (its RSS
 * is read from /proc by the parent): loopback addresses allowed, no bootstrap. Prints
 * `{"event":"ready","port":N}`, then its counters every 2 s.
 *
 *   deno run -A --unstable-net scripts/hostile/dht_child.ts [options JSON]
 * @module
 */
import { DhtNode } from "../../src/dht/dht_node.ts";
import { bindUdp } from "../../src/deno/udp.ts";
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../../src/deno/clock.ts";

const socket = await bindUdp({ host: "127.0.0.1", port: 0 });
const node = new DhtNode({
  socket,
  clock: SYSTEM_CLOCK,
  random: SECURE_RANDOM,
  allowLocalAddresses: true,
  bootstrapNodes: [],
  ...JSON.parse(Deno.args[0] ?? "{}"),
});
node.start();
console.log(JSON.stringify({ event: "ready", port: socket.addr.port }));
setInterval(() => {
  const memory = Object.fromEntries(
    Object.entries(Deno.memoryUsage()).map(([k, v]) => [k, Math.round(v / 2 ** 20)]),
  );
  console.log(JSON.stringify({ event: "stats", ...node.stats, memoryMiB: memory }));
}, 2000);
