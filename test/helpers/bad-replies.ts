import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BaseMessage } from "@langchain/core/messages";
import type { Evaluator } from "../../src/evaluators/types.ts";
import type { SearchTask } from "../../src/graph/state.ts";
import { contentText } from "../../src/llm/call.ts";
import type { AutoFormerConfig } from "../../src/spaces/autoformer.ts";
import { createSpace } from "../../src/spaces/registry.ts";
import { runSearch, type SearchOutcome } from "../../src/search/run.ts";
import type { SearchSpace } from "../../src/spaces/types.ts";
import type { BadReplyCase } from "../fixtures/bad-replies/cases.ts";
import { navigatorStrategy, sequentialGenerator } from "../fixtures/llm/replies.ts";
import { ScriptedChatModel } from "./scripted-model.ts";
import { SyntheticEvaluator } from "./synthetic-evaluator.ts";

/** Candidates per round in every bad-reply search. */
export const PER_ROUND = 4;

const FIXTURE_DIR = fileURLToPath(new URL("../fixtures/bad-replies/", import.meta.url));

/** Reads a reply fixture by file name, applying the case's build step when it has one. */
export function loadReply(file: string, build?: (text: string) => string): string {
  const text = readFileSync(`${FIXTURE_DIR}${file}`, "utf8");
  return build ? build(text) : text;
}

/** What one bad-reply search did in the round of the bad reply. */
export interface CaseRun {
  space: SearchSpace;
  outcome: SearchOutcome;
  /** Round whose Navigator or Generator gave the bad reply. */
  round: number;
  /** Whole-reply notes, stored as rejections of "(whole reply)". */
  notes: string[];
  /** Candidates from the reply that were evaluated, in order. */
  kept: { arch: unknown; repairs: string[] }[];
  /** Proposals the Coordinator rejected, as stored. */
  rejected: { proposal: string; reason: string }[];
  /** Evaluations in the round, candidates added by mutation included. */
  evaluatedInRound: number;
  /** Prompts the Generator received, as text. */
  generatorPrompts: string[];
}

/** Files and evaluators the bad-reply searches need. */
export interface CaseEnvironment {
  /** NAS-Bench-201 table evaluator. */
  table: Evaluator;
  autoformerConfig: AutoFormerConfig;
}

/**
 * Runs a short search in which the case's reply is the Generator's (or
 * the Navigator's) reply of one round, after the replies of `before`. The
 * other role plays its offline policy (Navigator) or proposes fresh cells
 * (Generator), and the Coordinator may not ask the Generator again.
 */
export async function runBadReplyCase(
  testCase: BadReplyCase,
  environment: CaseEnvironment,
): Promise<CaseRun> {
  const space = createSpace(testCase.space, { autoformerConfig: environment.autoformerConfig });
  const evaluator = testCase.space === "nb201" ? environment.table : new SyntheticEvaluator();
  const before = (testCase.before ?? []).map((file) => loadReply(file));
  const reply = loadReply(testCase.file, testCase.build);
  const round = before.length + 1;

  let navigator: ScriptedChatModel | undefined;
  let generator: ScriptedChatModel;
  if (testCase.role === "generator") {
    generator = new ScriptedChatModel([...before, reply]);
  } else {
    navigator = new ScriptedChatModel([...before, reply], navigatorStrategy("[later round]"));
    generator = new ScriptedChatModel([], sequentialGenerator(0));
  }
  const task: SearchTask = {
    space: space.name,
    objective: "maximize the accuracy of the network",
    // A bad Navigator reply gets one more round, to show the search goes on.
    budget: PER_ROUND * (testCase.role === "navigator" ? round + 1 : round),
    candidatesPerRound: PER_ROUND,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 0,
    seed: 0,
  };
  const outcome = await runSearch({
    strategy: "collm",
    space,
    evaluator,
    task,
    navigatorModel: navigator,
    generatorModel: generator,
  });

  const inRound = <T extends { round: number }>(items: readonly T[]) =>
    items.filter((item) => item.round === round);
  const rejections = inRound(outcome.rejections);
  const records = inRound(outcome.history);
  return {
    space,
    outcome,
    round,
    notes: rejections.filter((r) => r.proposal === "(whole reply)").map((r) => r.reason),
    kept: records
      .filter((record) => record.source === "generator")
      .map((record) => ({ arch: record.arch, repairs: record.repairs ?? [] })),
    rejected: rejections
      .filter((r) => r.proposal !== "(whole reply)")
      .map((r) => ({ proposal: r.proposal, reason: r.reason })),
    evaluatedInRound: records.length,
    generatorPrompts: generator.prompts.map((prompt: BaseMessage[]) =>
      prompt.map((message) => contentText(message)).join("\n"),
    ),
  };
}
