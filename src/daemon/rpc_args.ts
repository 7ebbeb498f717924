/**
 * Typed access to an RPC request's `arguments`: each getter checks the type and range and
 * throws an {@linkcode RpcError} naming the method and the key; `checkAllUsed` refuses
 * keys a method does not know (for the mutators, so nothing is silently dropped).
 *
 * Layer: core (pure).
 * @module
 */

/** A bad request: its message becomes the response's `result`. */
export class RpcError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "RpcError";
  }
}

/** Checked getters over one request's arguments. */
export interface Args {
  /** The `ids` argument: undefined (all), a number, `"recently-active"`, or ids and hashes. */
  ids(): unknown;
  /** A string argument. */
  string(key: string, required?: boolean): string | undefined;
  /** A boolean argument. */
  bool(key: string): boolean | undefined;
  /** A finite number argument, at least `min`. */
  number(key: string, min?: number): number | undefined;
  /** A limit mode: 0, 1 or 2. */
  mode(key: string): 0 | 1 | 2 | undefined;
  /** An array of non-negative integers. */
  intArray(key: string): number[] | undefined;
  /** An array of strings. */
  stringArray(key: string, required?: boolean): string[] | undefined;
  /** Keys the method accepts without effect. */
  ignore(...keys: string[]): void;
  /** Keys no getter read yet. */
  unused(): string[];
  /** The raw value of `key` (for comparisons). */
  raw(key: string): unknown;
  /** Throws for any key no getter read. */
  checkAllUsed(): void;
}

/**
 * Wraps `raw` arguments of `method`.
 * @param method the method name, for messages
 * @param raw the `arguments` object
 * @returns the getters
 */
export function args(method: string, raw: object): Args {
  const a = raw as Record<string, unknown>;
  const used = new Set<string>();
  const get = (key: string): unknown => {
    used.add(key);
    return Object.hasOwn(a, key) ? a[key] : undefined;
  };
  const bad = (key: string, want: string) =>
    new RpcError(`${method}: argument "${key}" must be ${want}`);
  return {
    ids() {
      const v = get("ids");
      if (v === undefined || v === "recently-active") return v;
      if (typeof v === "number" && Number.isSafeInteger(v)) return v;
      if (typeof v === "string") return [v];
      const ok = Array.isArray(v) && v.length <= 100_000 &&
        v.every((x) => (typeof x === "number" && Number.isSafeInteger(x)) || typeof x === "string");
      if (!ok) throw bad("ids", 'an id, an array of ids and hash strings, or "recently-active"');
      return v;
    },
    string(key, required = false) {
      const v = get(key);
      if (v === undefined && !required) return undefined;
      if (typeof v !== "string" || v.length > 64 * 1024) throw bad(key, "a string");
      return v;
    },
    bool(key) {
      const v = get(key);
      if (v === undefined) return undefined;
      if (typeof v === "boolean") return v;
      if (v === 0 || v === 1) return v === 1; // older clients send 0/1
      throw bad(key, "a boolean");
    },
    number(key, min = -Infinity) {
      const v = get(key);
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
        throw bad(key, `a number of at least ${min}`);
      }
      return v;
    },
    mode(key) {
      const v = get(key);
      if (v === undefined) return undefined;
      if (v !== 0 && v !== 1 && v !== 2) throw bad(key, "0, 1 or 2");
      return v;
    },
    intArray(key) {
      const v = get(key);
      if (v === undefined) return undefined;
      const ok = Array.isArray(v) && v.length <= 1_000_000 &&
        v.every((x) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0);
      if (!ok) throw bad(key, "an array of file indices");
      return v as number[];
    },
    stringArray(key, required = false) {
      const v = get(key);
      if (v === undefined && !required) return undefined;
      const ok = Array.isArray(v) && v.length <= 10_000 && v.every((x) => typeof x === "string");
      if (!ok) throw bad(key, "an array of strings");
      return v as string[];
    },
    ignore(...keys) {
      for (const k of keys) used.add(k);
    },
    unused() {
      return Object.keys(a).filter((k) => !used.has(k));
    },
    raw(key) {
      return Object.hasOwn(a, key) ? a[key] : undefined;
    },
    checkAllUsed() {
      const extra = Object.keys(a).filter((k) => !used.has(k));
      if (extra.length > 0) {
        throw new RpcError(`${method}: argument(s) not supported: ${extra.join(", ")}`);
      }
    },
  };
}
