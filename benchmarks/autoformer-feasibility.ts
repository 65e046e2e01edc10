/**
 * Feasibility of AutoFormer proposals under parameter windows. For the T, S
 * and B spaces, the CoLLM-NAS graph runs with a scripted Generator whose
 * replies (benchmarks/fixtures/autoformer-replies.ts) mix subnets inside
 * and outside the window with malformed proposals. The script reports what
 * the Coordinator evaluated, repaired and rejected, and the cost spread of
 * the proposals, then runs the offline policy under the same windows.
 *
 * There is no AutoFormer accuracy model here, so a stand-in evaluator
 * returns each subnet's parameter count (M) as its score. The scores say
 * nothing about accuracy.
 *
 * Usage: node --import tsx benchmarks/autoformer-feasibility.ts [--data DIR]
 *   [--out docs/benchmarks-macro.md]
 * DIR defaults to ../shared/data/autoformer beside the repository and must
 * hold supernet-T.yaml, supernet-S.yaml and supernet-B.yaml.
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BaseMessage } from "@langchain/core/messages";
import type { EvaluationRequest, EvaluationResult, Evaluator } from "../src/evaluators/types.ts";
import type { EvaluationRecord, SearchTask } from "../src/graph/state.ts";
import { contentText } from "../src/llm/call.ts";
import { runSearch, type SearchOutcome } from "../src/search/run.ts";
import { createAutoFormerSpace, loadAutoFormerConfig } from "../src/spaces/autoformer.ts";
import type { MacroSearchSpace } from "../src/spaces/cost.ts";
import { buildCostCheck } from "../src/spaces/registry.ts";
import type { Cost, SearchSpace } from "../src/spaces/types.ts";
import { Rng } from "../src/util/random.ts";
import { ScriptedChatModel } from "../test/helpers/scripted-model.ts";
import { AUTOFORMER_FIXTURES, type SizeFixture } from "./fixtures/autoformer-replies.ts";

const { values: options } = parseArgs({
  options: {
    data: {
      type: "string",
      default: fileURLToPath(new URL("../../shared/data/autoformer", import.meta.url)),
    },
    out: { type: "string", default: "docs/benchmarks-macro.md" },
  },
});

const SIZES = [
  { id: "t", name: "autoformer-t", file: "supernet-T.yaml" },
  { id: "s", name: "autoformer-s", file: "supernet-S.yaml" },
  { id: "b", name: "autoformer-b", file: "supernet-B.yaml" },
] as const;
const CANDIDATES_PER_ROUND = 8;
const SCRIPTED_ROUNDS = 3;
const OFFLINE_BUDGET = 100;
const OFFLINE_SEEDS = [0, 1, 2];
const RANDOM_SAMPLES = 10_000;

/**
 * Stand-in evaluator for this benchmark only: the score of a subnet is its
 * parameter count in M, so a search under a window drifts to its upper
 * edge. It is not an accuracy.
 */
class ParamsStandInEvaluator implements Evaluator {
  readonly name = "stand-in:params-as-score";

  constructor(private readonly space: SearchSpace) {}

  async evaluate(requests: readonly EvaluationRequest[]): Promise<EvaluationResult[]> {
    return requests.map((request) => {
      const parsed = this.space.parse(request.arch);
      if (!parsed.ok) return { key: request.key, ok: false, error: parsed.reason };
      const paramsM = this.space.cost(parsed.arch).paramsM ?? Number.NaN;
      return { key: request.key, ok: true, accuracy: paramsM, metrics: {}, report: {} };
    });
  }
}

/** Rejection reasons grouped by cause, in the order the tables list them. */
const CATEGORIES: [string, RegExp][] = [
  ["below the window", /^violates the constraints: params .* is below/],
  ["above the window", /^violates the constraints: params .* exceeds/],
  ["value outside the choice lists", /expected one of/],
  ["list length does not match depth", /entries; expected/],
  ["missing field", /^missing field/],
  ["not a subnet", /^invalid architecture/],
  ["reply without JSON", /no JSON found/],
  ["duplicate", /^duplicate/],
  ["round already full", /round already has enough/],
];

function categoryOf(reason: string): string {
  return CATEGORIES.find(([, pattern]) => pattern.test(reason))?.[0] ?? "other";
}

/**
 * Creates a Generator that replays one fixture. It reads the round from the
 * evaluated count in its prompt, because every round evaluates
 * `CANDIDATES_PER_ROUND` architectures, and gives a round's replies in
 * order, then empty replies.
 */
function scriptedGenerator(fixture: SizeFixture): ScriptedChatModel {
  const callsByRound = new Map<number, number>();
  return new ScriptedChatModel([], (messages: BaseMessage[]) => {
    const prompt = contentText(messages.at(-1)!);
    const evaluated = Number(/already evaluated \((\d+) in all/.exec(prompt)?.[1] ?? 0);
    const round = Math.floor(evaluated / CANDIDATES_PER_ROUND);
    const call = callsByRound.get(round) ?? 0;
    callsByRound.set(round, call + 1);
    return fixture.rounds[round]?.[call] ?? '{"candidates": []}';
  });
}

function task(name: string, constraint: string, budget: number, seed: number): SearchTask {
  return {
    space: name,
    objective: "maximize the stand-in score (parameters in M)",
    budget,
    candidatesPerRound: CANDIDATES_PER_ROUND,
    target: null,
    maxRounds: null,
    constraints: constraint,
    maxGeneratorRetries: 2,
    seed,
  };
}

function quantiles(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/** Formats min / median / max of a cost field over some costs. */
function spread(costs: Cost[], field: "paramsM" | "flopsM", digits: number): string {
  const values = costs.map((cost) => cost[field]).filter((v): v is number => v !== undefined);
  if (values.length === 0) return "n/a";
  const { min, median, max } = quantiles(values);
  return `${min.toFixed(digits)} / ${median.toFixed(digits)} / ${max.toFixed(digits)}`;
}

function costOfRecord(record: EvaluationRecord): Cost {
  return { flopsM: record.metrics.flopsM, paramsM: record.metrics.paramsM };
}

const summaryRows: string[] = [];
const rejectionRows: string[] = [];
const costRows: string[] = [];
const offlineRows: string[] = [];
const started = Date.now();

for (const size of SIZES) {
  const config = await loadAutoFormerConfig(join(options.data, size.file));
  const space = createAutoFormerSpace(config, { name: size.name }) as MacroSearchSpace<unknown>;
  const fixture = AUTOFORMER_FIXTURES[size.id];
  const [low, high] = fixture.window;
  const constraint = `params>=${low},params<=${high}`;
  const checkCost = buildCostCheck(constraint, space)!;
  const window = `${low}-${high}M`;

  // Scripted Generator through the Coordinator.
  const outcome: SearchOutcome = await runSearch({
    strategy: "collm",
    space,
    evaluator: new ParamsStandInEvaluator(space),
    task: task(size.name, constraint, CANDIDATES_PER_ROUND * SCRIPTED_ROUNDS, 0),
    generatorModel: scriptedGenerator(fixture),
    checkCost,
  });

  const proposalCosts: Cost[] = [];
  let inWindow = 0;
  for (const proposal of fixture.proposals) {
    const structural = space.structuralCost(proposal);
    if (!structural.ok) continue;
    proposalCosts.push(structural.cost);
    if (checkCost(structural.cost) === null) inWindow++;
  }
  const fromGenerator = outcome.history.filter((record) => record.source === "generator");
  const repaired = fromGenerator.filter((record) => (record.repairs?.length ?? 0) > 0).length;
  const filled = outcome.history.filter((record) => record.source === "fallback mutation").length;
  const outside = outcome.history.filter((record) => checkCost(costOfRecord(record)) !== null);
  if (outside.length > 0) {
    throw new Error(`${size.name}: ${outside.length} evaluated subnets are outside ${window}`);
  }
  const proposalRejections = outcome.rejections.filter((r) => r.proposal !== "(whole reply)");
  summaryRows.push(
    `| ${size.name} | ${window} | ${fixture.proposals.length} | ${inWindow} | ` +
      `${fromGenerator.length - repaired} | ${repaired} | ${proposalRejections.length} | ` +
      `${outcome.rejections.length - proposalRejections.length} | ${filled} |`,
  );

  const byCategory = new Map<string, { count: number; example: string }>();
  for (const rejection of outcome.rejections) {
    const category = categoryOf(rejection.reason);
    const entry = byCategory.get(category) ?? { count: 0, example: rejection.reason };
    entry.count++;
    byCategory.set(category, entry);
  }
  for (const [category] of [...CATEGORIES, ["other"] as const]) {
    const entry = byCategory.get(category);
    if (!entry) continue;
    const example = entry.example.replace(/\|/g, "\\|");
    rejectionRows.push(`| ${size.name} | ${category} | ${entry.count} | ${example} |`);
  }

  const evaluatedCosts = outcome.history.map(costOfRecord);
  costRows.push(
    `| ${size.name} | buildable proposals | ${proposalCosts.length} | ` +
      `${spread(proposalCosts, "paramsM", 2)} | ${spread(proposalCosts, "flopsM", 0)} |`,
    `| ${size.name} | evaluated | ${evaluatedCosts.length} | ` +
      `${spread(evaluatedCosts, "paramsM", 2)} | ${spread(evaluatedCosts, "flopsM", 0)} |`,
  );

  // The offline policy under the same window.
  const rng = new Rng(0);
  let randomInWindow = 0;
  for (let i = 0; i < RANDOM_SAMPLES; i++) {
    if (checkCost(space.cost(space.sample(rng))) === null) randomInWindow++;
  }
  for (const seed of OFFLINE_SEEDS) {
    let checks = 0;
    const countingCheck = (cost: Cost) => {
      checks++;
      return checkCost(cost);
    };
    const offline = await runSearch({
      strategy: "collm",
      space,
      evaluator: new ParamsStandInEvaluator(space),
      task: task(size.name, constraint, OFFLINE_BUDGET, seed),
      checkCost: countingCheck,
    });
    const offlineOutside = offline.history.filter(
      (record) => checkCost(costOfRecord(record)) !== null,
    ).length;
    const offlineFilled = offline.history.filter(
      (record) => record.source === "fallback mutation",
    ).length;
    const costs = offline.history.map(costOfRecord);
    offlineRows.push(
      `| ${size.name} | ${window} | ${seed} | ${offline.history.length} | ${offlineOutside} | ` +
        `${offline.rejections.length} | ${offlineFilled} | ` +
        `${(checks / offline.history.length).toFixed(1)} | ` +
        `${((100 * randomInWindow) / RANDOM_SAMPLES).toFixed(1)}% | ` +
        `${spread(costs, "paramsM", 2)} |`,
    );
  }
  console.error(`${size.name}: done`);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);

const page = `# AutoFormer feasibility under parameter windows

Written by \`node --import tsx benchmarks/autoformer-feasibility.ts\` in
${seconds} s on ${cpus().length} cores (${cpus()[0]?.model ?? "unknown CPU"}).
It checks how proposals for the AutoFormer T, S and B spaces fare under
parameter windows: which ones the Coordinator evaluates, repairs and
rejects, and at what cost.

**No accuracy is measured here.** There is no AutoFormer accuracy model
in this package, so a stand-in evaluator (\`stand-in:params-as-score\`)
scores each subnet by its parameter count in M. The stand-in only lets
the graph run. Its scores mean nothing, and a search that maximizes them
drifts to the upper edge of the window.

## Windows

AutoFormer searches each supernet for the best subnet whose parameter
count lies in a window, set with \`--min-param-limits\` and
\`--param-limits\` of its \`evolution.py\` (github.com/microsoft/Cream,
AutoFormer/, commit 4a13c40). Its defaults, 18 and 23 (M), are the window
of AutoFormer-S, and the README lists the released subnets at 5.8M (T),
22.9M (S) and 53.7M (B) without stating the T and B windows. We use:

| space | window | source |
| --- | --- | --- |
| autoformer-t | 5-6M | ours: a 1M window that contains the released 5.8M subnet |
| autoformer-s | 18-23M | the defaults of AutoFormer's evolution.py |
| autoformer-b | 45-54M | ours: a 9M window that contains the released 53.7M subnet |

Parameters come from this package's AutoFormer cost model, which follows
AutoFormer's \`get_sampled_params_numel\` and counts the relative position
tables of the released models.

## Scripted Generator through the Coordinator

Each space runs ${SCRIPTED_ROUNDS} rounds of ${CANDIDATES_PER_ROUND} candidates with the offline
Navigator and a scripted Generator. Its replies
(benchmarks/fixtures/autoformer-replies.ts) mix subnets inside and outside
the window with malformed proposals. Those have lists longer or shorter
than the depth, values outside the choice lists, missing fields or numbers
as strings, or are not subnets at all. One proposal repeats an evaluated
subnet, and one reply has no JSON. When a round has too few valid proposals after two retries, the
Coordinator fills it with mutations of the best subnets that meet the
window ("filled by mutation").

"in window" counts the proposals whose cost, computed even for values
outside the choice lists, meets the window. "evaluated as proposed" and
"evaluated after repair" split the Generator's evaluated proposals by
whether the Coordinator had to repair them.

| space | window | proposals | in window | evaluated as proposed | evaluated after repair | rejected | whole replies rejected | filled by mutation |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${summaryRows.join("\n")}

Rejections by cause, with the first reason of each cause as the Coordinator
recorded it (the same text reaches the next Navigator prompt):

| space | cause | count | first reason |
| --- | --- | --- | --- |
${rejectionRows.join("\n")}

No evaluated subnet lies outside its window.

## Cost spread

Min / median / max over the Generator's proposals that describe a
buildable subnet (values outside the choice lists included), and over the
evaluated subnets:

| space | set | count | params (M) | FLOPs (M) |
| --- | --- | --- | --- | --- |
${costRows.join("\n")}

## Offline policy under the same windows

The offline policy in both roles, ${OFFLINE_BUDGET} evaluations,
${CANDIDATES_PER_ROUND} candidates per round, stand-in scores. The offline
Generator checks the window before it proposes, so its proposals are never
rejected for cost. "checks per evaluation" counts every call of the
constraint check in the graph per evaluated subnet, a measure of how hard
the window is to hit; "random in window" is the share of ${RANDOM_SAMPLES.toLocaleString("en-US")}
uniform random subnets that meet it.

| space | window | seed | evaluated | outside window | rejected | filled by mutation | checks per evaluation | random in window | params min / median / max |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${offlineRows.join("\n")}
`;
writeFileSync(options.out, page);
console.error(`wrote ${options.out} in ${seconds} s`);
