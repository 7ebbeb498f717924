/**
 * What the Transmission RPC needs from the platform, and what it answers.
 *
 * Layer: core (types only).
 * @module
 */
import type { Library } from "./library.ts";

/** What the RPC needs from the platform. */
export interface RpcServices {
  /** The torrents. */
  readonly library: Library;
  /** Transmission-style version text, e.g. `"3.00 (swarmd 0.1.0)"`. */
  readonly version: string;
  /** The current `X-Transmission-Session-Id`. */
  sessionId(): string;
  /** Where the daemon keeps its state (`config-dir`). */
  readonly configDir: string;
  /** The BitTorrent listen port. */
  readonly peerPort: number;
  /** The completion command as configured (shown, never set over the RPC); "" for none. */
  readonly doneScript: string;
  /** Settings the daemon runs with that the RPC only shows. */
  readonly features: {
    readonly dht: boolean;
    readonly pex: boolean;
    readonly utp: boolean;
    readonly lsd: boolean;
  };
  /** Wall-clock milliseconds. */
  readonly wallClock: () => number;
  /**
   * An absolute path inside the operator's configured roots (symlinks resolved).
   * @throws {RpcError} when the path is outside them
   */
  confine(path: string): Promise<string>;
  /**
   * The bytes of a `.torrent` named by a request: an http(s) URL (size-capped) or a local
   * file inside the roots.
   * @throws {RpcError} when it cannot be had
   */
  fetchTorrent(filename: string): Promise<Uint8Array>;
  /** Free and total bytes of the file system holding `path`. */
  freeSpace(path: string): Promise<{ free: number; total: number }>;
  /** Whether our listen port is reachable from outside (honest: false when unknown). */
  portTest(): Promise<boolean>;
  /** `session-close`: the daemon shuts down after answering. */
  close(): void;
}

/** A response (`tag` echoes the request's). */
export interface RpcResponse {
  /** `"success"` or an error text. */
  readonly result: string;
  /** Method results. */
  readonly arguments?: Record<string, unknown>;
  /** The request's tag. */
  readonly tag?: number;
}
