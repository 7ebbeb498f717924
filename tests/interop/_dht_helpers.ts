/**
 * Drives python3-libtorrent DHT nodes for the DHT interop tests: one child process
 * speaking JSON lines on stdout and taking commands on stdin. Every wait is bounded
 * and `stop()` kills the child (INTEROP.md habits).
 * @module
 */
import { PYTHON } from "./_harness.ts";

/** The Python side. `announcer` and `seeker` modes; see the comments inside. */
export const LT_DHT_SCRIPT = String.raw`
import json, select, sys, time
import libtorrent as lt

def out(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()

def session(ip, bootstrap):
    # INTEROP.md: loopback settings that matter for libtorrent's DHT
    return lt.session({
        "listen_interfaces": ip + ":0", "outgoing_interfaces": ip, "enable_dht": True,
        "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "dht_bootstrap_nodes": bootstrap,
        "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
        "dht_ignore_dark_internet": False, "dht_prefer_verified_node_ids": False,
        "allow_multiple_connections_per_ip": True, "ssrf_mitigation": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "dht_announce_interval": 5,
        "alert_mask": lt.alert.category_t.all_categories,
    })

def stdin_lines(timeout):
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    if not ready:
        return []
    line = sys.stdin.readline()
    if line == "":
        raise SystemExit(0)  # the test closed stdin: stop
    return [line.strip()]

mode, deadline = sys.argv[1], time.time() + float(sys.argv[2])
ih = lt.sha1_hash(bytes.fromhex(sys.argv[3]))

if mode == "announcer":
    # A = a plain DHT node (our bootstrap); B adds the info-hash as a magnet, so it
    # announces itself to A (the bindings cannot call dht_announce directly).
    a = session(sys.argv[4], "")
    pa = a.listen_port()
    b = session(sys.argv[5], sys.argv[4] + ":" + str(pa))
    pb = b.listen_port()
    atp = lt.add_torrent_params()
    atp.info_hashes = lt.info_hash_t(ih)
    atp.save_path = sys.argv[6]
    b.add_torrent(atp)
    stored = False
    while time.time() < deadline:
        a.wait_for_alert(100)
        for x in a.pop_alerts():
            if isinstance(x, lt.dht_announce_alert) and not stored:
                stored = True
                out(event="ready", router=sys.argv[4] + ":" + str(pa), peer=sys.argv[5] + ":" + str(pb))
        b.pop_alerts()
        if stored:
            stdin_lines(0.1)
    out(event="timeout")
else:
    # C bootstraps from our node only; on "lookup" it runs dht_get_peers every 2 s and
    # prints every peer that replies carry.
    c = session(sys.argv[4], sys.argv[5])
    out(event="started", port=c.listen_port())
    looking, next_query = False, 0
    while time.time() < deadline:
        for line in stdin_lines(0.1):
            looking = looking or line == "lookup"
        if looking and time.time() > next_query:
            c.dht_get_peers(ih)
            next_query = time.time() + 2
        for x in c.pop_alerts():
            if isinstance(x, lt.dht_get_peers_reply_alert):
                out(event="peers", peers=[p[0] + ":" + str(p[1]) for p in x.peers()])
    out(event="timeout")
`;

/** One JSON line from the script. */
export type LtEvent = Record<string, unknown> & { event: string };

/** A running libtorrent DHT script. */
export class LtDhtProcess {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #events: LtEvent[] = [];
  #waiters: (() => void)[] = [];
  #stderr: Promise<string>;
  #reading: Promise<void>;
  #ended = false;

  /**
   * Starts the script.
   * @param args `mode timeoutS infoHashHex ...`
   */
  constructor(args: readonly string[]) {
    this.#child = new Deno.Command(PYTHON, {
      args: ["-c", LT_DHT_SCRIPT, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#stderr = new Response(this.#child.stderr).text();
    this.#reading = this.#read();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of this.#child.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.#events.push(JSON.parse(line));
        } catch {
          this.#events.push({ event: "text", line }); // kept for diagnostics
        }
        this.#wake();
      }
    }
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /**
   * Waits for the first event (old or new) matching `match`.
   * @param match predicate
   * @param timeoutMs bound on the wait
   * @returns the event
   * @throws {Error} on timeout or when the script exits first (with its output)
   */
  async waitFor(match: (e: LtEvent) => boolean, timeoutMs: number): Promise<LtEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.#events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (this.#ended || left <= 0) {
        const err = await Promise.race([this.#stderr, Promise.resolve("")]);
        throw new Error(
          `libtorrent DHT script: no matching event in ${timeoutMs} ms; got ${
            JSON.stringify(this.#events.slice(-10))
          } ${err.slice(-2000)}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /**
   * Sends one command line.
   * @param line the command
   */
  async send(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(`${line}\n`));
  }

  /** Closes stdin, kills the process and waits for it. */
  async stop(): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // already closed: the process may have exited on its own
    }
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already exited: nothing to kill
    }
    await this.#child.status;
    await this.#reading;
    await this.#stderr;
  }
}
