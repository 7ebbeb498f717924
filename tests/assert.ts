/**
 * Test assertions: `node:assert` strict mode with std-style names, so a later switch
 * to `@std/assert` is a one-line change here.
 * @module
 */
import { strict as nodeAssert } from "node:assert";

/** Asserts `value` is truthy. */
export function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message);
}

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** Deep strict inequality. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

/** Asserts `fn` throws an instance of `ErrorClass` (and a message containing `includes`). */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: abstract new (...args: any[]) => E = Error as unknown as abstract new (
    // deno-lint-ignore no-explicit-any
    ...args: any[]
  ) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ErrorClass)) {
      throw new Error(`Expected ${ErrorClass.name}, got: ${String(e)}`, { cause: e });
    }
    if (includes !== undefined && !e.message.includes(includes)) {
      throw new Error(`Expected message containing "${includes}", got: "${e.message}"`);
    }
    return e;
  }
  throw new Error(`Expected ${ErrorClass.name} to be thrown`);
}

/** Async version of {@linkcode assertThrows}. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: abstract new (...args: any[]) => E = Error as unknown as abstract new (
    // deno-lint-ignore no-explicit-any
    ...args: any[]
  ) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof ErrorClass)) {
      throw new Error(`Expected ${ErrorClass.name}, got: ${String(e)}`, { cause: e });
    }
    if (includes !== undefined && !e.message.includes(includes)) {
      throw new Error(`Expected message containing "${includes}", got: "${e.message}"`);
    }
    return e;
  }
  throw new Error(`Expected ${ErrorClass.name} to be rejected`);
}
