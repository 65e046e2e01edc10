import type { EvaluationRecord } from "../graph/state.ts";
import type { ParseResult, SearchSpace } from "../spaces/types.ts";

/** Per gene and choice (indexed like `space.genes[g].choices`), over the successful records. */
export interface ChoiceTallies {
  counts: number[][];
  /** Accuracy sums, added in rank order. */
  sums: number[][];
  /** Counts among the first `elite` records of the ranking. */
  eliteCounts: number[][];
}

/**
 * Lookups over a search history that the roles make every round: the
 * successful records best first, the evaluated keys, per-gene tallies and
 * the run of rounds in which every evaluation failed.
 *
 * An index is built once per history array and extended, not rebuilt,
 * when the next round's array starts with the same record objects, as the
 * state's append reducer makes it. The cost per round is then a merge of
 * the ranking, not a sort, a parse of every record or a new set of keys.
 * Records are treated as immutable: a record changed in place after it
 * was indexed is not seen.
 */
export class HistoryIndex {
  private rankedRecords: readonly EvaluationRecord[] | undefined;
  /** Ranked positions of the records that passed a `rankedWhere` filter, by its key. */
  private readonly filtered = new WeakMap<object, Int32Array>();

  private constructor(
    readonly length: number,
    private readonly lineage: Lineage,
    /** History positions of the successful records, best first; ties keep history order. */
    private readonly rankedPositions: Int32Array,
    private readonly rounds: RoundRun,
    /** The index this one extends, for the filters it already ran. */
    private readonly base: { length: number; filtered: WeakMap<object, Int32Array> } | null,
  ) {}

  /** Builds the index of `history` from scratch. */
  static build(history: readonly EvaluationRecord[]): HistoryIndex {
    const lineage: Lineage = {
      records: [],
      accuracies: [],
      firstPosition: new Map(),
      duplicateKeys: false,
      nonFiniteAccuracy: false,
      choiceCodes: new WeakMap(),
    };
    appendToLineage(lineage, history, 0);
    return new HistoryIndex(
      history.length,
      lineage,
      rankPositions(lineage, 0, history.length),
      extendRoundRun(EMPTY_RUN, history),
      null,
    );
  }

  /** Successful records, best first; records of equal accuracy keep history order. */
  get ranked(): readonly EvaluationRecord[] {
    this.rankedRecords ??= this.recordsAt(this.rankedPositions);
    return this.rankedRecords;
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
    const lineage = this.lineage;
    if (lineage.records.length === this.length) {
      appendToLineage(lineage, history.slice(this.length), this.length);
    } else if (!sameRecords(lineage.records, history, this.length)) {
      // Another history branched off after this index. That history keeps
      // the shared lineage, and this one gets a lineage of its own.
      return HistoryIndex.build(history);
    }
    // NaN makes the sort's comparator inconsistent, so only a full sort
    // reproduces its order.
    if (lineage.nonFiniteAccuracy) return HistoryIndex.build(history);

    const added = rankPositions(lineage, this.length, history.length);
    return new HistoryIndex(
      history.length,
      lineage,
      mergePositions(lineage.accuracies, this.rankedPositions, added),
      extendRoundRun(this.rounds, history.slice(this.length)),
      { length: this.length, filtered: this.filtered },
    );
  }

  /**
   * Returns the ranked records for which `keep` is true. `key` names the
   * filter: results are cached under it, and an index extended from this
   * one runs `keep` only on the new records. Pass the same key only with
   * a filter that gives the same answers.
   */
  rankedWhere(key: object, keep: (record: EvaluationRecord) => boolean): readonly EvaluationRecord[] {
    let positions = this.filtered.get(key);
    if (!positions) {
      const records = this.lineage.records;
      const inherited = this.base?.filtered.get(key);
      if (inherited) {
        const added = rankPositions(this.lineage, this.base!.length, this.length);
        const kept = added.filter((position) => keep(records[position]));
        positions = mergePositions(this.lineage.accuracies, inherited, kept);
      } else {
        positions = this.rankedPositions.filter((position) => keep(records[position]));
      }
      this.filtered.set(key, positions);
    }
    return this.recordsAt(positions);
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

  /**
   * Tallies the genes' choices over the successful records whose
   * architecture parses in `space`. Each record is parsed once per space,
   * but the tally visits every ranked record, in rank order.
   */
  choiceTallies(space: SearchSpace, elite: number): ChoiceTallies {
    const codes = choiceCodesOf(this.lineage, space, this.length);
    const genes = space.genes.length;
    const width = Math.max(0, ...space.genes.map((gene) => gene.choices.length));
    const counts = new Float64Array(genes * width);
    const sums = new Float64Array(genes * width);
    const eliteCounts = new Float64Array(genes * width);
    const accuracies = this.lineage.accuracies;
    for (let rank = 0; rank < this.rankedPositions.length; rank++) {
      const position = this.rankedPositions[rank];
      if (!codes.parsed[position]) continue;
      const accuracy = accuracies[position];
      for (let g = 0; g < genes; g++) {
        const choice = codes.codes[position * genes + g];
        if (choice < 0) continue;
        const cell = g * width + choice;
        counts[cell] += 1;
        sums[cell] += accuracy;
        if (rank < elite) eliteCounts[cell] += 1;
      }
    }
    const byGene = (values: Float64Array) =>
      space.genes.map((gene, g) => Array.from(values.subarray(g * width, g * width + gene.choices.length)));
    return { counts: byGene(counts), sums: byGene(sums), eliteCounts: byGene(eliteCounts) };
  }

  private recordsAt(positions: Int32Array): EvaluationRecord[] {
    const records = this.lineage.records;
    const out = new Array<EvaluationRecord>(positions.length);
    for (let i = 0; i < positions.length; i++) out[i] = records[positions[i]];
    return out;
  }
}

/**
 * The records shared by the indexes of one growing history, with the
 * first position of every key and the choice codes per space.
 */
interface Lineage {
  records: EvaluationRecord[];
  /** Accuracy per record, as the ranking compares it (0 for a failed record). */
  accuracies: number[];
  firstPosition: Map<string, number>;
  duplicateKeys: boolean;
  nonFiniteAccuracy: boolean;
  choiceCodes: WeakMap<SearchSpace, ChoiceCodes>;
}

/** Choice indexes of the lineage's records in one space, `genes` per record. */
interface ChoiceCodes {
  /** Records coded so far, from the first. */
  filled: number;
  /** The choice index per record and gene; -1 for a value not among the choices. */
  codes: Int32Array;
  /** 1 where the record's architecture parses. */
  parsed: Uint8Array;
}

function appendToLineage(
  lineage: Lineage,
  records: readonly EvaluationRecord[],
  start: number,
): void {
  records.forEach((record, i) => {
    lineage.records.push(record);
    lineage.accuracies.push(record.metrics.accuracy ?? 0);
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

function sameRecords(
  records: readonly EvaluationRecord[],
  history: readonly EvaluationRecord[],
  start: number,
): boolean {
  for (let i = start; i < history.length; i++) {
    if (records[i] !== history[i]) return false;
  }
  return true;
}

/** Codes the lineage's records up to `length` in `space`, growing the arrays by doubling. */
function choiceCodesOf(lineage: Lineage, space: SearchSpace, length: number): ChoiceCodes {
  const genes = space.genes.length;
  let codes = lineage.choiceCodes.get(space);
  if (!codes) {
    codes = { filled: 0, codes: new Int32Array(0), parsed: new Uint8Array(0) };
    lineage.choiceCodes.set(space, codes);
  }
  if (codes.parsed.length < length) {
    const capacity = Math.max(length, 2 * codes.parsed.length, 64);
    const grownCodes = new Int32Array(capacity * genes);
    grownCodes.set(codes.codes);
    const grownParsed = new Uint8Array(capacity);
    grownParsed.set(codes.parsed);
    codes.codes = grownCodes;
    codes.parsed = grownParsed;
  }
  for (let position = codes.filled; position < length; position++) {
    const parsed = parseRecordArch(space, lineage.records[position]);
    if (!parsed.ok) continue;
    codes.parsed[position] = 1;
    const values = space.encode(parsed.arch);
    for (let g = 0; g < genes; g++) {
      codes.codes[position * genes + g] =
        g < values.length ? space.genes[g].choices.indexOf(values[g]) : -1;
    }
  }
  codes.filled = Math.max(codes.filled, length);
  return codes;
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

/**
 * Positions of the successful records from `start` to `end`, best first,
 * in the order that a stable sort of the records themselves gives.
 */
function rankPositions(lineage: Lineage, start: number, end: number): Int32Array {
  const positions: number[] = [];
  for (let i = start; i < end; i++) {
    if (isSuccess(lineage.records[i])) positions.push(i);
  }
  const accuracies = lineage.accuracies;
  positions.sort((a, b) => accuracies[b] - accuracies[a]);
  return Int32Array.from(positions);
}

/**
 * Merges two best-first position lists, where every position of `newer`
 * comes after those of `older` in the history. On equal accuracy the
 * position of `older` comes first, which is where a stable sort of the
 * whole history puts it. Each new position's place is found by binary
 * search, and the runs of `older` between them are copied whole.
 */
function mergePositions(
  accuracies: readonly number[],
  older: Int32Array,
  newer: Int32Array,
): Int32Array {
  if (newer.length === 0) return older;
  const merged = new Int32Array(older.length + newer.length);
  let from = 0;
  let written = 0;
  for (const position of newer) {
    const accuracy = accuracies[position];
    // The first position of `older` at or after `from` with a lower accuracy.
    let low = from;
    let high = older.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (accuracies[older[middle]] < accuracy) high = middle;
      else low = middle + 1;
    }
    merged.set(older.subarray(from, low), written);
    written += low - from;
    merged[written++] = position;
    from = low;
  }
  merged.set(older.subarray(from), written);
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
  if (base) recentIndexes.splice(recentIndexes.indexOf(base), 1);
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
