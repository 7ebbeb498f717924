/**
 * Which HTTP tracker URLs we may request (RELIABILITY M4, M5, TC6): http/https only; a
 * tracker on a loopback or private address must use the path `/announce` (so a torrent
 * cannot aim requests at a local admin page; its BEP 48 scrape path `/scrape` is allowed too); no redirect from a global host to a local
 * one; IDNA (`xn--`) host names refused unless allowed (look-alike hosts).
 *
 * Layer: core (no I/O).
 * @module
 */
import { classifyHost, isLocalHost } from "../util/ip.ts";
import { TrackerFailureError } from "./tracker_errors.ts";

/** Options of the URL policy. */
export interface UrlPolicyOptions {
  /** Test mode: loopback and private trackers may use any path. Default false. */
  readonly allowLocalAnyPath?: boolean;
  /** Accept IDNA (`xn--`) host names. Default false. */
  readonly allowIdna?: boolean;
}

function refuse(url: string, why: string): never {
  throw new TrackerFailureError(`Refused tracker URL "${url}": ${why}`, { permanent: true });
}

function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

/**
 * Checks a URL before an HTTP request to it.
 * @param url the URL text
 * @param options policy switches
 * @returns the parsed URL
 * @throws {TrackerFailureError} (permanent) when the URL is malformed or not allowed
 * @example
 * ```ts
 * import { checkHttpTrackerUrl, TrackerFailureError } from "./mod.ts";
 * import { throws as assertThrows } from "node:assert";
 * checkHttpTrackerUrl("http://127.0.0.1:6969/announce");
 * assertThrows(() => checkHttpTrackerUrl("http://127.0.0.1:8080/admin?x=1"), TrackerFailureError);
 * ```
 */
export function checkHttpTrackerUrl(url: string, options: UrlPolicyOptions = {}): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse(url, "malformed");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    refuse(url, `scheme "${parsed.protocol}"`);
  }
  if (parsed.username || parsed.password) refuse(url, "credentials in URL");
  const host = hostOf(parsed);
  if (!options.allowIdna && /(^|\.)xn--/i.test(host)) refuse(url, "IDNA host name");
  const path = parsed.pathname;
  if (
    isLocalHost(host) && !options.allowLocalAnyPath && path !== "/announce" && path !== "/scrape"
  ) {
    refuse(url, `local tracker (${classifyHost(host)}) must use the path /announce`);
  }
  return parsed;
}

/**
 * Checks a redirect target: http(s) only, the same rules as a first URL, and never from a
 * global (or named) host to a local one.
 * @param from the URL that answered with the redirect
 * @param location the `Location` header
 * @param options policy switches
 * @returns the absolute target URL
 * @throws {TrackerFailureError} (permanent) when the redirect is not allowed
 * @example
 * ```ts
 * import { checkRedirect, TrackerFailureError } from "./mod.ts";
 * import { throws as assertThrows } from "node:assert";
 * assertThrows(() => checkRedirect(new URL("http://t.example/announce"), "http://10.0.0.1/announce"), TrackerFailureError);
 * ```
 */
export function checkRedirect(from: URL, location: string, options: UrlPolicyOptions = {}): URL {
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return refuse(location, "malformed redirect");
  }
  const checked = checkHttpTrackerUrl(target.href, options);
  if (!isLocalHost(hostOf(from)) && isLocalHost(hostOf(checked))) {
    refuse(checked.href, `redirect from "${from.host}" to a local address`);
  }
  return checked;
}
