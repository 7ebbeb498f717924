/**
 * Reads an HTTP body with a byte cap (RELIABILITY rule 1): chunks are counted as they
 * arrive and the stream is cancelled as soon as the total passes the cap, so a peer can
 * never make us buffer more than `maxBytes` plus one chunk.
 *
 * Layer: platform.
 * @module
 */
import { concatBytes } from "../util/bytes.ts";

/**
 * Reads `body` whole unless it is longer than `maxBytes`.
 * @param body the stream (`null` reads as empty)
 * @param maxBytes the cap
 * @returns the bytes, or `undefined` when the cap was passed (the stream is cancelled)
 */
export async function readStreamCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {/* already errored or aborted */});
      return undefined;
    }
    parts.push(value);
  }
  return concatBytes(parts);
}
