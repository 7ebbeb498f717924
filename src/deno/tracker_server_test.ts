import { assertEquals } from "../../tests/assert.ts";
import { HttpTrackerClient } from "../tracker/http_client.ts";
import type { AnnounceParams } from "../tracker/types.ts";
import { DenoHttpFetcher } from "./http.ts";
import { TrackerServer } from "./tracker_server.ts";
import { udpTrackerClient } from "../../tests/tracker_clients.ts";

const HASH = new Uint8Array(20).fill(0x42);

function params(n: number): AnnounceParams {
  return {
    infoHash: HASH,
    peerId: new Uint8Array(20).fill(n),
    port: 7000 + n,
    uploaded: 0,
    downloaded: 0,
    left: n,
    event: "started",
  };
}

Deno.test("TrackerServer serves HTTP and UDP announces on IPv4 and IPv6 (::1)", async () => {
  const server = await TrackerServer.start({
    host: ["127.0.0.1", "::1"],
    httpPort: 0,
    udpPort: 0,
    intervalS: 120,
  });
  const udp4 = await udpTrackerClient("127.0.0.1", 200);
  const udp6 = await udpTrackerClient("::1", 200);
  try {
    const [http4, http6, u4, u6] = server.announceUrls();
    assertEquals(server.announceUrls().length, 4);
    const http = new HttpTrackerClient({ fetcher: new DenoHttpFetcher() });
    const a = await http.announce(http4!, params(1));
    const b = await udp4.announce(u4!, params(2));
    const c = await http.announce(http6!, params(3));
    const d = await udp6.announce(u6!, params(4));
    assertEquals([a.peers, a.intervalS, a.complete, a.incomplete], [[], 120, 0, 1]);
    assertEquals(b.peers, [{ host: "127.0.0.1", port: 7001 }]);
    assertEquals(c.peers.map((p) => p.port).sort(), [7001, 7002]);
    assertEquals(d.peers, [{ host: "::1", port: 7003 }]); // a UDP IPv6 socket gets IPv6 peers
    const scraped = await udp4.scrape(u4!, [HASH]);
    assertEquals([scraped[0]!.complete, scraped[0]!.incomplete], [0, 4]);
    assertEquals(await http.scrape(http4!, [HASH]), scraped);
    const stats = await (await fetch(`${http4!.replace("/announce", "/stats")}?format=json`))
      .json();
    assertEquals([stats.peers, stats.udp_announces, stats.udp_connects], [4, 2, 2]);
  } finally {
    udp4.close();
    udp6.close();
    await server.close();
  }
});
