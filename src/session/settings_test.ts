import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { DEFAULT_SETTINGS, validateSettings } from "./settings.ts";

Deno.test("validateSettings() accepts the defaults and rejects a non-positive hostile-peer limit", () => {
  assertEquals(validateSettings({}), DEFAULT_SETTINGS);
  for (
    const key of [
      "maxPendingHandshakesPerIp",
      "messageTimeoutMs",
      "minMessageBytesPerSecond",
      "maxSendQueueBytes",
      "maxMetadataRepliesPerSecond",
      "dhtMaxQueriesPerSecond",
      "dhtMaxStoredPeers",
    ] as const
  ) {
    assertThrows(() => validateSettings({ [key]: 0 }), RangeError, key);
  }
});

Deno.test("validateSettings() keeps the send-queue cap above what a fast peer's watermark allows", () => {
  const mib = 1024 * 1024;
  assertEquals(
    validateSettings({ maxSendBufferBytes: 2 * mib, maxSendQueueBytes: 5 * mib })
      .maxSendQueueBytes,
    5 * mib,
  );
  assertThrows(
    () => validateSettings({ maxSendBufferBytes: 4 * mib, maxSendQueueBytes: 8 * mib }),
    RangeError,
    "maxSendQueueBytes",
  );
});
