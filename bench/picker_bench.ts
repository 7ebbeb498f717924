/**
 * Piece picker benchmarks (STYLE §8): `pickBlocks()` at 50,000 pieces × 200 peers
 * with random bitfields, HAVE updates, and bitfield add/remove. Setup is outside
 * the timed region (`b.start()` / `b.end()`).
 * Run: `deno bench -A bench/picker_bench.ts`.
 * @module
 */
import { Bitfield } from "../src/util/bitfield.ts";
import { SeededRandom } from "../src/util/prng.ts";
import { type PickPeer, PiecePicker } from "../src/picker/mod.ts";

const PIECES = 50_000;
const PEERS = 200;
const PIECE_LENGTH = 262_144; // 16 blocks
const PIPELINE = 32;

function bitfield(random: SeededRandom, density: number): Bitfield {
  const bf = new Bitfield(PIECES);
  for (let i = 0; i < PIECES; i++) if (random.next() < density) bf.set(i);
  return bf;
}

function swarm(randomFirstPieces: number): { picker: PiecePicker; peers: PickPeer[] } {
  const random = new SeededRandom(42);
  const picker = new PiecePicker({
    pieceCount: PIECES,
    pieceLength: PIECE_LENGTH,
    totalLength: PIECES * PIECE_LENGTH - 1234,
    random,
    randomFirstPieces,
  });
  const peers: PickPeer[] = [];
  for (let p = 0; p < PEERS; p++) {
    const has = bitfield(random, 0.1 + 0.8 * random.next());
    picker.addPeer(has);
    peers.push({ id: `peer${p}`, has });
  }
  for (const peer of peers) picker.pickBlocks(peer, PIPELINE); // steady state: all pipelines full
  return { picker, peers };
}

const rarest = swarm(0);
const randomFirst = swarm(4);
const random = new SeededRandom(7);

function pickBench(s: { picker: PiecePicker; peers: PickPeer[] }) {
  let k = 0;
  return (b: Deno.BenchContext) => {
    const peer = s.peers[k++ % PEERS]!;
    s.picker.releaseRequests(peer.id);
    b.start();
    s.picker.pickBlocks(peer, PIPELINE);
    b.end();
  };
}

Deno.bench({
  name: "pickBlocks(32), rarest first, 50k pieces × 200 peers",
  group: "pick",
  baseline: true,
  fn: pickBench(rarest),
});

Deno.bench({
  name: "pickBlocks(32), random first pieces, 50k pieces × 200 peers",
  group: "pick",
  fn: pickBench(randomFirst),
});

const sparse: PickPeer = { id: "sparse", has: bitfield(random, 0.01) };
rarest.picker.addPeer(sparse.has as Bitfield);
Deno.bench({
  name: "pickBlocks(32) for a peer with 1 % of the pieces",
  group: "pick",
  fn: pickBench({ picker: rarest.picker, peers: Array(PEERS).fill(sparse) }),
});

const indices = Array.from({ length: 1000 }, () => random.int(PIECES));
Deno.bench({
  name: "1,000 HAVEs (peerHave)",
  group: "availability",
  baseline: true,
  fn: (b) => {
    b.start();
    for (const i of indices) rarest.picker.peerHave(i);
    b.end();
  },
});

const extra = bitfield(random, 0.5);
Deno.bench({
  name: "addPeer + removePeer, 50k-piece bitfield at 50 %",
  group: "availability",
  fn: (b) => {
    b.start();
    rarest.picker.addPeer(extra);
    rarest.picker.removePeer(extra);
    b.end();
  },
});
