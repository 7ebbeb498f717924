// @ts-check
/// <reference lib="dom" />
/**
 * The web UI's Transmission RPC client: JSON over POST to /transmission/rpc, with the
 * X-Transmission-Session-Id handshake (a 409 carries the id; the request is sent again).
 * The same calls transmission-remote and Transmission's web client make.
 * @module
 */

const ENDPOINT = "/transmission/rpc";
const HEADER = "X-Transmission-Session-Id";
let sessionId = "";

/**
 * Calls one RPC method.
 * @param {string} method
 * @param {Record<string, unknown>} [args]
 * @returns {Promise<any>} the response's arguments
 * @throws {Error} when the result is not "success"
 */
export async function rpc(method, args = {}) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await fetch(ENDPOINT, {
      method: "POST",
      headers: { "content-type": "application/json", [HEADER]: sessionId },
      body: JSON.stringify({ method, arguments: args }),
    });
    if (response.status === 409) {
      sessionId = response.headers.get(HEADER) ?? "";
      continue;
    }
    if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`);
    const body = await response.json();
    if (body.result !== "success") throw new Error(body.result);
    return body.arguments ?? {};
  }
  throw new Error(`${method}: no session id`);
}
