/**
 * Our UDP and HTTP tracker clients on real loopback sockets, with test-speed retransmission
 * and timeouts, for tests that announce to a real tracker process (ours or opentracker).
 * @module
 */
import { SECURE_RANDOM, SYSTEM_CLOCK } from "../src/deno/clock.ts";
import { DenoHttpFetcher } from "../src/deno/http.ts";
import { bindUdp } from "../src/deno/udp.ts";
import { HttpTrackerClient } from "../src/tracker/http_client.ts";
import { UdpTrackerClient } from "../src/tracker/udp_client.ts";

/**
 * A UDP client (IPv4, 500 ms base, 3 retransmissions) and an HTTP client; close `udp` after.
 * @param httpTimeoutMs the HTTP request timeout
 * @returns both clients
 */
export async function trackerClients(
  httpTimeoutMs = 5000,
): Promise<{ udp: UdpTrackerClient; http: HttpTrackerClient }> {
  const udp = await udpTrackerClient("127.0.0.1", 500);
  const http = new HttpTrackerClient({ fetcher: new DenoHttpFetcher(), timeoutMs: httpTimeoutMs });
  return { udp, http };
}

/**
 * A UDP tracker client on a fresh loopback socket (3 retransmissions); close it after.
 * @param host the local address to bind (`127.0.0.1`, `::1`)
 * @param retransmitBaseMs the first retransmission delay
 * @returns the client
 */
export async function udpTrackerClient(
  host: string,
  retransmitBaseMs: number,
): Promise<UdpTrackerClient> {
  return new UdpTrackerClient({
    socket: await bindUdp({ host, port: 0 }),
    clock: SYSTEM_CLOCK,
    random: SECURE_RANDOM,
    retransmitBaseMs,
    maxRetransmits: 3,
  });
}
