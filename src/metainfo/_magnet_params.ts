/**
 * Magnet parameter codecs: `x.pe` peer addresses (BEP 9) and `so` select-only
 * index lists (BEP 53).
 *
 * Layer: core (pure). Private to `src/metainfo/`.
 * @module
 */
import { parseHostPort } from "../util/address.ts";
import { MetainfoError } from "../errors.ts";
import type { PeerAddress } from "../runtime/types.ts";

/** Largest file index `so` may name. */
export const MAX_SELECT_INDEX = 1_000_000;
/** Most indices one `so` may select once its ranges are expanded. */
export const MAX_SELECT_COUNT = 100_000;

/**
 * Parses `host:port` or `[v6]:port`.
 * @param value the decoded parameter
 * @returns the address (IPv6 without brackets), or `undefined` when malformed
 */
export function parsePeer(value: string): PeerAddress | undefined {
  return parseHostPort(value);
}

function badSelect(detail: string): never {
  throw new MetainfoError("so", `Cannot parse magnet link: parameter "so" ${detail}`);
}

function index(text: string): number {
  if (!/^\d{1,7}$/.test(text)) badSelect(`has a bad index "${text.slice(0, 20)}"`);
  const n = Number(text);
  if (n > MAX_SELECT_INDEX) badSelect(`index ${n} exceeds ${MAX_SELECT_INDEX}`);
  return n;
}

/**
 * Parses `0,2,4-6` into sorted unique indices.
 * @param value the decoded parameter
 * @returns the indices, ascending
 * @throws {MetainfoError} field `"so"` on a malformed item, a reversed range, or more than
 *   {@linkcode MAX_SELECT_COUNT} indices
 */
export function parseSelectOnly(value: string): number[] {
  const selected = new Set<number>();
  for (const item of value.split(",")) {
    const dash = item.indexOf("-");
    const first = index(dash < 0 ? item : item.slice(0, dash));
    const last = dash < 0 ? first : index(item.slice(dash + 1));
    if (last < first) badSelect(`has a reversed range "${item}"`);
    if (last - first + 1 > MAX_SELECT_COUNT) badSelect(`selects more than ${MAX_SELECT_COUNT}`);
    for (let i = first; i <= last; i++) {
      selected.add(i);
      if (selected.size > MAX_SELECT_COUNT) badSelect(`selects more than ${MAX_SELECT_COUNT}`);
    }
  }
  return [...selected].sort((a, b) => a - b);
}

/**
 * Formats indices as `so`, folding runs into ranges: `[0, 2, 3, 4]` → `"0,2-4"`.
 * @param indices ascending indices
 * @returns the parameter value
 */
export function formatSelectOnly(indices: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < indices.length) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j]! + 1) j++;
    parts.push(j > i ? `${indices[i]}-${indices[j]}` : `${indices[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}
