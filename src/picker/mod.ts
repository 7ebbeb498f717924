/**
 * Piece picker (BEP 3 rarest first with random tie-breaks, random first pieces,
 * partial pieces first, strict endgame; BEP 6 allowed-fast requests while choked
 * and HAVE_ALL as a cheap seed counter; piece and file priorities).
 *
 * @example
 * ```ts
 * import { PiecePicker } from "./mod.ts";
 * import { SeededRandom } from "../util/prng.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const picker = new PiecePicker({
 *   pieceCount: 2, pieceLength: 16384, totalLength: 20000, random: new SeededRandom(7),
 * });
 * picker.addSeed();
 * const picks = picker.pickBlocks({ id: "seed", has: "all" }, 10);
 * assertEquals(picks.length, 2);
 * assertEquals(picker.requestsOf("seed").length, 2);
 * ```
 * @module
 */
export { PiecePicker } from "./piece_picker.ts";
export {
  BLOCK_LENGTH,
  type BlockAddress,
  type BlockCancel,
  type BlockReceipt,
  type BlockRequest,
  DEFAULT_PRIORITY,
  type FileRange,
  type PickOptions,
  type PickPeer,
  type PiecePickerOptions,
} from "./picker_types.ts";
// Types our signatures use, re-exported so the documented API is complete.
export type { Random } from "../runtime/types.ts";
export type { Bitfield } from "../util/bitfield.ts";
