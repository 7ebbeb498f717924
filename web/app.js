// @ts-check
/// <reference lib="dom" />
/**
 * The swarmd web UI: the torrent list (progress, rates, ETA, state), adding by file, URL
 * or magnet link, pause, resume and remove, a torrent's files (with priorities), peers and
 * trackers, and the global speed limits. It speaks only the Transmission RPC the daemon
 * serves, polling once a second. Names from torrents are always set as text, never as
 * HTML.
 * @module
 */
import { rpc } from "./rpc.js";
import { duration, priorityChoice, rate, size, stateText } from "./view.js";

const LIST_FIELDS = [
  "id",
  "name",
  "status",
  "error",
  "errorString",
  "isFinished",
  "percentDone",
  "rateDownload",
  "rateUpload",
  "eta",
  "peersConnected",
  "sizeWhenDone",
  "leftUntilDone",
  "hashString",
];
const DETAIL_FIELDS = [
  "id",
  "name",
  "hashString",
  "downloadDir",
  "totalSize",
  "files",
  "fileStats",
  "peers",
  "trackerStats",
  "uploadRatio",
  "addedDate",
];
const POLL_MS = 1000;

/** @type {number | undefined} */
let detailsId;

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`No #${id}`);
  return el;
}

/**
 * An element with text content and attributes.
 * @param {string} tag
 * @param {string} [text]
 * @param {Record<string, string>} [attrs]
 * @returns {HTMLElement}
 */
function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/**
 * A table cell with text.
 * @param {string} text
 * @param {string} [cls]
 * @returns {HTMLElement}
 */
function cell(text, cls) {
  return el("td", text, cls ? { class: cls } : {});
}

/** @param {string} text */
function say(text) {
  $("status-line").textContent = text;
}

/**
 * Runs an action, reporting failure in the status line, then refreshes.
 * @param {() => Promise<unknown>} action
 */
async function act(action) {
  try {
    await action();
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
  }
  await refresh();
}

/**
 * One row of the torrent list.
 * @param {any} t
 * @returns {HTMLElement}
 */
function torrentRow(t) {
  const tr = el("tr", undefined, {
    "data-testid": `torrent-${t.hashString}`,
    "data-status": String(t.status),
  });
  if (t.error) tr.classList.add("error");
  tr.append(cell(t.name, "name"));
  const progress = /** @type {HTMLProgressElement} */ (el("progress", undefined, { max: "1" }));
  progress.value = t.percentDone;
  const pct = el("td", undefined, { "data-testid": "percent" });
  pct.append(progress, ` ${(t.percentDone * 100).toFixed(1)}%`);
  tr.append(pct);
  tr.append(el("td", stateText(t), { "data-testid": "state" }));
  tr.append(
    cell(rate(t.rateDownload)),
    cell(rate(t.rateUpload)),
    cell(duration(t.eta)),
    cell(String(t.peersConnected)),
  );
  const actions = el("td", undefined, { class: "actions" });
  const stopped = t.status === 0;
  const toggle = el("button", stopped ? "Resume" : "Pause", {
    "data-testid": stopped ? "resume" : "pause",
    type: "button",
  });
  toggle.addEventListener(
    "click",
    () => act(() => rpc(stopped ? "torrent-start" : "torrent-stop", { ids: [t.id] })),
  );
  const details = el("button", "Details", { "data-testid": "details-open", type: "button" });
  details.addEventListener("click", () => {
    detailsId = t.id;
    void refresh();
  });
  const remove = el("button", "Remove", { "data-testid": "remove", type: "button" });
  remove.addEventListener("click", () => {
    const withData = confirm(
      `Remove "${t.name}"?\nOK also deletes its downloaded files; Cancel keeps them.`,
    );
    void act(() => rpc("torrent-remove", { ids: [t.id], "delete-local-data": withData }));
  });
  actions.append(toggle, details, remove);
  tr.append(actions);
  return tr;
}

/**
 * The details panel of one torrent.
 * @param {any} t
 */
function showDetails(t) {
  $("details").hidden = false;
  $("details-name").textContent = t.name;
  $("details-info").textContent = `${t.hashString} · ${
    size(t.totalSize)
  } · in ${t.downloadDir} · ratio ${t.uploadRatio < 0 ? "-" : t.uploadRatio.toFixed(2)}`;
  const files = $("details-files");
  files.replaceChildren(...t.files.map((/** @type {any} */ f, /** @type {number} */ i) => {
    const tr = el("tr");
    const select = /** @type {HTMLSelectElement} */ (el("select", undefined, {
      "data-testid": `priority-${i}`,
      "aria-label": "Priority",
    }));
    for (const v of ["skip", "low", "normal", "high"]) {
      select.append(el("option", v === "skip" ? "don't download" : v, { value: v }));
    }
    select.value = priorityChoice(t.fileStats[i]);
    select.addEventListener("change", () => {
      const v = select.value;
      const args = v === "skip"
        ? { "files-unwanted": [i] }
        : { "files-wanted": [i], [`priority-${v}`]: [i] };
      void act(() => rpc("torrent-set", { ids: [t.id], ...args }));
    });
    const pick = el("td");
    pick.append(select);
    tr.append(
      cell(f.name, "name"),
      cell(size(f.length)),
      cell(`${f.length ? ((100 * f.bytesCompleted) / f.length).toFixed(1) : "100.0"}%`),
      pick,
    );
    return tr;
  }));
  $("details-peers").replaceChildren(...t.peers.map((/** @type {any} */ p) => {
    const tr = el("tr");
    tr.append(
      cell(`${p.address}:${p.port}`),
      cell(p.clientName),
      cell(`${(p.progress * 100).toFixed(0)}%`),
      cell(rate(p.rateToClient)),
      cell(rate(p.rateToPeer)),
      cell(p.flagStr),
    );
    return tr;
  }));
  $("details-trackers").replaceChildren(...t.trackerStats.map((/** @type {any} */ s) => {
    const tr = el("tr");
    tr.append(
      cell(String(s.tier)),
      cell(s.announce, "name"),
      cell(s.lastAnnounceResult),
      cell(String(s.seederCount)),
      cell(String(s.leecherCount)),
    );
    return tr;
  }));
}

let refreshing = false;

/** Reloads the list (and the open details) from the RPC. */
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const { torrents } = await rpc("torrent-get", { fields: LIST_FIELDS });
    $("torrent-rows").replaceChildren(...torrents.map(torrentRow));
    $("empty").hidden = torrents.length > 0;
    let down = 0, up = 0;
    for (const t of torrents) {
      down += t.rateDownload;
      up += t.rateUpload;
    }
    const count = `${torrents.length} torrent${torrents.length === 1 ? "" : "s"}`;
    $("totals").textContent = `${count} · ↓ ${rate(down)} · ↑ ${rate(up)}`;
    if (detailsId !== undefined) {
      const { torrents: [t] } = await rpc("torrent-get", {
        ids: [detailsId],
        fields: DETAIL_FIELDS,
      });
      if (t) showDetails(t);
      else {
        detailsId = undefined;
        $("details").hidden = true;
      }
    }
  } catch (e) {
    say(`Cannot reach the daemon: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    refreshing = false;
  }
}

/**
 * A file's bytes as base64 (what torrent-add's `metainfo` takes).
 * @param {File} file
 * @returns {Promise<string>}
 */
async function fileBase64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

async function add() {
  const link = /** @type {HTMLInputElement} */ ($("add-link"));
  const file = /** @type {HTMLInputElement} */ ($("add-file"));
  const dir = /** @type {HTMLInputElement} */ ($("add-dir")).value.trim();
  const paused = /** @type {HTMLInputElement} */ ($("add-paused")).checked;
  /** @type {Record<string, unknown>} */
  const args = { paused, ...(dir ? { "download-dir": dir } : {}) };
  if (file.files && file.files[0]) args.metainfo = await fileBase64(file.files[0]);
  else if (link.value.trim()) args.filename = link.value.trim();
  else throw new Error("Choose a .torrent file, or give a magnet link or URL");
  const result = await rpc("torrent-add", args);
  const added = result["torrent-added"] ?? result["torrent-duplicate"];
  say(result["torrent-duplicate"] ? `Already there: ${added.name}` : `Added ${added.name}`);
  link.value = "";
  file.value = "";
}

async function loadLimits() {
  const s = await rpc("session-get", {
    fields: [
      "speed-limit-down",
      "speed-limit-down-enabled",
      "speed-limit-up",
      "speed-limit-up-enabled",
    ],
  });
  /** @type {HTMLInputElement} */ ($("limit-down")).value = String(s["speed-limit-down"]);
  /** @type {HTMLInputElement} */ ($("limit-up")).value = String(s["speed-limit-up"]);
  /** @type {HTMLInputElement} */ ($("limit-down-on")).checked = s["speed-limit-down-enabled"];
  /** @type {HTMLInputElement} */ ($("limit-up-on")).checked = s["speed-limit-up-enabled"];
}

function saveLimits() {
  const num = (/** @type {string} */ id) =>
    Math.max(0, Math.round(Number(/** @type {HTMLInputElement} */ ($(id)).value) || 0));
  const on = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ ($(id)).checked;
  return rpc("session-set", {
    "speed-limit-down": num("limit-down"),
    "speed-limit-down-enabled": on("limit-down-on"),
    "speed-limit-up": num("limit-up"),
    "speed-limit-up-enabled": on("limit-up-on"),
  });
}

$("add-form").addEventListener("submit", (e) => {
  e.preventDefault();
  void act(add);
});
$("limits-form").addEventListener("submit", (e) => {
  e.preventDefault();
  void act(async () => {
    await saveLimits();
    say("Limits saved");
  });
});
$("details-close").addEventListener("click", () => {
  detailsId = undefined;
  $("details").hidden = true;
});
void loadLimits().catch(() => {});
void refresh();
setInterval(refresh, POLL_MS);
