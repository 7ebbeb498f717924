/**
 * Bencode (BEP 3): a decoder with limits checked before allocation, byte-exact keys
 * and raw spans, and an encoder with sorted keys.
 *
 * @example
 * ```ts
 * import { decode, encode } from "./mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bytes = encode({ info: { length: 5 } });
 * const back = decode(bytes) as Map<string, Map<string, number>>;
 * assertEquals(back.get("info")?.get("length"), 5);
 * ```
 * @module
 */
export {
  type BencodeDict,
  type BencodeLimit,
  BencodeLimitError,
  type BencodeLimits,
  BencodeSyntaxError,
  type BencodeValue,
  decode,
  type DecodedWithSpans,
  decodePrefix,
  decodeWithSpans,
  DHT_LIMITS,
  FILE_LIMITS,
  MESSAGE_LIMITS,
} from "./decode.ts";
export { type Encodable, encode } from "./encode.ts";
export { getBytes, getDict, getInt, getList, getText, isBytes, isDict, isList } from "./access.ts";
