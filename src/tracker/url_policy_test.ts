import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { TrackerFailureError } from "./tracker_errors.ts";
import { checkHttpTrackerUrl, checkRedirect } from "./url_policy.ts";

Deno.test("checkHttpTrackerUrl() applies the SSRF rule (M4, M5)", () => {
  const cases: [string, string | undefined][] = [
    ["http://tracker.example/announce?pk=1", undefined],
    ["https://tracker.example:8443/x/announce.php", undefined],
    ["http://127.0.0.1:6969/announce", undefined],
    ["http://[::1]:6969/scrape", undefined],
    ["http://127.0.0.1:8080/admin?x=1", "must use the path /announce"],
    ["http://192.168.1.1/cgi-bin/reboot", "must use the path /announce"],
    ["http://localhost/x", "must use the path /announce"],
    ["file:///etc/passwd", `scheme "file:"`],
    ["udp://t:1", `scheme "udp:"`],
    ["http://user:pw@t/announce", "credentials"],
    ["http://xn--80ak6aa92e.com/announce", "IDNA"],
    ["not a url", "malformed"],
  ];
  for (const [url, refusal] of cases) {
    if (refusal === undefined) checkHttpTrackerUrl(url);
    else {
      const e = assertThrows(() => checkHttpTrackerUrl(url), TrackerFailureError, refusal);
      assertEquals(e.permanent, true);
    }
  }
  checkHttpTrackerUrl("http://127.0.0.1:8080/admin", { allowLocalAnyPath: true });
  checkHttpTrackerUrl("http://xn--80ak6aa92e.com/announce", { allowIdna: true });
});

Deno.test("checkRedirect() refuses global → local and non-http targets (TC6)", () => {
  const global = new URL("http://tracker.example/announce");
  const local = new URL("http://127.0.0.1/announce");
  assertEquals(checkRedirect(global, "/other").href, "http://tracker.example/other");
  assertEquals(
    checkRedirect(global, "https://mirror.example/announce").href,
    "https://mirror.example/announce",
  );
  assertThrows(
    () => checkRedirect(global, "http://10.0.0.1/announce"),
    TrackerFailureError,
    "to a local address",
  );
  assertThrows(
    () => checkRedirect(global, "http://localhost/announce"),
    TrackerFailureError,
    "to a local address",
  );
  assertThrows(() => checkRedirect(global, "file:///etc/passwd"), TrackerFailureError, "scheme");
  assertEquals(checkRedirect(local, "http://127.0.0.2/announce").href, "http://127.0.0.2/announce");
});
