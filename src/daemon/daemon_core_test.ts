import { assert, assertEquals } from "../../tests/assert.ts";
import { effectiveLimit, planQueue, type QueueEntry, seedingDone } from "./queue.ts";
import { type GuardPolicy, guardRequest, hostAllowed, parseBasicAuth } from "./http_guard.ts";
import { confinePath } from "./paths.ts";
import { args, type RpcError } from "./rpc_args.ts";

/**
 * Entries from a one-line fixture: per torrent `w|f|p` (wanted, forced by start-now, or
 * paused), `c|i` (complete or incomplete), `r|s` (running or stopped).
 */
function entries(fixture: string): QueueEntry[] {
  return fixture.split(" ").map((t, i) => ({
    id: i + 1,
    wanted: t[0] !== "p",
    forced: t[0] === "f",
    complete: t[1] === "c",
    running: t[2] === "r",
    position: i,
  }));
}

Deno.test("planQueue() runs wanted torrents in queue order up to each limit", () => {
  const cases: [string, number, number, number[], number[]][] = [
    ["wis wis wis", 2, 5, [1, 2], []],
    ["wir wir wis", 1, 5, [], [2]],
    ["pir wis wcs wcs", 5, 1, [2, 3], [1]],
    ["wcr wcr wis", 0, 1, [], [2]],
    ["wis wis", Infinity, Infinity, [1, 2], []],
    ["wir fir wis", 1, 1, [], []],
    ["fis wis", 1, 1, [1, 2], []],
  ];
  for (const [fixture, downloads, seeds, start, stop] of cases) {
    assertEquals(planQueue(entries(fixture), { downloads, seeds }), { start, stop }, fixture);
  }
});

Deno.test("seedingDone() and effectiveLimit() follow Transmission's modes", () => {
  assertEquals(effectiveLimit(0, 5, 2), 2);
  assertEquals(effectiveLimit(0, 5, undefined), undefined);
  assertEquals(effectiveLimit(1, 5, 2), 5);
  assertEquals(effectiveLimit(2, 5, 2), undefined);
  assert(seedingDone({ ratio: 2, idleMinutes: 0, ratioLimit: 2, idleLimit: undefined }));
  assert(!seedingDone({ ratio: 1.9, idleMinutes: 29, ratioLimit: 2, idleLimit: 30 }));
  assert(seedingDone({ ratio: 0, idleMinutes: 30, ratioLimit: undefined, idleLimit: 30 }));
});

const POLICY: GuardPolicy = {
  hostWhitelist: ["box.lan", "*.example.org"],
  hostWhitelistEnabled: true,
  sessionId: "sid",
};

Deno.test("hostAllowed() takes localhost, IP literals and whitelisted names only (DNS rebinding)", () => {
  const cases: [string | undefined, boolean][] = [
    ["localhost:9091", true],
    ["localhost.", true],
    ["127.0.0.1:9091", true],
    ["[::1]:9091", true],
    ["192.168.1.20", true],
    ["box.lan:9091", true],
    ["a.example.org", true],
    ["a.b.example.org", false],
    ["attacker.example", false],
    ["127.0.0.1.attacker.example", false],
    [undefined, false],
  ];
  for (const [host, ok] of cases) assertEquals(hostAllowed(host, POLICY), ok, String(host));
});

Deno.test("guardRequest(): host, then credentials, then the session id", () => {
  const headers = (h: Record<string, string>) => new Headers(h);
  assertEquals(guardRequest(headers({ host: "evil.test" }), POLICY)?.status, 421);
  assertEquals(guardRequest(headers({ host: "localhost" }), POLICY)?.status, 409);
  assertEquals(
    guardRequest(headers({ host: "localhost" }), POLICY)?.headers["X-Transmission-Session-Id"],
    "sid",
  );
  assertEquals(
    guardRequest(headers({ host: "localhost", "x-transmission-session-id": "sid" }), POLICY),
    undefined,
  );
  assertEquals(guardRequest(headers({ host: "localhost" }), POLICY, false), undefined);
  const auth = {
    ...POLICY,
    checkCredentials: (u: string, p: string) => u === "me" && p === "pw:1",
  };
  assertEquals(
    guardRequest(headers({ host: "localhost", "x-transmission-session-id": "sid" }), auth)?.status,
    401,
  );
  const good = {
    host: "localhost",
    "x-transmission-session-id": "sid",
    authorization: `Basic ${btoa("me:pw:1")}`,
  };
  assertEquals(guardRequest(headers(good), auth), undefined);
  assertEquals(parseBasicAuth(`Basic ${btoa("a:b:c")}`), { user: "a", password: "b:c" });
  assertEquals(parseBasicAuth("Bearer x"), undefined);
  assertEquals(parseBasicAuth("Basic !!!"), undefined);
});

Deno.test("confinePath() keeps request paths inside the configured roots", () => {
  const roots = ["/srv/dl", "/srv/media"];
  const cases: [string, string | undefined][] = [
    ["/srv/dl", "/srv/dl"],
    ["/srv/dl/", "/srv/dl"],
    ["/srv/dl/a/b", "/srv/dl/a/b"],
    ["/srv/media/x", "/srv/media/x"],
    ["sub/dir", "/srv/dl/sub/dir"],
    ["/srv/dl/../etc", undefined],
    ["/srv/dl2", undefined],
    ["../x", undefined],
    ["/etc/passwd", undefined],
    ["", undefined],
    ["/srv/dl/\0x", undefined],
  ];
  for (const [path, want] of cases) assertEquals(confinePath(path, roots), want, path);
});

Deno.test("rpc args: typed getters name the method and key; unknown keys are refused", () => {
  const a = args("torrent-set", { ids: [1, "ab"], uploadLimit: 10, uploadLimited: 1, extra: true });
  assertEquals(a.ids(), [1, "ab"]);
  assertEquals(a.number("uploadLimit", 0), 10);
  assertEquals(a.bool("uploadLimited"), true);
  let message = "";
  try {
    a.checkAllUsed();
  } catch (e) {
    message = (e as RpcError).message;
  }
  assertEquals(message, "torrent-set: argument(s) not supported: extra");
  const bad = args("torrent-get", { fields: "name", ids: { x: 1 } });
  assert(
    throws(() => bad.stringArray("fields", true)).includes('"fields" must be an array of strings'),
  );
  assert(throws(() => bad.ids()).includes('"ids"'));
  assert(throws(() => args("x", { n: -1 }).number("n", 0)).includes("at least 0"));
});

function throws(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}
