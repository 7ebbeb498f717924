import { assertEquals } from "../../tests/assert.ts";
import { PeerList, type PeerSource } from "./peer_list.ts";

function list(allowLocal = false): PeerList {
  return new PeerList({ maxSize: 100, reconnectBaseMs: 1000, allowLocal });
}

Deno.test("PeerList.add() takes a network address only from a source at least as local (EX7, D7)", () => {
  const cases: [string, string, PeerSource, string | undefined, boolean][] = [
    // [what, address, source, via, accepted]
    ["a public peer from a public tracker", "8.8.8.8", "tracker", "1.2.3.4", true],
    ["a LAN peer from a public tracker", "192.168.1.5", "tracker", "1.2.3.4", false],
    ["a loopback peer from a public tracker", "127.0.0.2", "tracker", "1.2.3.4", false],
    ["a loopback peer from a loopback tracker", "127.0.0.2", "tracker", "127.0.0.1", true],
    ["a LAN peer from a loopback DHT node", "192.168.1.5", "dht", "127.0.0.1", true],
    ["a LAN peer from a LAN PEX peer", "10.1.2.3", "pex", "10.0.0.9", true],
    ["a loopback peer from a LAN PEX peer", "127.0.0.1", "pex", "10.0.0.9", false],
    ["a public peer from a LAN PEX peer", "8.8.4.4", "pex", "10.0.0.9", true],
    ["a local peer from an unknown source", "10.1.2.3", "tracker", undefined, false],
    ["a multicast address from anyone", "224.0.0.1", "tracker", "127.0.0.1", false],
    ["the user's own --peer", "127.0.0.9", "manual", undefined, true],
    ["a magnet's x.pe", "192.168.7.7", "magnet", undefined, true],
    ["an incoming peer's listen address", "127.0.0.5", "incoming", undefined, true],
  ];
  for (const [what, host, source, via, accepted] of cases) {
    assertEquals(list().add({ host, port: 6881 }, source, 0, via), accepted, what);
  }
  assertEquals(list(true).add({ host: "10.1.2.3", port: 1 }, "tracker", 0, "1.2.3.4"), true);
  assertEquals(list().add({ host: "8.8.8.8", port: 0 }, "manual", 0), false); // port 0, never
});
