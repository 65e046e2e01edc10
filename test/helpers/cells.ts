/**
 * Operations used by `cellAt`. `none` is left out, so every edge is live
 * and each cell is its own canonical form: no two indices give cells that
 * isomorphic dedup would merge.
 */
const LIVE_OPS = ["nor_conv_1x1", "skip_connect", "avg_pool_3x3", "nor_conv_3x3"] as const;

/** Number of distinct cells `cellAt` enumerates. */
export const LIVE_CELL_COUNT = LIVE_OPS.length ** 6;

/** Formats six edge operations as a NAS-Bench-201 cell string. */
export function cellString(ops: readonly string[]): string {
  const [a, b, c, d, e, f] = ops;
  return `|${a}~0|+|${b}~0|${c}~1|+|${d}~0|${e}~1|${f}~2|`;
}

/**
 * Builds the `index`-th cell with no `none` edge, in base-4 order of `LIVE_OPS`.
 * Low indices favour 1x1 convolutions and skips, so they stay cheap.
 */
export function cellAt(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= LIVE_CELL_COUNT) {
    throw new RangeError(`cell index ${index} is outside 0..${LIVE_CELL_COUNT - 1}`);
  }
  const ops: string[] = [];
  let rest = index;
  for (let edge = 0; edge < 6; edge++) {
    ops.push(LIVE_OPS[rest % LIVE_OPS.length]);
    rest = Math.floor(rest / LIVE_OPS.length);
  }
  return cellString(ops);
}

/** Reads the number of candidates a Generator prompt requests ("Propose N new ..."). */
export function requestedCount(prompt: string): number {
  const match = /Propose (\d+) new/.exec(prompt);
  if (!match) {
    throw new Error(
      `no "Propose N new" request in the Generator prompt: ${prompt.slice(0, 200)}`,
    );
  }
  return Number(match[1]);
}
