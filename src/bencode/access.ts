/**
 * Typed accessors over decoded bencode, for codecs that validate remote input.
 *
 * Each getter returns `undefined` when the key is missing and throws a `TypeError`
 * naming the field when it is present with the wrong type, so callers can turn it
 * into their own domain error.
 *
 * Layer: core (no I/O).
 * @module
 */
import type { BencodeDict, BencodeValue } from "./decode.ts";
import { fromUtf8 } from "../util/bytes.ts";

/** True when `value` is a decoded dictionary. */
export function isDict(value: BencodeValue | undefined): value is BencodeDict {
  return value instanceof Map;
}

/** True when `value` is a decoded list. */
export function isList(value: BencodeValue | undefined): value is BencodeValue[] {
  return Array.isArray(value);
}

/** True when `value` is a decoded byte string. */
export function isBytes(value: BencodeValue | undefined): value is Uint8Array {
  return value instanceof Uint8Array;
}

function wrong(field: string, expected: string): never {
  throw new TypeError(`Field "${field}" is not ${expected}`);
}

/**
 * The integer at `key`.
 * @param dict the dictionary
 * @param key the key (latin1)
 * @returns the integer, or `undefined` when missing
 * @throws {TypeError} when present but not an integer
 */
export function getInt(dict: BencodeDict, key: string): number | undefined {
  const v = dict.get(key);
  if (v === undefined) return undefined;
  return typeof v === "number" ? v : wrong(key, "an integer");
}

/**
 * The byte string at `key`.
 * @param dict the dictionary
 * @param key the key
 * @returns the bytes, or `undefined` when missing
 * @throws {TypeError} when present but not a byte string
 */
export function getBytes(dict: BencodeDict, key: string): Uint8Array | undefined {
  const v = dict.get(key);
  if (v === undefined) return undefined;
  return v instanceof Uint8Array ? v : wrong(key, "a byte string");
}

/**
 * The byte string at `key`, decoded as UTF-8 (invalid sequences replaced).
 * @param dict the dictionary
 * @param key the key
 * @returns the text, or `undefined` when missing
 * @throws {TypeError} when present but not a byte string
 */
export function getText(dict: BencodeDict, key: string): string | undefined {
  const v = getBytes(dict, key);
  return v === undefined ? undefined : fromUtf8(v);
}

/**
 * The list at `key`.
 * @param dict the dictionary
 * @param key the key
 * @returns the list, or `undefined` when missing
 * @throws {TypeError} when present but not a list
 */
export function getList(dict: BencodeDict, key: string): BencodeValue[] | undefined {
  const v = dict.get(key);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : wrong(key, "a list");
}

/**
 * The dictionary at `key`.
 * @param dict the dictionary
 * @param key the key
 * @returns the dictionary, or `undefined` when missing
 * @throws {TypeError} when present but not a dictionary
 */
export function getDict(dict: BencodeDict, key: string): BencodeDict | undefined {
  const v = dict.get(key);
  if (v === undefined) return undefined;
  return v instanceof Map ? v : wrong(key, "a dictionary");
}
