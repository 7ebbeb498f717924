// @ts-check
/**
 * Formatting for the web UI (pure: no DOM), in Transmission's units (kB = 1000 bytes).
 * @module
 */

/** Transmission's status numbers. */
export const STATUS_TEXT = [
  "Stopped",
  "Queued to verify",
  "Verifying",
  "Queued",
  "Downloading",
  "Queued to seed",
  "Seeding",
];

/**
 * `1536000` → `"1.54 MB"`.
 * @param {number} bytes
 * @returns {string}
 */
export function size(bytes) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = bytes, i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

/**
 * Bytes/s as text.
 * @param {number} bps
 * @returns {string}
 */
export function rate(bps) {
  return `${size(Math.round(bps))}/s`;
}

/**
 * Seconds as `1h02m`, `3m05s`, `42s`; negative (unknown) as `-`.
 * @param {number} seconds
 * @returns {string}
 */
export function duration(seconds) {
  if (!(seconds >= 0)) return "-";
  const s = Math.round(seconds);
  if (s >= 86400) return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * A torrent's state line: the status, or its error.
 * @param {{ status: number, error: number, errorString: string, isFinished: boolean }} t
 * @returns {string}
 */
export function stateText(t) {
  if (t.error) return `Error: ${t.errorString}`;
  if (t.status === 0 && t.isFinished) return "Finished";
  return STATUS_TEXT[t.status] ?? "Unknown";
}

/**
 * Transmission priority (-1, 0, 1) and wanted → the select's value.
 * @param {{ wanted: boolean, priority: number }} f
 * @returns {string}
 */
export function priorityChoice(f) {
  if (!f.wanted) return "skip";
  return f.priority < 0 ? "low" : f.priority > 0 ? "high" : "normal";
}
