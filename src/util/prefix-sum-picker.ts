import type { Rng } from "./random.ts";

/** Unit roundoff of a double: the largest relative error of one rounding. */
const UNIT_ROUNDOFF = 2 ** -53;

/**
 * Picks an index with probability proportional to fixed non-negative
 * weights, returning what `Rng.weighted` returns for the same random
 * stream, in O(log n) per pick instead of O(n).
 *
 * `Rng.weighted` draws r = next() * total and subtracts the weights one by
 * one, returning the first index where the remainder drops below zero.
 * This picker compares r with prefix sums instead. The remainder and r
 * minus the prefix sum differ only by rounding, at most (n + 1) units of
 * roundoff of r + 2 * total. A pick whose r lies within twice that bound
 * of a prefix sum is therefore repeated by subtraction.
 */
export class PrefixSumPicker {
  /**
   * @param weights the weights; only the first `length` are used
   * @param prefixSums prefixSums[i] is ((0 + weights[0]) + ...) + weights[i],
   *   summed in that order, as `Rng.weighted` sums its total
   */
  constructor(
    private readonly weights: ArrayLike<number>,
    private readonly prefixSums: ArrayLike<number>,
    private readonly length: number,
  ) {}

  /** Creates a picker over `weights`, summing them once. */
  static of(weights: readonly number[]): PrefixSumPicker {
    const prefixSums = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((weight, i) => {
      sum += weight;
      prefixSums[i] = sum;
    });
    return new PrefixSumPicker(weights, prefixSums, weights.length);
  }

  /** Draws one number from `rng` and returns the index it picks. */
  pick(rng: Rng): number {
    const total = this.length > 0 ? this.prefixSums[this.length - 1] : 0;
    const r = rng.next() * total;
    const bound = 2 * (this.length + 1) * UNIT_ROUNDOFF * (r + 2 * total);

    // Before `possible` every remainder is certainly above zero, and at
    // `certain` it is certainly below.
    const possible = this.firstAbove(r - bound);
    const certain = this.firstAbove(r + bound);
    if (possible === certain && certain < this.length) return certain;
    return this.subtract(r);
  }

  /** Returns the first index whose prefix sum exceeds `value`, or `length`. */
  private firstAbove(value: number): number {
    let low = 0;
    let high = this.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.prefixSums[middle] > value) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** Subtracts the weights one by one from `r`, as `Rng.weighted` does. */
  private subtract(r: number): number {
    for (let i = 0; i < this.length; i++) {
      r -= this.weights[i];
      if (r < 0) return i;
    }
    return this.length - 1;
  }
}
