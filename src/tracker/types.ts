/**
 * Shared tracker types: announce parameters and normalised responses, common to the
 * HTTP (BEP 3, 7, 23) and UDP (BEP 15) transports.
 *
 * Layer: core (types only).
 * @module
 */
import type { PeerAddress } from "../runtime/types.ts";

/** The `event` of an announce; `undefined` is a regular (periodic) announce. */
export type AnnounceEvent = "started" | "completed" | "stopped";

/** What a client tells a tracker in one announce. */
export interface AnnounceParams {
  /** 20-byte info-hash. */
  readonly infoHash: Uint8Array;
  /** 20-byte peer id. */
  readonly peerId: Uint8Array;
  /** Our listening port, 1..65535. */
  readonly port: number;
  /** Payload bytes uploaded since `started`. */
  readonly uploaded: number;
  /** Payload bytes downloaded since `started`. */
  readonly downloaded: number;
  /** Bytes still missing; 0 for a seed. */
  readonly left: number;
  /** Event, or `undefined` for a regular announce. */
  readonly event?: AnnounceEvent | undefined;
  /** Peers wanted; omitted means the tracker default. */
  readonly numwant?: number | undefined;
  /** 32-bit key identifying us across IP changes (sent as 8 hex digits over HTTP). */
  readonly key?: number | undefined;
  /** `tracker id` from a previous HTTP response. */
  readonly trackerId?: Uint8Array | undefined;
}

/** A successful announce, normalised across transports. */
export interface AnnounceResponse {
  /** Seconds until the next regular announce (clamped, see `clampIntervalS`). */
  readonly intervalS: number;
  /** Seconds the tracker wants between any two announces, when it said so (clamped). */
  readonly minIntervalS: number | undefined;
  /** Seeders, when the tracker said. */
  readonly complete: number | undefined;
  /** Leechers, when the tracker said. */
  readonly incomplete: number | undefined;
  /** Peers, IPv4 then IPv6, capped. */
  readonly peers: PeerAddress[];
  /** `warning message`, when present. */
  readonly warning: string | undefined;
  /** `tracker id` to echo in later announces, when present. */
  readonly trackerId: Uint8Array | undefined;
}

/** Swarm counts for one info-hash from a scrape. */
export interface ScrapeEntry {
  /** 20-byte info-hash. */
  readonly infoHash: Uint8Array;
  /** Seeders. */
  readonly complete: number;
  /** Leechers. */
  readonly incomplete: number;
  /** Completed downloads ever reported. */
  readonly downloaded: number;
}
