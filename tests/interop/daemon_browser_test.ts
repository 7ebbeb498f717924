/// <reference lib="dom" />
/**
 * The web UI in a real browser (Debian's chromium, driven by puppeteer-core) against a
 * running daemon and a python3-libtorrent seeder: add a .torrent through the page, watch
 * it complete, open its details, pause, resume and remove it; a screenshot is saved to a
 * temp dir (its path printed). Skipped with a message when chromium or libtorrent is
 * missing, unless SWARMD_REQUIRE_INTEROP=1.
 * @module
 */
import { join } from "node:path";
import puppeteer, { type Page } from "puppeteer-core";
import { assert, assertEquals } from "../assert.ts";
import { interopRequired, libtorrentAvailable, requireFiles } from "./_harness.ts";
import { startLibtorrentPeer } from "./_lt_peer.ts";
import {
  assertFilesMatch,
  makePayload,
  RpcClient,
  spawnDaemon,
  startSeeder,
  waitFor,
} from "../integration/_daemon.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
const ready = hasChromium && await libtorrentAvailable();
if (!ready && !interopRequired()) {
  console.log("skipping browser test: needs chromium and python3-libtorrent (apt-get install)");
}

/** The torrent row's status (Transmission numbers), or undefined when absent. */
function rowStatus(page: Page, hash: string): Promise<string | undefined> {
  return page.evaluate(
    (h) =>
      document.querySelector(`[data-testid="torrent-${h}"]`)?.getAttribute("data-status") ??
        undefined,
    hash,
  );
}

function click(page: Page, hash: string, button: string): Promise<void> {
  return page.evaluate(
    (h, b) =>
      (document.querySelector(`[data-testid="torrent-${h}"] [data-testid="${b}"]`) as HTMLElement)
        .click(),
    hash,
    button,
  );
}

Deno.test({
  name:
    "web UI in chromium: add a .torrent, complete from libtorrent, details, pause, resume, remove",
  ignore: !ready && !interopRequired(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    if (!ready) {
      throw new Error("chromium and python3-libtorrent are required (SWARMD_REQUIRE_INTEROP=1)");
    }
    const root = await Deno.makeTempDir({ prefix: "swarmd-browser-" });
    const payload = await makePayload(join(root, "p"), "photos", [["a.jpg", 1_500_000], [
      "b.jpg",
      900_000,
    ]]);
    const hash =
      (await import("../../src/metainfo/mod.ts")).parseTorrent(payload.torrent).infoHashHex;
    const daemon = await spawnDaemon([
      "--state",
      join(root, "state"),
      "--download-dir",
      join(root, "dl"),
      "--allow-local-peers",
    ]);
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    let seeder: ReturnType<typeof startLibtorrentPeer> | undefined;
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.setViewport({ width: 1200, height: 800 });
      await page.goto(`${daemon.url}/`, { waitUntil: "networkidle0", timeout: 30_000 });
      const input = await page.$('[data-testid="add-file"]');
      assert(input, "the add form has a file input");
      await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(
        payload.torrentPath,
      );
      await page.click('[data-testid="add-submit"]');
      await waitFor("the new row", async () => await rowStatus(page, hash) !== undefined, 30_000);
      seeder = startLibtorrentPeer({
        torrent: payload.torrentPath,
        save: payload.srcDir,
        listen: "127.0.0.2:0",
        seedMode: true,
        peers: [`127.0.0.1:${daemon.peerPort}`],
        timeoutS: 120,
      });
      await seeder.port;
      await waitFor(
        "completion in the page",
        async () => await rowStatus(page, hash) === "6",
        90_000,
      );
      const percent = await page.$eval(
        `[data-testid="torrent-${hash}"] [data-testid="percent"]`,
        (e) => e.textContent,
      );
      assert(percent?.includes("100.0%"), String(percent));
      await assertFilesMatch(join(root, "dl", "photos"), ["a.jpg", "b.jpg"], payload.digests);
      // details: files with priorities, and the peers and trackers tables
      await click(page, hash, "details-open");
      await waitFor(
        "the details",
        () =>
          page.evaluate(() =>
            document.querySelectorAll('[data-testid="details-files"] tr').length === 2
          ),
        10_000,
      );
      assertEquals(
        await page.$eval('[data-testid="priority-0"]', (e) => (e as HTMLSelectElement).value),
        "normal",
      );
      // One file, overwritten by each run (a directory per run piled up in /tmp).
      const shot = join(Deno.env.get("TMPDIR") ?? "/tmp", "swarmd-web-ui.png");
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);
      await click(page, hash, "pause");
      await waitFor("paused in the page", async () => await rowStatus(page, hash) === "0", 30_000);
      await click(page, hash, "resume");
      await waitFor("seeding again", async () => await rowStatus(page, hash) === "6", 30_000);
      page.once("dialog", (d) => void d.dismiss()); // keep the data
      await click(page, hash, "remove");
      await waitFor("the row gone", async () => await rowStatus(page, hash) === undefined, 30_000);
      assert(await Deno.stat(join(root, "dl", "photos", "a.jpg")).then(() => true), "data kept");
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await seeder?.stop();
      await daemon.stop();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});

const TRANSMISSION_WEB = "/usr/share/transmission/web";
const web = await requireFiles(
  [CHROMIUM, `${TRANSMISSION_WEB}/index.html`],
  "skipping: Transmission's web client test needs chromium and transmission-cli",
);

Deno.test({
  name: "Transmission's own web client (3.00) lists and pauses a torrent the daemon runs",
  ignore: web.ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    if (!web.present) {
      throw new Error("chromium and transmission-cli are required (SWARMD_REQUIRE_INTEROP=1)");
    }
    const root = await Deno.makeTempDir({ prefix: "swarmd-trweb-" });
    const payload = await makePayload(join(root, "p"), "notes", [["n.txt", 300_000]]);
    const seeder = await startSeeder(payload.torrent, payload.srcDir);
    const daemon = await spawnDaemon(
      ["--state", join(root, "state"), "--download-dir", join(root, "dl"), "--allow-local-peers"],
      { TRANSMISSION_WEB_HOME: TRANSMISSION_WEB },
    );
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const rpc = new RpcClient(daemon.url);
      await rpc.call("torrent-add", { metainfo: btoa(String.fromCharCode(...payload.torrent)) });
      seeder.torrent.addPeers([{ host: "127.0.0.1", port: daemon.peerPort }]);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${daemon.url}/transmission/web/`, {
        waitUntil: "networkidle0",
        timeout: 30_000,
      });
      const row = () =>
        page.evaluate(() => {
          const li = document.querySelector("#torrent_list li.torrent");
          return li
            ? {
              name: li.querySelector(".torrent_name")?.textContent ?? "",
              progress: li.querySelector(".torrent_progress_details")?.textContent ?? "",
              peers: li.querySelector(".torrent_peer_details")?.textContent ?? "",
            }
            : undefined;
        });
      await waitFor(
        "the download",
        async () =>
          (await rpc.call("torrent-get", { fields: ["percentDone"] })).torrents[0].percentDone ===
            1,
      );
      // a seed's line reads "<size>, uploaded <bytes> (Ratio <r>)"
      const shown = await waitFor("the seed in Transmission's list", async () => {
        const r = await row();
        return r && r.progress.includes("Ratio") ? r : undefined;
      }, 30_000);
      assertEquals(shown.name, "notes");
      assert(shown.progress.startsWith("300.0 kB"), shown.progress);
      // pause through Transmission's own toolbar
      await page.click("#torrent_list li.torrent");
      await page.click("#toolbar-pause");
      await waitFor(
        "paused",
        async () =>
          (await rpc.call("torrent-get", { fields: ["status"] })).torrents[0].status === 0,
        30_000,
      );
      await waitFor("shown paused", async () => (await row())?.peers.includes("Paused"), 30_000);
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await daemon.stop();
      await seeder.client.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
