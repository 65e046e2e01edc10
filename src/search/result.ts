import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { RoleUsage } from "../graph/state.ts";
import type { SearchOutcome } from "./run.ts";

/** Tokens of one round, per role. */
export interface RoundTokenUsage {
  round: number;
  navigator: RoleUsage;
  generator: RoleUsage;
}

/** The result file of a search, written as DIR/result.json. */
export interface SearchResultFile {
  strategy: string;
  space: string;
  budget: number;
  evaluations: number;
  stopReason: string;
  /** "offline" when no LLM was used. */
  llm: { navigator: string; generator: string } | "offline" | null;
  settings: Record<string, unknown>;
  best: {
    arch: unknown;
    round: number;
    metrics: Record<string, number | undefined>;
    report: Record<string, number>;
  } | null;
  history: {
    round: number;
    arch: unknown;
    metrics: Record<string, number | undefined>;
    report?: Record<string, number>;
    source: string;
    repairs?: string[];
    error?: string;
  }[];
  strategies: SearchOutcome["strategies"];
  rejections: SearchOutcome["rejections"];
  fallbacks: SearchOutcome["fallbacks"];
  /** Tokens per role; null when no LLM was used. */
  usage: SearchOutcome["usage"];
  /**
   * Tokens per round and role, for the rounds with an LLM call; null when
   * no LLM was used. Absent from files written before it existed.
   */
  usageByRound?: RoundTokenUsage[] | null;
}

export function buildResult(
  outcome: SearchOutcome,
  info: {
    strategy: string;
    space: string;
    budget: number;
    llm: SearchResultFile["llm"];
    settings: Record<string, unknown>;
  },
): SearchResultFile {
  const bestRecord = outcome.best
    ? outcome.history.find((r) => r.key === outcome.best!.key)
    : undefined;
  const usedLlm = info.llm !== null && info.llm !== "offline";
  return {
    strategy: info.strategy,
    space: info.space,
    budget: info.budget,
    evaluations: outcome.history.length,
    stopReason: outcome.stopReason,
    llm: info.llm,
    settings: info.settings,
    best:
      outcome.best && bestRecord
        ? {
            arch: outcome.best.arch,
            round: outcome.best.round,
            metrics: bestRecord.metrics,
            report: bestRecord.report,
          }
        : null,
    history: outcome.history.map((record) => ({
      round: record.round,
      arch: record.arch,
      metrics: record.metrics,
      ...(Object.keys(record.report).length > 0 ? { report: record.report } : {}),
      source: record.source,
      ...(record.repairs ? { repairs: record.repairs } : {}),
      ...(record.error !== undefined ? { error: record.error } : {}),
    })),
    strategies: outcome.strategies,
    rejections: outcome.rejections,
    fallbacks: outcome.fallbacks,
    usage: usedLlm ? outcome.usage : null,
    usageByRound: usedLlm ? tokensByRound(outcome.roundUsage) : null,
  };
}

/** Sums the calls' tokens per round and role, rounds in increasing order. */
export function tokensByRound(calls: SearchOutcome["roundUsage"]): RoundTokenUsage[] {
  const rounds = new Map<number, RoundTokenUsage>();
  for (const call of calls) {
    let entry = rounds.get(call.round);
    if (!entry) {
      entry = {
        round: call.round,
        navigator: { calls: 0, promptTokens: 0, completionTokens: 0 },
        generator: { calls: 0, promptTokens: 0, completionTokens: 0 },
      };
      rounds.set(call.round, entry);
    }
    const role = entry[call.role];
    role.calls += 1;
    role.promptTokens += call.promptTokens;
    role.completionTokens += call.completionTokens;
  }
  return [...rounds.values()].sort((a, b) => a.round - b.round);
}

/**
 * Writes a file atomically: to a temporary file in the same directory,
 * then renamed over the target, so a reader never sees half a file.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${Date.now()}-${process.pid}.tmp`);
  await writeFile(temporary, content);
  await rename(temporary, path);
}
