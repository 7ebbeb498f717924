/**
 * Interop: message stream encryption (MSE/PE) through the whole engine, against
 * python3-libtorrent, with our default `--encryption prefer`:
 * - our seed (the library `Client`) to a libtorrent leecher that forces RC4 both ways;
 * - our `get` from a libtorrent seeder that forces RC4 both ways;
 * - our `get` from a libtorrent seeder that speaks no encryption at all (our MSE dial is
 *   hung up on, the plain BitTorrent retry works);
 * - `get --encryption require` from a default libtorrent seeder (RC4 is negotiated).
 * Every download is checked by SHA-256.
 */
import { interopTest } from "./_harness.ts";
import { getFromLibtorrent, libtorrentLeechesFromUs } from "./_lt_peer.ts";
import { type TorrentDir, withTorrentDir } from "./_wire_peer.ts";

const SIZE = 2 * 1024 * 1024 + 4321;

function withPayload(fn: (dir: TorrentDir) => Promise<void>): Promise<void> {
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 2654435761) >>> 24;
  return withTorrentDir({ prefix: "swarmd-enc-", name: "data.bin", data, pieceLength: 65536 }, fn);
}

await interopTest("interop: our seed to a libtorrent leecher that forces RC4", async () => {
  await withPayload((dir) =>
    libtorrentLeechesFromUs(dir, {
      host: "127.0.0.41",
      encryption: "forced",
      encryptionLevel: "rc4",
    })
  );
});

await interopTest("interop: our get from a libtorrent seeder that forces RC4", async () => {
  await withPayload((dir) =>
    getFromLibtorrent(dir, {
      seeder: { host: "127.0.0.42", encryption: "forced", encryptionLevel: "rc4" },
    })
  );
});

await interopTest(
  "interop: our get, default flags, from a libtorrent seeder with encryption disabled",
  async () => {
    await withPayload((dir) =>
      getFromLibtorrent(dir, { seeder: { host: "127.0.0.43", encryption: "disabled" } })
    );
  },
);

await interopTest(
  "interop: get --encryption require from a default libtorrent seeder",
  async () => {
    await withPayload((dir) =>
      getFromLibtorrent(dir, {
        seeder: { host: "127.0.0.44" },
        args: ["--encryption", "require"],
      })
    );
  },
);
