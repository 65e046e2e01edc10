import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PrefixSumPicker } from "../src/util/prefix-sum-picker.ts";
import { Rng } from "../src/util/random.ts";

/** Picks `draws` times with both methods from one seed and compares every index. */
function checkSamePicks(weights: number[], seed: number, draws: number, label: string): void {
  const reference = new Rng(seed);
  const fast = new Rng(seed);
  const picker = PrefixSumPicker.of(weights);
  for (let i = 0; i < draws; i++) {
    assert.equal(picker.pick(fast), reference.weighted(weights), `${label}: draw ${i}`);
  }
  assert.equal(fast.seed, reference.seed, `${label}: random state`);
}

describe("prefix sum picker", () => {
  test("rank weights match Rng.weighted", () => {
    for (const length of [1, 2, 5, 37, 2000]) {
      const weights = Array.from({ length }, (_v, i) => 1 / (i + 1));
      checkSamePicks(weights, length, 2000, `length ${length}`);
    }
  });

  test("random weights with zeros", () => {
    const rng = new Rng(99);
    for (let trial = 0; trial < 50; trial++) {
      const weights = Array.from({ length: 1 + rng.int(60) }, () =>
        rng.next() < 0.2 ? 0 : rng.next() * 10 ** (rng.int(7) - 3),
      );
      checkSamePicks(weights, trial, 200, `trial ${trial}`);
    }
  });

  test("all-zero and empty weights", () => {
    checkSamePicks([0, 0, 0], 1, 10, "zeros");
    checkSamePicks([], 1, 10, "empty");
  });

  test("draws on and beside prefix sums", () => {
    const weights = Array.from({ length: 1000 }, () => 0.1);
    const picker = PrefixSumPicker.of(weights);
    const total = weights.reduce((sum, w) => sum + w, 0);
    let sum = 0;
    for (const [i, weight] of weights.entries()) {
      sum += weight;
      // Fractions that make r = next() * total land on the prefix sum and
      // on its neighbouring doubles, where rounding decides the pick.
      const fraction = sum / total;
      for (const value of [fraction * (1 - 2 ** -52), fraction, fraction * (1 + 2 ** -52)]) {
        if (value >= 1) continue;
        const stub = { next: () => value } as unknown as Rng;
        assert.equal(picker.pick(stub), Rng.prototype.weighted.call(stub, weights), `index ${i}, ${value}`);
      }
    }
  });

  test("tenths sum with rounding", () => {
    // Sums of 0.1 are inexact, so some draws land within rounding of a
    // prefix sum and take the subtraction path.
    checkSamePicks(Array.from({ length: 1000 }, () => 0.1), 5, 20_000, "tenths");
  });
});
