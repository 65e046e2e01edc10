import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createSearchGraph } from "../graph/build.ts";
import { describeLocation, openCheckpointer } from "../graph/checkpointer.ts";
import type { ReviewRequest } from "../graph/review.ts";
import type { SearchStateType } from "../graph/state.ts";
import type { SearchResultFile } from "../search/result.ts";
import { summarizeRounds, type RoundsSource, type RoundSummary } from "../search/rounds.ts";
import { UsageError } from "./errors.ts";
import { locateSearch, type LocatedSearch } from "./locate-search.ts";
import { parseReferenceArgs } from "./resume.ts";
import type { CommandIO } from "./search.ts";

export const HISTORY_HELP = `Usage: collm-nas history --out DIR [options]
       collm-nas history --thread ID --checkpoint SPEC [options]

Lists the rounds of a search: evaluations so far, best accuracy so far,
architectures evaluated and proposals rejected in the round, and the
strategy the round ran with. Reads the latest checkpoint, which also
covers a running or interrupted search, else DIR/result.json.

Options:
  --out DIR               run folder of the search
  --thread ID             thread to read (default: the one in search.json)
  --checkpoint SPEC       where the checkpoints are (default: as in search.json)
  --full                  print each strategy in full, not its first lines
  --json                  print the rounds as JSON
  -h, --help              this help
`;

/** Strategy lines printed per round without --full. */
const STRATEGY_LINES = 3;

/** The rounds of a search and where they were read from. */
interface SearchHistory {
  source: string;
  status: string;
  rounds: RoundSummary[];
}

/** Runs `collm-nas history`. Returns the process exit code. */
export async function historyCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const options = parseReferenceArgs(argv, "history", { json: true, full: true });
  if (options.help) {
    io.stdout(HISTORY_HELP);
    return 0;
  }
  const search = await locateSearch(options);
  const history = (await readCheckpointHistory(search)) ?? readResultHistory(search.outDir);

  if (options.json) {
    io.stdout(`${JSON.stringify(history, null, 2)}\n`);
    return 0;
  }
  io.stdout(formatHistory(history, options.full));
  return 0;
}

/** Reads the rounds from the thread's latest checkpoint; null when there is none. */
async function readCheckpointHistory(search: LocatedSearch): Promise<SearchHistory | null> {
  const { location, threadId } = search;
  if (threadId === null || location.kind === "none") return null;
  if (location.kind === "sqlite" && !existsSync(location.path)) return null;

  const opened = await openCheckpointer(location);
  if (!opened) return null;
  try {
    // Reading state runs no node, so the graph needs no space or evaluator.
    const graph = createSearchGraph({
      runtime: async () => {
        throw new Error("the history command runs no graph node");
      },
      checkpointer: opened.saver,
    });
    const snapshot = await graph.getState({ configurable: { thread_id: threadId } });
    if (snapshot.config.configurable?.checkpoint_id === undefined) return null;

    const state = snapshot.values as SearchStateType;
    const review = snapshot.tasks
      .flatMap((task) => task.interrupts ?? [])
      .map((pending) => pending.value as ReviewRequest)
      .at(0);
    let status: string;
    if (review) {
      status = `waiting for the review of round ${review.round}; continue with collm-nas resume`;
    } else if (snapshot.tasks.length === 0) {
      status = `finished: ${state.stopReason ?? "stopped"}`;
    } else {
      status = "not finished; continue with collm-nas resume";
    }
    return {
      source: `checkpoints in ${describeLocation(location)}, thread ${threadId}`,
      status,
      rounds: summarizeRounds(state),
    };
  } finally {
    await opened.close();
  }
}

function readResultHistory(outDir: string): SearchHistory {
  const path = join(outDir, "result.json");
  if (!existsSync(path)) {
    throw new UsageError(`no checkpoint and no ${path} found; has the search started?`);
  }
  const result = JSON.parse(readFileSync(path, "utf8")) as SearchResultFile;
  const source: RoundsSource = {
    history: result.history,
    strategies: result.strategies ?? [],
    rejections: result.rejections ?? [],
  };
  return { source: path, status: result.stopReason, rounds: summarizeRounds(source) };
}

function formatHistory(history: SearchHistory, full: boolean): string {
  const lines = [`Source: ${history.source}`, `Status: ${history.status}`, ""];
  if (history.rounds.length === 0) lines.push("No round has started yet.");

  for (const round of history.rounds) {
    const best = round.bestAccuracy === null ? "none" : `${round.bestAccuracy.toFixed(2)}%`;
    const failed = round.failed > 0 ? ` (${round.failed} failed)` : "";
    lines.push(
      `Round ${round.round}  evaluations ${round.evaluations}  best ${best}  ` +
        `evaluated ${round.evaluated}${failed}  rejected ${round.rejected}`,
    );
    if (!round.strategy) continue;

    const author = round.replaced
      ? `reviewer, replacing the ${round.replaced.author} strategy`
      : round.strategy.author;
    lines.push(`  Strategy (${author}):`);
    const text = round.strategy.strategy.split("\n");
    const nonBlank = text.filter((line) => line.trim() !== "");
    const printed = full ? text : nonBlank.slice(0, STRATEGY_LINES);
    for (const line of printed) lines.push(`    ${line}`);
    const hidden = nonBlank.length - printed.length;
    if (!full && hidden > 0) {
      lines.push(`    ... ${hidden} more lines (--full prints them)`);
    }
  }
  return `${lines.join("\n")}\n`;
}
