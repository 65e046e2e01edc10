/**
 * Soak run: a CoLLM-NAS search of 2,000 evaluations on the NAS-Bench-201
 * table with scripted LLMs that misbehave on 20% of their calls, seeded.
 * A misbehaving call returns one of the bad replies in
 * test/fixtures/bad-replies (for its role and the nb201 space) or throws.
 * The run must spend its budget; it prints the wall time and the memory
 * (RSS and V8 heap) at the start and the end.
 *
 * Usage: node --expose-gc --import tsx benchmarks/soak.ts TABLE.csv [--seed S]
 *
 * TABLE.csv is the NAS-Bench-201 table with the arch_str and
 * cifar10_test_acc columns.
 */
import { cpus, totalmem } from "node:os";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { TableEvaluator } from "../src/evaluators/table.ts";
import type { SearchTask } from "../src/graph/state.ts";
import { contentText } from "../src/llm/call.ts";
import { runSearch } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { Rng } from "../src/util/random.ts";
import { BAD_REPLY_CASES } from "../test/fixtures/bad-replies/cases.ts";
import { loadReply } from "../test/helpers/bad-replies.ts";
import { navigatorStrategy } from "../test/fixtures/llm/replies.ts";

const args = process.argv.slice(2);
const seedIndex = args.indexOf("--seed");
const seed = seedIndex >= 0 ? Number(args[seedIndex + 1]) : 0;
const tablePath = args.find((arg, i) => !arg.startsWith("--") && i !== seedIndex + 1);
if (tablePath === undefined || !Number.isSafeInteger(seed) || seed < 0) {
  console.error("usage: node --expose-gc --import tsx benchmarks/soak.ts TABLE.csv [--seed S]");
  process.exit(2);
}

const BUDGET = 2_000;
const PER_ROUND = 10;
/** Share of LLM calls that misbehave. */
const MISBEHAVIOUR_RATE = 0.2;
/** Share of misbehaving calls that throw instead of replying badly. */
const THROW_SHARE = 0.25;

type Role = "navigator" | "generator";

/** Counts of what the scripted models did, by role. */
const counts = {
  navigator: { calls: 0, badReplies: 0, thrown: 0 },
  generator: { calls: 0, badReplies: 0, thrown: 0 },
};

const space = createNb201Space();
const badReplies: Record<Role, string[]> = { navigator: [], generator: [] };
for (const testCase of BAD_REPLY_CASES) {
  if (testCase.space !== "nb201") continue;
  badReplies[testCase.role].push(loadReply(testCase.file, testCase.build));
}

/**
 * A chat model that replies well most of the time and misbehaves at the
 * seeded rate: the Navigator writes a fixed strategy, the Generator new
 * random cells in the count the prompt requests.
 */
class MisbehavingModel extends BaseChatModel {
  constructor(
    private readonly role: Role,
    private readonly rng: Rng,
  ) {
    super({});
  }

  _llmType(): string {
    return "misbehaving";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const tally = counts[this.role];
    tally.calls += 1;
    let text: string;
    if (this.rng.next() < MISBEHAVIOUR_RATE) {
      if (this.rng.next() < THROW_SHARE) {
        tally.thrown += 1;
        throw new Error(`scripted ${this.role} failure ${tally.thrown}`);
      }
      tally.badReplies += 1;
      text = this.rng.pick(badReplies[this.role]);
    } else {
      text = this.role === "navigator" ? navigatorStrategy("") : this.cells(messages);
    }
    const message = new AIMessage({
      content: text,
      usage_metadata: { input_tokens: 100, output_tokens: 10, total_tokens: 110 },
    });
    return { generations: [{ text, message }] };
  }

  private cells(messages: BaseMessage[]): string {
    const match = /Propose (\d+) new/.exec(contentText(messages.at(-1)!));
    const count = match ? Number(match[1]) : PER_ROUND;
    const candidates = Array.from({ length: count }, () => ({
      arch: space.format(space.sample(this.rng)),
    }));
    return JSON.stringify({ candidates });
  }
}

function memory(): { rssMiB: number; heapUsedMiB: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return {
    rssMiB: Math.round((usage.rss / 2 ** 20) * 10) / 10,
    heapUsedMiB: Math.round((usage.heapUsed / 2 ** 20) * 10) / 10,
  };
}

const table = await TableEvaluator.load({ path: tablePath, metric: "cifar10_test_acc" });
const task: SearchTask = {
  space: "nb201",
  objective: "maximize cifar10_test_acc of the network",
  budget: BUDGET,
  candidatesPerRound: PER_ROUND,
  target: null,
  maxRounds: null,
  constraints: "",
  maxGeneratorRetries: 2,
  seed,
};

const start = memory();
const started = Date.now();
const outcome = await runSearch({
  strategy: "collm",
  space,
  evaluator: table,
  task,
  navigatorModel: new MisbehavingModel("navigator", new Rng(seed * 2 + 1)),
  generatorModel: new MisbehavingModel("generator", new Rng(seed * 2 + 2)),
  structuredOutput: "text",
});
const seconds = (Date.now() - started) / 1000;
const end = memory();

const report = {
  machine: {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === "function",
  },
  seed,
  evaluations: outcome.history.length,
  failedEvaluations: outcome.history.filter((record) => record.error !== undefined).length,
  rounds: outcome.strategies.length,
  stopReason: outcome.stopReason,
  bestAccuracy: outcome.best?.accuracy ?? null,
  calls: counts,
  fallbacks: {
    navigator: outcome.fallbacks.filter((f) => f.role === "navigator").length,
    generator: outcome.fallbacks.filter((f) => f.role === "generator").length,
  },
  rejections: outcome.rejections.length,
  candidatesBySource: Object.fromEntries(
    [...new Set(outcome.history.map((record) => record.source))].map((source) => [
      source,
      outcome.history.filter((record) => record.source === source).length,
    ]),
  ),
  seconds,
  memory: { start, end },
};
console.log(JSON.stringify(report, null, 2));
if (outcome.history.length !== BUDGET) {
  console.error(`soak run failed: ${outcome.history.length} of ${BUDGET} evaluations`);
  process.exitCode = 1;
}
