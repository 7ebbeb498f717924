import { assert, assertEquals } from "../../tests/assert.ts";
import { trackerCommand } from "./tracker_command.ts";

function capture() {
  const out: string[] = [], err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) },
  };
}

Deno.test("trackerCommand() rejects bad flags with one line and exit code 2", async () => {
  const cases: [string[], string][] = [
    [["--bogus"], "Unknown option"],
    [["--http-port", "70000"], "--http-port must be a port number"],
    [["--udp-port", "-1"], "--udp-port"],
    [["--allow", "abc"], "--allow needs 40 hex digits"],
    [["--interval", "0"], "--interval must be an integer ≥ 60"],
    // `--interval 10` once made the tracker drop a live seeder after 20 s: no client
    // announces more often than once a minute, so such an interval is refused.
    [["--interval", "10"], "clients wait at least 60 s between announces"],
    [["--interval", "100000"], "--interval must be at most 86400"],
    [["--max-swarms", "0"], "--max-swarms must be an integer ≥ 1"],
    [["--max-http-connections", "many"], "--max-http-connections must be an integer"],
    [["--header-timeout", "0"], "--header-timeout must be 0.001..3600 seconds"],
    [["extra"], "positional"],
  ];
  for (const [args, message] of cases) {
    const { err, io } = capture();
    assertEquals(await trackerCommand(args, io), 2, args.join(" "));
    assertEquals(err.length, 1);
    assert(err[0]!.startsWith("tracker: ") && err[0]!.includes(message), err[0]);
  }
});

Deno.test("trackerCommand() prints its addresses, serves until stopped, then exits 0", async () => {
  const { out, io } = capture();
  const abort = new AbortController();
  const running = trackerCommand(
    [
      "--host",
      "127.0.0.1",
      "--http-port",
      "0",
      "--udp-port",
      "0",
      "--allow",
      "ab".repeat(20),
      "--interval",
      "600",
    ],
    io,
    { signal: abort.signal },
  );
  for (let i = 0; i < 1000 && out.length < 3; i++) await new Promise((r) => setTimeout(r, 0));
  const http = out.find((l) => l.startsWith("tracker listening on http://"))!.split(" ").at(-1)!;
  assert(
    out.some((l) => /^tracker listening on udp:\/\/127\.0\.0\.1:\d+\/announce$/.test(l)),
    out.join("\n"),
  );
  const body =
    await (await fetch(`${http}?info_hash=${"%00".repeat(20)}&peer_id=${"x".repeat(20)}&port=1`))
      .text();
  assert(body.includes("not authorized"), body);
  abort.abort();
  assertEquals(await running, 0);
  assertEquals(out.at(-1), "tracker stopped");
});

Deno.test("trackerCommand() reports a taken port with exit code 1", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { err, io } = capture();
    const code = await trackerCommand([
      "--host",
      "127.0.0.1",
      "--http-port",
      String(listener.addr.port),
      "--udp-port",
      "0",
    ], io);
    assertEquals(code, 1);
    assert(err[0]!.startsWith("tracker: cannot listen"), err[0]);
  } finally {
    listener.close();
  }
});
