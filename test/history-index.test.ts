import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { EvaluationRecord } from "../src/graph/state.ts";
import { historyIndex } from "../src/roles/history-index.ts";
import { eliteSize, geneStatistics, rankRecords } from "../src/roles/statistics.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { Rng } from "../src/util/random.ts";

const space = createNb201Space();

/** Makes a round of `count` records. Some fail, and accuracies repeat so that ties occur. */
function makeRound(rng: Rng, round: number, count: number, failShare = 0.1): EvaluationRecord[] {
  return Array.from({ length: count }, () => {
    const arch = space.toJSON(space.sample(rng));
    const key = `${arch}#${rng.int(1_000_000)}`;
    if (rng.next() < failShare) {
      return { round, key, arch, source: "generator", metrics: {}, report: {}, error: "failed" };
    }
    const accuracy = 80 + rng.int(40) / 4;
    return { round, key, arch, source: "generator", metrics: { accuracy }, report: {} };
  });
}

/** Ranks the records with a full stable sort. */
function sortedRanking(history: readonly EvaluationRecord[]): EvaluationRecord[] {
  return history
    .filter((record) => record.error === undefined && record.metrics.accuracy !== undefined)
    .sort((a, b) => (b.metrics.accuracy ?? 0) - (a.metrics.accuracy ?? 0));
}

/** Gene statistics recounted from scratch, in rank order. */
function recountedStatistics(history: readonly EvaluationRecord[]) {
  const ranked = sortedRanking(history);
  const elite = new Set(ranked.slice(0, eliteSize(ranked.length)));
  const stats = space.genes.map((gene) => ({
    gene: gene.name,
    dimension: gene.dimension,
    values: gene.choices.map((value) => ({ value, count: 0, sum: 0, eliteCount: 0 })),
  }));
  for (const record of ranked) {
    const parsed = space.parse(record.arch);
    if (!parsed.ok) continue;
    space.encode(parsed.arch).forEach((value, g) => {
      const entry = stats[g].values.find((v) => v.value === value)!;
      entry.count += 1;
      entry.sum += record.metrics.accuracy ?? 0;
      if (elite.has(record)) entry.eliteCount += 1;
    });
  }
  return stats.map((gene) => ({
    gene: gene.gene,
    dimension: gene.dimension,
    values: gene.values.map((v) => ({
      value: v.value,
      count: v.count,
      meanAccuracy: v.count > 0 ? v.sum / v.count : null,
      eliteCount: v.eliteCount,
    })),
  }));
}

/** Consecutive all-failed rounds at the end, counted from scratch. */
function recountedStreak(history: readonly EvaluationRecord[]): number {
  const allFailed = new Map<number, boolean>();
  for (const record of history) {
    allFailed.set(record.round, (allFailed.get(record.round) ?? true) && record.error !== undefined);
  }
  let count = 0;
  for (const [, failed] of [...allFailed.entries()].sort((a, b) => b[0] - a[0])) {
    if (!failed) break;
    count++;
  }
  return count;
}

function checkAgainstRecount(history: readonly EvaluationRecord[], label: string): void {
  const index = historyIndex(history);
  assert.deepEqual(index.ranked, sortedRanking(history), `${label}: ranking`);
  assert.deepEqual(geneStatistics(space, history), recountedStatistics(history), `${label}: statistics`);
  assert.equal(index.failedRoundStreak([]), recountedStreak(history), `${label}: failed rounds`);
  for (const record of history.slice(-5)) {
    assert.equal(index.has(record.key), true, `${label}: has ${record.key}`);
    assert.equal(index.roundOf(record.key), record.round, `${label}: round of ${record.key}`);
  }
  assert.equal(index.has("never evaluated"), false, `${label}: unknown key`);
}

describe("history index", () => {
  test("growing history matches a recount", () => {
    const rng = new Rng(7);
    let history: EvaluationRecord[] = [];
    for (let round = 1; round <= 40; round++) {
      history = history.concat(makeRound(rng, round, 10));
      checkAgainstRecount(history, `round ${round}`);
    }
  });

  test("earlier index stays valid", () => {
    const rng = new Rng(8);
    const first = makeRound(rng, 1, 10);
    const second = first.concat(makeRound(rng, 2, 10));
    const earlier = historyIndex(first);
    historyIndex(second);

    assert.deepEqual(earlier.ranked, sortedRanking(first));
    assert.equal(earlier.has(second[15].key), false);
    assert.equal(historyIndex(first), earlier);
  });

  test("fork gets its own lineage", () => {
    const rng = new Rng(9);
    const base = makeRound(rng, 1, 10);
    const left = base.concat(makeRound(rng, 2, 10));
    const right = base.concat(makeRound(rng, 2, 10));
    historyIndex(base);
    historyIndex(left);

    checkAgainstRecount(right, "right branch");
    checkAgainstRecount(left, "left branch");
    assert.equal(historyIndex(right).has(left[12].key), false);
  });

  test("rankedWhere filters each record once", () => {
    const rng = new Rng(14);
    const key = {};
    const checked: string[] = [];
    const keep = (record: EvaluationRecord) => {
      checked.push(record.key);
      return (record.metrics.accuracy ?? 0) >= 85;
    };
    let history: EvaluationRecord[] = [];
    for (let round = 1; round <= 10; round++) {
      history = history.concat(makeRound(rng, round, 10));
      const kept = historyIndex(history).rankedWhere(key, keep);
      assert.deepEqual(
        kept,
        sortedRanking(history).filter((record) => (record.metrics.accuracy ?? 0) >= 85),
        `round ${round}`,
      );
    }

    assert.equal(new Set(checked).size, checked.length, "a record was checked twice");
    assert.equal(checked.length, sortedRanking(history).length);
  });

  test("failed rounds at the end", () => {
    const rng = new Rng(10);
    let history = makeRound(rng, 1, 5, 0);
    for (let round = 2; round <= 4; round++) {
      history = history.concat(makeRound(rng, round, 5, 1));
      assert.equal(historyIndex(history).failedRoundStreak([]), round - 1);
    }
    const current = makeRound(rng, 5, 5, 1);
    assert.equal(historyIndex(history).failedRoundStreak(current), 4);
    assert.equal(historyIndex(history).failedRoundStreak(makeRound(rng, 5, 5, 0)), 0);
  });

  test("rounds out of order return null", () => {
    const rng = new Rng(11);
    const history = makeRound(rng, 2, 3).concat(makeRound(rng, 1, 3));

    assert.equal(historyIndex(history).failedRoundStreak([]), null);
  });

  test("duplicate keys give the latest round", () => {
    const rng = new Rng(12);
    const first = makeRound(rng, 1, 3, 0);
    const again = { ...first[0], round: 2 };
    const history = first.concat([again]);

    assert.equal(historyIndex(history).roundOf(again.key), 2);
    assert.equal(historyIndex(first).roundOf(again.key), 1);
  });

  test("NaN accuracy keeps the sort order", () => {
    const rng = new Rng(13);
    const first = makeRound(rng, 1, 10, 0);
    first[3] = { ...first[3], metrics: { accuracy: Number.NaN } };
    historyIndex(first);
    const history = first.concat(makeRound(rng, 2, 10, 0));

    assert.deepEqual(rankRecords(history), sortedRanking(history));
  });
});
