import type { EvaluationRecord } from "../graph/state.ts";
import type { ParseResult, SearchSpace } from "../spaces/types.ts";

/**
 * Lookups over a search history that the roles make every round: the
 * successful records best first, the evaluated keys, and the run of
 * rounds in which every evaluation failed.
 *
 * An index is built once per history array and extended, not rebuilt,
 * when the next round's array starts with the same record objects, as the
 * state's append reducer makes it. The cost per round is then a merge of
 * pointers, not a sort, a parse of every record or a new set of keys.
 * Records are treated as immutable: a record changed in place after it
 * was indexed is not seen.
 */
export class HistoryIndex {
  /** Successful records, best first; ties keep history order. */
  readonly ranked: readonly EvaluationRecord[];

  private constructor(
    readonly length: number,
    private readonly lineage: Lineage,
    ranked: readonly EvaluationRecord[],
    private readonly rounds: RoundRun,
  ) {
    this.ranked = ranked;
  }

  /** Builds the index of `history` from scratch. */
  static build(history: readonly EvaluationRecord[]): HistoryIndex {
    const lineage: Lineage = {
      records: [],
      firstPosition: new Map(),
      duplicateKeys: false,
      nonFiniteAccuracy: false,
    };
    appendToLineage(lineage, history, 0);
    return new HistoryIndex(
      history.length,
      lineage,
      sortedSuccesses(history),
      extendRoundRun(EMPTY_RUN, history),
    );
  }

  /** True when `history` starts with the records this index covers. */
  isPrefixOf(history: readonly EvaluationRecord[]): boolean {
    if (history.length < this.length) return false;
    if (this.length === 0) return true;
    return (
      history[0] === this.lineage.records[0] &&
      history[this.length - 1] === this.lineage.records[this.length - 1]
    );
  }

  /**
   * Returns the index of `history`, which must start with this index's
   * records (see `isPrefixOf`). This index stays valid.
   */
  extend(history: readonly EvaluationRecord[]): HistoryIndex {
    if (history.length === this.length) return this;
    const added = history.slice(this.length);
    let lineage = this.lineage;
    if (lineage.records.length === this.length) {
      appendToLineage(lineage, added, this.length);
    } else if (!added.every((record, i) => lineage.records[this.length + i] === record)) {
      // Another history branched off after this index. That history keeps
      // the shared lineage, and this one gets a lineage of its own.
      return HistoryIndex.build(history);
    }
    if (lineage.nonFiniteAccuracy) return HistoryIndex.build(history);
    return new HistoryIndex(
      history.length,
      lineage,
      mergeRanked(this.ranked, sortedSuccesses(added)),
      extendRoundRun(this.rounds, added),
    );
  }

  /** True when an evaluated record has this key. */
  has(key: string): boolean {
    const position = this.lineage.firstPosition.get(key);
    return position !== undefined && position < this.length;
  }

  /** Round of the latest evaluation of `key`, or undefined when it was not evaluated. */
  roundOf(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    if (!this.lineage.duplicateKeys) {
      return this.lineage.records[this.lineage.firstPosition.get(key)!].round;
    }
    for (let i = this.length - 1; i >= 0; i--) {
      if (this.lineage.records[i].key === key) return this.lineage.records[i].round;
    }
    return undefined;
  }

  /**
   * Counts the latest rounds, with `current` appended, in which every
   * evaluation failed, stopping at the first round with a success.
   * Returns null when the records are not in round order, which the
   * running count assumes.
   */
  failedRoundStreak(current: readonly EvaluationRecord[]): number | null {
    const run = extendRoundRun(this.rounds, current);
    if (!run.ordered) return null;
    if (run.lastRound === null) return 0;
    return run.lastRoundFailed ? run.completedStreak + 1 : 0;
  }
}

/**
 * The records shared by the indexes of one growing history, with the
 * first position of every key.
 */
interface Lineage {
  records: EvaluationRecord[];
  firstPosition: Map<string, number>;
  duplicateKeys: boolean;
  nonFiniteAccuracy: boolean;
}

function appendToLineage(
  lineage: Lineage,
  records: readonly EvaluationRecord[],
  start: number,
): void {
  records.forEach((record, i) => {
    lineage.records.push(record);
    if (lineage.firstPosition.has(record.key)) {
      lineage.duplicateKeys = true;
    } else {
      lineage.firstPosition.set(record.key, start + i);
    }
    if (isSuccess(record) && Number.isNaN(record.metrics.accuracy)) {
      lineage.nonFiniteAccuracy = true;
    }
  });
}

/** The running count behind `failedRoundStreak`. */
interface RoundRun {
  lastRound: number | null;
  lastRoundFailed: boolean;
  /** All-failed rounds in a row that end just before `lastRound`. */
  completedStreak: number;
  /** False once a record's round is lower than the one before it. */
  ordered: boolean;
}

const EMPTY_RUN: RoundRun = {
  lastRound: null,
  lastRoundFailed: false,
  completedStreak: 0,
  ordered: true,
};

function extendRoundRun(run: RoundRun, records: readonly EvaluationRecord[]): RoundRun {
  let { lastRound, lastRoundFailed, completedStreak, ordered } = run;
  for (const record of records) {
    const failed = record.error !== undefined;
    if (lastRound !== null && record.round < lastRound) ordered = false;
    if (record.round === lastRound) {
      lastRoundFailed &&= failed;
      continue;
    }
    if (lastRound !== null) completedStreak = lastRoundFailed ? completedStreak + 1 : 0;
    lastRound = record.round;
    lastRoundFailed = failed;
  }
  return { lastRound, lastRoundFailed, completedStreak, ordered };
}

function isSuccess(record: EvaluationRecord): boolean {
  return record.error === undefined && record.metrics.accuracy !== undefined;
}

/** Successful records sorted best first with a stable sort. */
function sortedSuccesses(records: readonly EvaluationRecord[]): EvaluationRecord[] {
  return records
    .filter(isSuccess)
    .sort((a, b) => (b.metrics.accuracy ?? 0) - (a.metrics.accuracy ?? 0));
}

/**
 * Merges two best-first lists into a new one. On equal accuracy the record
 * of `older` comes first, which is where a stable sort of the whole
 * history puts it.
 */
function mergeRanked(
  older: readonly EvaluationRecord[],
  newer: readonly EvaluationRecord[],
): EvaluationRecord[] {
  if (newer.length === 0) return older as EvaluationRecord[];
  const merged: EvaluationRecord[] = new Array(older.length + newer.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < older.length && j < newer.length) {
    if (newer[j].metrics.accuracy! > older[i].metrics.accuracy!) {
      merged[k++] = newer[j++];
    } else {
      merged[k++] = older[i++];
    }
  }
  while (i < older.length) merged[k++] = older[i++];
  while (j < newer.length) merged[k++] = newer[j++];
  return merged;
}

/** Recent indexes, newest first, tried as prefixes of a new history. */
const recentIndexes: HistoryIndex[] = [];
const RECENT_INDEXES = 8;
const indexByHistory = new WeakMap<readonly EvaluationRecord[], HistoryIndex>();

/**
 * Returns the index of `history`, extending a recent index whose records
 * it starts with, or building one.
 */
export function historyIndex(history: readonly EvaluationRecord[]): HistoryIndex {
  const known = indexByHistory.get(history);
  if (known) return known;

  const base = recentIndexes.find((index) => index.length > 0 && index.isPrefixOf(history));
  const index = base ? base.extend(history) : HistoryIndex.build(history);
  indexByHistory.set(history, index);
  const previous = recentIndexes.indexOf(base!);
  if (previous >= 0) recentIndexes.splice(previous, 1);
  recentIndexes.unshift(index);
  recentIndexes.length = Math.min(recentIndexes.length, RECENT_INDEXES);
  return index;
}

const parsedBySpace = new WeakMap<SearchSpace, WeakMap<object, ParseResult<unknown>>>();

/**
 * Returns `space.parse(record.arch)`, parsed once per space and record.
 * The parsed architecture is shared, so callers must not change it.
 */
export function parseRecordArch(space: SearchSpace, record: EvaluationRecord): ParseResult<unknown> {
  let parsed = parsedBySpace.get(space);
  if (!parsed) {
    parsed = new WeakMap();
    parsedBySpace.set(space, parsed);
  }
  let result = parsed.get(record);
  if (!result) {
    result = space.parse(record.arch);
    parsed.set(record, result);
  }
  return result;
}

const encodedBySpace = new WeakMap<SearchSpace, WeakMap<object, Int32Array | null>>();

/**
 * Returns, per gene, the index of the record's value among the gene's
 * choices (-1 for a value not among them), or null when the record's
 * architecture does not parse. Computed once per space and record.
 */
export function encodeRecordChoices(space: SearchSpace, record: EvaluationRecord): Int32Array | null {
  let encoded = encodedBySpace.get(space);
  if (!encoded) {
    encoded = new WeakMap();
    encodedBySpace.set(space, encoded);
  }
  let choices = encoded.get(record);
  if (choices === undefined) {
    const parsed = parseRecordArch(space, record);
    choices = parsed.ok
      ? Int32Array.from(space.encode(parsed.arch), (value, g) =>
          space.genes[g].choices.indexOf(value),
        )
      : null;
    encoded.set(record, choices);
  }
  return choices;
}
