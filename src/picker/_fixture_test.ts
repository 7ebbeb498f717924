/**
 * Fixture helpers for the picker tests: pickers and bitfields from one-line strings.
 * Test-only; not re-exported.
 * @module
 */
import { Bitfield } from "../util/bitfield.ts";
import { SeededRandom } from "../util/prng.ts";
import { PiecePicker } from "./piece_picker.ts";

/** Options for {@linkcode pickerFrom}. */
export interface FixtureOptions {
  /** Blocks per piece (16 KiB each); default 1. */
  readonly blocksPerPiece?: number;
  /** PRNG seed; default 1. */
  readonly seed?: number;
  /** Default 0 (rarest first from the start), unlike the engine's 4. */
  readonly randomFirstPieces?: number;
  /** Bytes cut from the last piece; default 0. */
  readonly shortBy?: number;
}

/**
 * A picker whose availability is one digit per piece ("3120") and whose verified
 * pieces are the "x" in `haveMask` ("x..." = piece 0 verified).
 */
export function pickerFrom(
  avail: string,
  haveMask = "",
  options: FixtureOptions = {},
): PiecePicker {
  const pieceLength = 16384 * (options.blocksPerPiece ?? 1);
  const picker = new PiecePicker({
    pieceCount: avail.length,
    pieceLength,
    totalLength: pieceLength * avail.length - (options.shortBy ?? 0),
    random: new SeededRandom(options.seed ?? 1),
    randomFirstPieces: options.randomFirstPieces ?? 0,
  });
  [...avail].forEach((digit, i) => {
    for (let k = 0; k < Number(digit); k++) picker.peerHave(i);
  });
  [...haveMask].forEach((c, i) => c === "x" && picker.setHave(i));
  picker.assertInvariants();
  return picker;
}

/** A bitfield from a mask: "x.x" = pieces 0 and 2. */
export function bits(mask: string): Bitfield {
  const bf = new Bitfield(mask.length);
  [...mask].forEach((c, i) => c === "x" && bf.set(i));
  return bf;
}
