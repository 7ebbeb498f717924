/**
 * The RPC's HTTP checks, in the order Transmission makes them (docs/rpc-spec.md 2.3):
 * the Host header against a whitelist (DNS rebinding, RELIABILITY C1), HTTP basic
 * authentication, then the `X-Transmission-Session-Id` (CSRF: a page on another origin can
 * neither read the id from a 409 nor send the header without a CORS preflight we never
 * answer). Request bodies are capped before they are read.
 *
 * Layer: core (pure: the credential check is injected).
 * @module
 */

/** Largest RPC request body: a 10 MiB `.torrent` in base64, plus the JSON around it. */
export const MAX_RPC_BODY_BYTES = 16 * 1024 * 1024;

/** The header carrying the CSRF token. */
export const SESSION_ID_HEADER = "X-Transmission-Session-Id";

/** What the guard needs to know. */
export interface GuardPolicy {
  /** Host names (lower case; `*` wildcards) allowed besides localhost and IP literals. */
  readonly hostWhitelist: readonly string[];
  /** When false, any Host is accepted (an operator's choice; loopback binds keep it on). */
  readonly hostWhitelistEnabled: boolean;
  /** Checks `user:password` from basic auth; undefined when no authentication is set. */
  readonly checkCredentials?: (user: string, password: string) => boolean;
  /** The current session id. */
  readonly sessionId: string;
}

/** A refusal: status, headers and a short text body. */
export interface GuardRefusal {
  /** HTTP status. */
  readonly status: number;
  /** Response headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Plain-text explanation. */
  readonly body: string;
}

/**
 * Whether a `Host` header names this server acceptably: `localhost`, an IP literal, or a
 * whitelisted name (port stripped).
 * @param host the Host header (undefined when absent)
 * @param policy the whitelist
 * @returns true when allowed
 */
export function hostAllowed(host: string | undefined, policy: GuardPolicy): boolean {
  if (!policy.hostWhitelistEnabled) return true;
  if (!host) return false;
  const name = stripPort(host.trim().toLowerCase());
  if (name === "localhost" || name === "localhost." || isIpLiteral(name)) return true;
  return policy.hostWhitelist.some((pattern) => matches(pattern.toLowerCase(), name));
}

/**
 * Checks one RPC request's headers.
 * @param headers a header getter (case-insensitive names)
 * @param policy whitelist, credentials and session id
 * @param checkSession false for routes that need no CSRF token (the web UI's files)
 * @returns undefined when it may proceed, else the response to send
 */
export function guardRequest(
  headers: { get(name: string): string | null },
  policy: GuardPolicy,
  checkSession = true,
): GuardRefusal | undefined {
  if (!hostAllowed(headers.get("host") ?? undefined, policy)) {
    return {
      status: 421,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: "Unauthorized host: the Host header is not in the RPC host whitelist",
    };
  }
  if (policy.checkCredentials) {
    const creds = parseBasicAuth(headers.get("authorization"));
    if (!creds || !policy.checkCredentials(creds.user, creds.password)) {
      return {
        status: 401,
        headers: {
          "www-authenticate": 'Basic realm="swarmd"',
          "content-type": "text/plain; charset=utf-8",
        },
        body: "Unauthorized: user name and password required",
      };
    }
  }
  if (checkSession && headers.get(SESSION_ID_HEADER) !== policy.sessionId) {
    return {
      status: 409,
      headers: {
        [SESSION_ID_HEADER]: policy.sessionId,
        "content-type": "text/plain; charset=utf-8",
      },
      body: `Missing or stale ${SESSION_ID_HEADER}: resend the request with this response's header`,
    };
  }
  return undefined;
}

/**
 * Parses `Authorization: Basic <base64 user:password>`.
 * @returns the credentials, or undefined when absent or malformed
 */
export function parseBasicAuth(
  header: string | null,
): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!m) return undefined;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function stripPort(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon >= 0 && host.indexOf(":") === colon ? host.slice(0, colon) : host;
}

function isIpLiteral(name: string): boolean {
  if (/^\[[0-9a-f:.]+\]$/.test(name)) return true;
  const parts = name.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function matches(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  const re = new RegExp(
    `^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^.]*")}$`,
  );
  return re.test(name);
}
