import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { BaseMessage } from "@langchain/core/messages";
import { ofaEvolution, type OfaEvolutionOptions } from "../src/baselines/ofa-evolution.ts";
import { CachedEvaluator } from "../src/evaluators/cache.ts";
import {
  createOnnxPredictorEvaluator,
  type OnnxPredictorEvaluator,
} from "../src/evaluators/onnx-predictor.ts";
import type { EvaluationRequest, EvaluationResult, Evaluator } from "../src/evaluators/types.ts";
import type { EvaluationRecord, Rejection, SearchTask } from "../src/graph/state.ts";
import { contentText } from "../src/llm/call.ts";
import { runSearch, type SearchOutcome } from "../src/search/run.ts";
import { createAutoFormerSpace, parseAutoFormerConfig } from "../src/spaces/autoformer.ts";
import { createOfaMbv3Space, isActiveSlot, type OfaArch } from "../src/spaces/ofa-mbv3.ts";
import { buildCostCheck } from "../src/spaces/registry.ts";
import { createSposSpace } from "../src/spaces/spos-shufflenet.ts";
import type { Cost, SearchSpace } from "../src/spaces/types.ts";
import { ScriptedChatModel } from "./helpers/scripted-model.ts";

const PREDICTOR = fileURLToPath(
  new URL("../../shared/data/ofa/ofa_mbv3_acc_predictor.onnx", import.meta.url),
);
const predictorSkip = existsSync(PREDICTOR) ? false : `OFA predictor not found at ${PREDICTOR}`;

/** The AutoFormer-T choice lists of github.com/microsoft/Cream (supernet-T.yaml). */
const AUTOFORMER_T_YAML = `SUPERNET:
  MLP_RATIO: 4.0
  NUM_HEADS: 4
  EMBED_DIM: 256
  DEPTH: 14
SEARCH_SPACE:
  MLP_RATIO: [3.5, 4]
  NUM_HEADS: [3, 4]
  DEPTH: [12, 13, 14]
  EMBED_DIM: [192, 216, 240]
`;

const ofa = createOfaMbv3Space();
const ofaSpace = ofa as SearchSpace;
const spos = createSposSpace() as SearchSpace;
const autoformerT = createAutoFormerSpace(parseAutoFormerConfig(AUTOFORMER_T_YAML, "T"), {
  name: "autoformer-t",
}) as SearchSpace;

/**
 * Stand-in evaluator for tests: the score is one cost field of the
 * architecture, so a search under an upper bound climbs towards it. It
 * records every key it is asked for.
 */
class CostStandInEvaluator implements Evaluator {
  readonly name: string;
  readonly requested: string[] = [];

  constructor(
    private readonly space: SearchSpace,
    private readonly field: "flopsM" | "paramsM",
  ) {
    this.name = `stand-in:${field}`;
  }

  async evaluate(requests: readonly EvaluationRequest[]): Promise<EvaluationResult[]> {
    return requests.map((request) => {
      this.requested.push(request.key);
      const parsed = this.space.parse(request.arch);
      if (!parsed.ok) return { key: request.key, ok: false, error: parsed.reason };
      const score = this.space.cost(parsed.arch)[this.field] ?? Number.NaN;
      return { key: request.key, ok: true, accuracy: score, metrics: {}, report: {} };
    });
  }
}

function task(overrides: Partial<SearchTask>): SearchTask {
  return {
    space: "test",
    objective: "maximize the score",
    budget: 10,
    candidatesPerRound: 5,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 0,
    seed: 0,
    ...overrides,
  };
}

/** Creates a Navigator that writes a strategy marked with its round. */
function markedNavigator(): ScriptedChatModel {
  let round = 0;
  return new ScriptedChatModel([], () => {
    round++;
    return [
      "## Summary",
      `[round-${round}] Explore the space.`,
      "",
      "## Directions",
      "Stay within the constraints.",
    ].join("\n");
  });
}

/** Creates a Generator that replies with the proposals of the round the Navigator is in. */
function roundGenerator(navigator: ScriptedChatModel, rounds: unknown[][]): ScriptedChatModel {
  return new ScriptedChatModel([], () => {
    const proposals = rounds[navigator.prompts.length - 1] ?? [];
    return `Candidates:\n\`\`\`json\n${JSON.stringify({ candidates: proposals })}\n\`\`\``;
  });
}

interface ScriptedRun {
  outcome: SearchOutcome;
  navigator: ScriptedChatModel;
}

/** Runs a search with a scripted Navigator and a Generator that replays `rounds`. */
async function runScripted(
  space: SearchSpace,
  evaluator: Evaluator,
  constraint: string,
  rounds: unknown[][],
): Promise<ScriptedRun> {
  const navigator = markedNavigator();
  const outcome = await runSearch({
    strategy: "collm",
    space,
    evaluator,
    task: task({ space: space.name, constraints: constraint }),
    navigatorModel: navigator,
    generatorModel: roundGenerator(navigator, rounds),
    checkCost: buildCostCheck(constraint, space),
  });
  return { outcome, navigator };
}

/** Returns the history record of a proposal; fails when it was not evaluated. */
function recordOf(space: SearchSpace, run: ScriptedRun, proposal: unknown): EvaluationRecord {
  const key = keyOf(space, proposal);
  const record = run.outcome.history.find((entry) => entry.key === key);
  assert.ok(record, `${key} was not evaluated`);
  return record;
}

/** Returns the key of a proposal as the space parses it. */
function keyOf(space: SearchSpace, proposal: unknown): string {
  const parsed = space.parse(proposal);
  assert.ok(parsed.ok, `fixture does not parse: ${JSON.stringify(proposal)}`);
  return space.key(parsed.arch);
}

function roundRecords(history: readonly EvaluationRecord[], round: number) {
  return history.filter((record) => record.round === round);
}

function reasonsOf(rejections: readonly Rejection[], round: number): string[] {
  return rejections.filter((r) => r.round === round).map((r) => r.reason);
}

function costOf(record: EvaluationRecord): Cost {
  const { flopsM, paramsM, latencyMs } = record.metrics;
  return { flopsM, paramsM, latencyMs };
}

/** Fills the 20 OFA slots: active slots cycle through `values`, inactive slots get 0. */
function slots(d: readonly number[], values: readonly number[]): number[] {
  return Array.from({ length: 20 }, (_, slot) =>
    isActiveSlot(d, slot) ? values[slot % values.length] : 0,
  );
}

/** Builds an AutoFormer proposal; a number for `mlp` or `heads` fills every layer. */
function subnet(embed: number, depth: number, mlp: number | number[], heads: number | number[]) {
  return {
    embed_dim: embed,
    depth,
    mlp_ratio: Array.isArray(mlp) ? mlp : new Array(depth).fill(mlp),
    num_heads: Array.isArray(heads) ? heads : new Array(depth).fill(heads),
  };
}

describe("ofa-mbv3 scripted search", { skip: predictorSkip }, () => {
  const D = [2, 3, 2, 3, 2];
  const plain = { r: 192, d: D, ks: slots(D, [3, 5]), e: slots(D, [4, 3]) };
  const perStage = {
    r: 176,
    d: D,
    ks: [[3, 5], [5, 5, 3], [7, 3], [3, 3, 5], [5, 7]],
    e: [[3, 3], [4, 4, 3], [3, 6], [4, 3, 3], [6, 4]],
  };
  const perActiveBlock = {
    r: 184,
    d: D,
    ks: [3, 3, 5, 5, 5, 7, 7, 3, 3, 3, 5, 5],
    e: [3, 4, 3, 4, 3, 4, 3, 4, 3, 4, 3, 4],
  };
  const offGrid = { r: 202, d: D, ks: slots(D, [5]), e: slots(D, [3]) };
  const deepest = [4, 4, 4, 4, 4];
  const largest = { r: 224, d: deepest, ks: slots(deepest, [7]), e: slots(deepest, [6]) };
  const shortKs = { r: 192, d: D, ks: [3, 5, 7, 3, 5, 7, 3], e: slots(D, [4]) };
  const kernelNine = { r: 192, d: D, ks: slots(D, [3, 9]), e: slots(D, [4]) };
  const fourDepths = { r: 192, d: [2, 3, 2, 3], ks: slots(D, [3]), e: slots(D, [4]) };
  const depthFive = {
    r: 192,
    d: [2, 3, 5, 3, 2],
    ks: new Array(20).fill(3),
    e: new Array(20).fill(4),
  };
  const resolution240 = { r: 240, d: D, ks: slots(D, [3]), e: slots(D, [4]) };
  const roundTwo = [160, 168, 196, 208, 216].map((r) => ({
    r,
    d: D,
    ks: slots(D, [5, 3]),
    e: slots(D, [3]),
  }));

  let predictor: OnnxPredictorEvaluator<OfaArch>;
  let run: ScriptedRun;

  before(async () => {
    predictor = await createOnnxPredictorEvaluator({
      modelPath: PREDICTOR,
      space: ofa,
      encoder: ofa.predictorEncoder,
    });
    run = await runScripted(ofaSpace, predictor, "flops<=400", [
      [
        largest,
        plain,
        perStage,
        perActiveBlock,
        offGrid,
        shortKs,
        kernelNine,
        fourDepths,
        depthFive,
        resolution240,
      ],
      roundTwo,
    ]);
  });

  after(async () => {
    await predictor.close();
  });

  test("valid proposal is evaluated unchanged", () => {
    const record = recordOf(ofaSpace, run, plain);
    assert.equal(record.repairs, undefined);
    assert.equal(record.source, "generator");
  });

  test("lists per stage are repaired", () => {
    const record = recordOf(ofaSpace, run, perStage);
    assert.deepEqual(record.repairs, [
      "not in the requested output form",
      "ks given as one list per stage; placed into the 20 slots",
      "e given as one list per stage; placed into the 20 slots",
    ]);
  });

  test("lists per active block are repaired", () => {
    const record = recordOf(ofaSpace, run, perActiveBlock);
    assert.deepEqual(record.repairs, [
      "ks has 12 entries, one per active block; placed them into the 20 slots",
      "e has 12 entries, one per active block; placed them into the 20 slots",
    ]);
  });

  test("resolution between choices is rounded", () => {
    const record = recordOf(ofaSpace, run, offGrid);
    assert.deepEqual(record.repairs, ["r=202 rounded to 204, the nearest valid resolution"]);
    assert.equal((record.arch as OfaArch).r, 204);
  });

  test("malformed and over-budget proposals are rejected", () => {
    assert.deepEqual(reasonsOf(run.outcome.rejections, 1), [
      "violates the constraints: flops 843.1M exceeds 400M by 443.1M (110.8%)",
      "ks has 7 entries; expected 20 (4 slots per stage, 0 in inactive slots) " +
        "or 12 (one per active block)",
      "ks[1] (stage 1, block 2) is 9; expected one of 3, 5, 7",
      "d has 4 entries; expected 5 (one depth per stage)",
      "d[2]=5 is not a valid depth; expected one of 2, 3, 4",
      "r=240 is outside the space; expected a multiple of 4 from 160 to 224",
    ]);
  });

  test("round one evaluates the accepted proposals", () => {
    const records = roundRecords(run.outcome.history, 1);
    const fromGenerator = records.filter((record) => record.source === "generator");
    const expected = [plain, perStage, perActiveBlock, offGrid].map((p) => keyOf(ofaSpace, p));
    assert.deepEqual(fromGenerator.map((record) => record.key), expected);
    assert.equal(records.filter((record) => record.source === "fallback mutation").length, 1);
  });

  test("rejected proposals are never evaluated", () => {
    const keys = new Set(run.outcome.history.map((record) => record.key));
    assert.equal(keys.has(keyOf(ofaSpace, largest)), false);
    assert.equal(run.outcome.history.length, 10);
  });

  test("over-budget miss reaches the next navigator prompt", () => {
    const prompt = contentText(run.navigator.prompts[1].at(-1) as BaseMessage);
    assert.match(prompt, /violates the constraints: flops 843\.1M exceeds 400M by 443\.1M/);
  });

  test("every evaluation meets the constraint", () => {
    const check = buildCostCheck("flops<=400", ofaSpace)!;
    for (const record of run.outcome.history) {
      assert.equal(check(costOf(record)), null, record.key);
    }
  });

  test("predictor scores every evaluation", () => {
    for (const record of run.outcome.history) {
      const accuracy = record.metrics.accuracy;
      assert.ok(accuracy !== undefined, `${record.key} has no accuracy`);
      assert.ok(accuracy > 70, `${record.key}: ${accuracy}`);
      assert.ok(accuracy < 90, `${record.key}: ${accuracy}`);
    }
  });

  test("offline collm stays within flops<=400", async () => {
    const checkCost = buildCostCheck("flops<=400", ofaSpace)!;
    const outcome = await runSearch({
      strategy: "collm",
      space: ofaSpace,
      evaluator: new CachedEvaluator(predictor),
      task: task({
        space: "ofa-mbv3",
        budget: 60,
        candidatesPerRound: 10,
        constraints: "flops<=400",
      }),
      checkCost,
    });
    assert.equal(outcome.history.length, 60);
    assert.deepEqual(outcome.rejections, []);
    for (const record of outcome.history) {
      assert.equal(checkCost(costOf(record)), null, record.key);
    }
  });
});

describe("spos-shufflenet scripted search", () => {
  const mixed = (pattern: number[]) =>
    Array.from({ length: 20 }, (_, layer) => pattern[layer % pattern.length]);
  const plain = { arch: mixed([0, 1]) };
  const byName = {
    arch: mixed([1, 0, 0]).map((choice) => ["shufflenet_3x3", "shufflenet_5x5"][choice]),
  };
  const longList = { arch: [...mixed([0, 0, 1]), 1] };
  const allXception = { arch: new Array(20).fill(3) };
  const shortList = { arch: mixed([1]).slice(0, 19) };
  const blockFour = { arch: mixed([0, 1, 4]) };
  const bareList = mixed([1, 1, 0]);
  const roundTwo = [[0, 0, 0, 1], [1, 0, 1], [0, 1, 1, 1], [1, 0, 0, 0, 0], [0, 0, 1, 1]].map(
    (pattern) => ({ arch: mixed(pattern) }),
  );

  let run: ScriptedRun;

  before(async () => {
    const evaluator = new CostStandInEvaluator(spos, "flopsM");
    run = await runScripted(spos, evaluator, "flops<=330", [
      [allXception, plain, byName, longList, shortList, blockFour, bareList],
      roundTwo,
    ]);
  });

  test("block names are repaired", () => {
    const repairs = recordOf(spos, run, byName).repairs ?? [];
    assert.equal(repairs[0], "not in the requested output form");
    assert.equal(repairs[1], 'layer 1: "shufflenet_5x5" read as 1 (shufflenet_5x5)');
    assert.equal(repairs.length, 21);
  });

  test("extra layers are dropped", () => {
    const record = recordOf(spos, run, longList);
    assert.deepEqual(record.repairs, ["architecture has 21 entries; kept the first 20"]);
  });

  test("bare list is accepted as is", () => {
    // A bare list is the space's own JSON form, so it needs no note.
    const record = recordOf(spos, run, bareList);
    assert.equal(record.repairs, undefined);
  });

  test("malformed and over-budget proposals are rejected", () => {
    assert.deepEqual(reasonsOf(run.outcome.rejections, 1), [
      "violates the constraints: flops 358.83M exceeds 330M by 28.83M (8.7%)",
      "architecture has 19 entries; expected a list of 20 block indices 0-3, such as " +
        "[2, 1, 0, 1, ...] (stages of 4, 4, 8 and 4 layers)",
      "layer 3 is 4; expected a block index 0-3 (shufflenet_3x3, shufflenet_5x5, " +
        "shufflenet_7x7, xception_3x3)",
    ]);
  });

  test("round one evaluates the accepted proposals", () => {
    const records = roundRecords(run.outcome.history, 1);
    const expected = [plain, byName, longList, bareList].map((p) => keyOf(spos, p));
    const fromGenerator = records.filter((record) => record.source === "generator");
    assert.deepEqual(fromGenerator.map((record) => record.key), expected);
    assert.equal(records.length, 5);
  });

  test("over-budget miss reaches the next navigator prompt", () => {
    const prompt = contentText(run.navigator.prompts[1].at(-1) as BaseMessage);
    assert.match(prompt, /flops 358\.83M exceeds 330M by 28\.83M \(8\.7%\)/);
  });

  test("every evaluation meets the constraint", () => {
    const check = buildCostCheck("flops<=330", spos)!;
    assert.equal(run.outcome.history.length, 10);
    for (const record of run.outcome.history) {
      assert.equal(check(costOf(record)), null, record.key);
    }
  });
});

describe("autoformer-t scripted search", () => {
  const WINDOW = "params>=5,params<=6";
  const smallest = subnet(192, 12, 3.5, 3);
  const longList = subnet(192, 12, [3.5, 4, 3.5, 4, 3.5, 4, 3.5, 4, 3.5, 4, 3.5, 4, 4], 3);
  const depthMissing = {
    embed_dim: 192,
    mlp_ratio: [3.5, 3.5, 3.5, 4, 3.5, 3.5, 3.5, 4, 3.5, 3.5, 3.5, 4, 3.5],
    num_heads: new Array(13).fill(3),
  };
  const widest = subnet(240, 14, 4, 4);
  const shortList = subnet(192, 12, new Array(11).fill(4), 3);
  const fiveHeads = subnet(192, 12, 3.5, [3, 5, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
  const depth15 = subnet(192, 15, 3.5, 3);
  const roundTwo = [
    subnet(192, 12, 4, 3),
    subnet(192, 13, 3.5, 3),
    subnet(192, 12, 3.5, [3, 3, 4, 3, 3, 4, 3, 3, 4, 3, 3, 4]),
    subnet(192, 12, [4, 3.5, 3.5, 4, 3.5, 3.5, 4, 3.5, 3.5, 4, 3.5, 3.5], 3),
    subnet(192, 12, 3.5, [4, 3, 4, 3, 4, 3, 4, 3, 4, 3, 4, 3]),
  ];

  let run: ScriptedRun;

  before(async () => {
    const evaluator = new CostStandInEvaluator(autoformerT, "paramsM");
    run = await runScripted(autoformerT, evaluator, WINDOW, [
      [widest, smallest, longList, depthMissing, shortList, fiveHeads, depth15],
      roundTwo,
    ]);
  });

  test("valid proposal is evaluated unchanged", () => {
    const record = recordOf(autoformerT, run, smallest);
    assert.equal(record.repairs, undefined);
  });

  test("extra list entries are dropped", () => {
    const record = recordOf(autoformerT, run, longList);
    assert.deepEqual(record.repairs, [
      "mlp_ratio has 13 entries for depth 12; kept the first 12",
    ]);
  });

  test("missing depth is read from the lists", () => {
    const record = recordOf(autoformerT, run, depthMissing);
    assert.deepEqual(record.repairs, [
      "not in the requested output form",
      "depth missing; set to 13, the length of the per-layer lists",
    ]);
  });

  test("malformed and out-of-window proposals are rejected", () => {
    assert.deepEqual(reasonsOf(run.outcome.rejections, 1), [
      "violates the constraints: params 10.52M exceeds 6M by 4.52M (75.3%)",
      "mlp_ratio has 11 entries; expected 12, one per layer",
      "num_heads[1] is 5; expected one of 3, 4",
      "depth is 15; expected one of 12, 13, 14",
    ]);
  });

  test("round one evaluates the accepted proposals", () => {
    const records = roundRecords(run.outcome.history, 1);
    const expected = [smallest, longList, depthMissing].map((p) =>
      keyOf(autoformerT, p),
    );
    const fromGenerator = records.filter((record) => record.source === "generator");
    assert.deepEqual(fromGenerator.map((record) => record.key), expected);
    assert.equal(records.filter((record) => record.source === "fallback mutation").length, 2);
  });

  test("window miss reaches the next navigator prompt", () => {
    const prompt = contentText(run.navigator.prompts[1].at(-1) as BaseMessage);
    assert.match(prompt, /params 10\.52M exceeds 6M by 4\.52M \(75\.3%\)/);
  });

  test("every evaluation lies in the window", () => {
    const check = buildCostCheck(WINDOW, autoformerT)!;
    assert.equal(run.outcome.history.length, 10);
    for (const record of run.outcome.history) {
      assert.equal(check(costOf(record)), null, record.key);
    }
  });
});

describe("ofa evolution baseline", () => {
  const checkCost = buildCostCheck("flops<=300", ofaSpace)!;
  const evolve = (overrides: Partial<OfaEvolutionOptions> = {}) => {
    const evaluator = new CostStandInEvaluator(ofaSpace, "flopsM");
    const result = ofaEvolution({
      space: ofaSpace,
      evaluator,
      budget: Number.POSITIVE_INFINITY,
      seed: 3,
      checkCost,
      population: 20,
      generations: 5,
      ...overrides,
    });
    return { evaluator, result };
  };

  test("every evaluation meets the constraint", async () => {
    const { result } = evolve();
    const { history, best } = await result;
    for (const record of history) {
      assert.equal(checkCost(costOf(record)), null, record.key);
    }
    assert.ok(best !== null);
  });

  test("queries count population per generation", async () => {
    const outcome = await evolve().result;
    assert.equal(outcome.queries, 20 + 5 * 20);
    assert.equal(outcome.generations, 5);
    assert.match(outcome.stopReason, /^generations done: 5$/);
  });

  test("default population is 100", async () => {
    const outcome = await evolve({ population: undefined, generations: 2 }).result;
    assert.equal(outcome.queries, 100 + 2 * 100);
  });

  test("evaluator sees each architecture once", async () => {
    const { evaluator, result } = evolve();
    const { history } = await result;
    assert.equal(new Set(evaluator.requested).size, evaluator.requested.length);
    assert.deepEqual(evaluator.requested, history.map((record) => record.key));
  });

  test("records carry generation and source", async () => {
    const { history } = await evolve().result;
    const rounds = new Set(history.map((record) => record.round));
    assert.ok([...rounds].every((round) => round >= 0 && round <= 5));
    assert.ok(rounds.has(0));
    assert.ok(history.every((record) => record.source === "ofa-evolution"));
  });

  test("zero mutation probability copies parents", async () => {
    const outcome = await evolve({ mutationRatio: 1, mutateProb: 0, resolutionMutateProb: 0 })
      .result;
    assert.equal(outcome.history.filter((record) => record.round > 0).length, 0);
    assert.equal(outcome.queries, 120);
  });

  test("single parent crossover adds nothing", async () => {
    // Population 20 with parent ratio 0.05 keeps one parent, and crossing
    // it with itself returns it unchanged.
    const outcome = await evolve({ parentRatio: 0.05, mutationRatio: 0 }).result;
    assert.equal(outcome.history.filter((record) => record.round > 0).length, 0);
  });

  test("high mutation probability adds architectures", async () => {
    const outcome = await evolve({ mutationRatio: 1, mutateProb: 0.5, generations: 1 }).result;
    assert.ok(outcome.history.filter((record) => record.round === 1).length > 10);
  });

  test("budget caps distinct evaluations", async () => {
    const outcome = await evolve({ budget: 50 }).result;
    assert.equal(outcome.history.length, 50);
    assert.match(outcome.stopReason, /^budget spent: 50 evaluations$/);
  });

  test("same seed gives the same history", async () => {
    const first = await evolve().result;
    const second = await evolve().result;
    assert.deepEqual(first.history, second.history);
  });

  test("invalid options are rejected", async () => {
    await assert.rejects(evolve({ parentRatio: 0 }).result, {
      name: "RangeError",
      message: /parentRatio must be above 0 and at most 1, got 0/,
    });
    await assert.rejects(evolve({ mutateProb: 1.5 }).result, {
      name: "RangeError",
      message: /mutateProb must be a number from 0 to 1, got 1\.5/,
    });
    await assert.rejects(evolve({ population: 0 }).result, {
      name: "RangeError",
      message: /population must be a positive integer, got 0/,
    });
  });
});
