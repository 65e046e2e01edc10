import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { EvaluatorInputError } from "../src/evaluators/errors.ts";
import {
  createOnnxPredictorEvaluator,
  type OnnxPredictorEvaluator,
} from "../src/evaluators/onnx-predictor.ts";
import {
  createOfaMbv3Space,
  encodeOfaPredictorFeatures,
  type OfaArch,
} from "../src/spaces/ofa-mbv3.ts";
import { Rng } from "../src/util/random.ts";

const MODEL = fileURLToPath(
  new URL("../../shared/data/ofa/ofa_mbv3_acc_predictor.onnx", import.meta.url),
);
const modelSkip = existsSync(MODEL) ? false : `OFA predictor not found at ${MODEL}`;

const space = createOfaMbv3Space();

function uniform(r: number, depth: number, kernel: number, ratio: number): OfaArch {
  return {
    r,
    d: [depth, depth, depth, depth, depth],
    ks: Array.from({ length: 20 }, (_, slot) => (slot % 4 < depth ? kernel : 0)),
    e: Array.from({ length: 20 }, (_, slot) => (slot % 4 < depth ? ratio : 0)),
  };
}

describe("ofa predictor features", () => {
  test("one-hot of active slots and resolution", () => {
    const base = uniform(176, 2, 3, 3);
    const ks = [...base.ks];
    ks[1] = 7;
    const features = encodeOfaPredictorFeatures({ ...base, ks });
    assert.equal(features.length, 128);
    // Slot 0: kernel 3 at feature 0, expand 3 at feature 60.
    assert.equal(features[0], 1);
    assert.equal(features[60], 1);
    // Slot 1: kernel 7 at feature 3 + 2.
    assert.equal(features[5], 1);
    assert.equal(features[3], 0);
    // Slot 2 is inactive: all six of its features are zero.
    assert.deepEqual([...features.slice(6, 9), ...features.slice(66, 69)], [0, 0, 0, 0, 0, 0]);
    // r=176 is bucket floor((176 - 112) / 16) = 4.
    assert.equal(features[124], 1);
    assert.equal(
      features.reduce((sum, value) => sum + value, 0),
      10 + 10 + 1,
    );
  });

  test("rejects a resolution outside the buckets", () => {
    assert.throws(
      () => encodeOfaPredictorFeatures(uniform(240, 2, 3, 3)),
      /r=240 is outside the predictor's resolutions; expected 112 to 239/,
    );
    assert.throws(() => encodeOfaPredictorFeatures(uniform(111, 2, 3, 3)), /r=111/);
  });

  test("rejects a value outside the lists", () => {
    assert.throws(() => encodeOfaPredictorFeatures(uniform(224, 2, 9, 3)), /slot 0 has ks=9 e=3/);
  });
});

describe("onnx predictor evaluator", { skip: modelSkip }, () => {
  let evaluator: OnnxPredictorEvaluator<OfaArch>;

  before(async () => {
    evaluator = await createOnnxPredictorEvaluator({
      modelPath: MODEL,
      space,
      encoder: space.predictorEncoder,
      batchSize: 64,
    });
  });

  after(async () => {
    await evaluator.close();
  });

  test("reproduces the two known outputs", async () => {
    // Known outputs of OFA's width-1.2 MobileNetV3 predictor: 0.8359 for the
    // largest subnet at r=224 and 0.7531 for the smallest at r=160.
    const results = await evaluator.evaluate([
      { key: "largest", arch: uniform(224, 4, 7, 6) },
      { key: "smallest", arch: uniform(160, 2, 3, 3) },
    ]);
    const [largest, smallest] = results;
    assert.ok(largest.ok);
    assert.ok(smallest.ok);
    assert.equal(largest.key, "largest");
    assert.ok(Math.abs(largest.accuracy / 100 - 0.8359) < 1e-3, `largest: ${largest.accuracy}`);
    assert.ok(Math.abs(smallest.accuracy / 100 - 0.7531) < 1e-3, `smallest: ${smallest.accuracy}`);
  });

  test("batches give the same values as single runs", async () => {
    const rng = new Rng(11);
    const requests = Array.from({ length: 150 }, (_, i) => {
      const arch = space.sample(rng);
      return { key: `${i}:${space.key(arch)}`, arch: space.toJSON(arch) };
    });
    const batched = await evaluator.evaluate(requests);
    assert.equal(batched.length, requests.length);
    for (const index of [0, 63, 64, 149]) {
      const [single] = await evaluator.evaluate([requests[index]]);
      const result = batched[index];
      assert.ok(result.ok);
      assert.ok(single.ok);
      assert.equal(result.key, requests[index].key);
      assert.ok(Math.abs(result.accuracy - single.accuracy) < 1e-4);
    }
    for (const result of batched) {
      assert.ok(result.ok);
      assert.ok(result.accuracy > 70, `${result.key}: ${result.accuracy}`);
      assert.ok(result.accuracy < 85, `${result.key}: ${result.accuracy}`);
    }
  });

  test("returns an error result for an invalid architecture", async () => {
    const results = await evaluator.evaluate([
      { key: "good", arch: uniform(224, 4, 7, 6) },
      { key: "bad", arch: { ...uniform(224, 4, 7, 6), r: 300 } },
      { key: "broken", arch: "not an architecture" },
    ]);
    assert.equal(results[0].ok, true);
    assert.deepEqual(results[1], {
      key: "bad",
      ok: false,
      error:
        "invalid architecture: r=300 is outside the space; expected a multiple of 4 from 160 to 224",
    });
    assert.equal(results[2].ok, false);
  });

  test("returns nothing for no requests", async () => {
    assert.deepEqual(await evaluator.evaluate([]), []);
  });

  test("stops when aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      evaluator.evaluate([{ key: "a", arch: uniform(224, 4, 7, 6) }], {
        signal: controller.signal,
      }),
      /abort/i,
    );
  });

  test("names itself after the model file", () => {
    assert.equal(evaluator.name, "onnx-predictor:ofa_mbv3_acc_predictor.onnx");
    assert.deepEqual(evaluator.executionProviders, ["cpu"]);
    assert.equal(evaluator.batchSize, 64);
  });

  test("rejects an encoder of the wrong width", async () => {
    await assert.rejects(
      createOnnxPredictorEvaluator({
        modelPath: MODEL,
        space,
        encoder: { featureCount: 100, encode: () => new Float32Array(100) },
      }),
      (error: Error) =>
        error instanceof EvaluatorInputError &&
        /input "features" takes 128 features but the encoder produces 100/.test(error.message),
    );
  });

  test("rejects an unknown input name", async () => {
    await assert.rejects(
      createOnnxPredictorEvaluator({
        modelPath: MODEL,
        space,
        encoder: space.predictorEncoder,
        inputName: "x",
      }),
      /has no input "x"; its inputs are: features/,
    );
  });

  test("rejects an unknown output name", async () => {
    await assert.rejects(
      createOnnxPredictorEvaluator({
        modelPath: MODEL,
        space,
        encoder: space.predictorEncoder,
        outputName: "y",
      }),
      /has no output "y"; its outputs are: accuracy/,
    );
  });

  test("rejects an invalid batch size", async () => {
    await assert.rejects(
      createOnnxPredictorEvaluator({
        modelPath: MODEL,
        space,
        encoder: space.predictorEncoder,
        batchSize: 0,
      }),
      /invalid batchSize 0; expected a positive integer/,
    );
  });

  test("reports an encoder that returns the wrong length", async () => {
    const short = await createOnnxPredictorEvaluator({
      modelPath: MODEL,
      space,
      encoder: { featureCount: 128, encode: () => new Float32Array(12) },
    });
    try {
      const [result] = await short.evaluate([{ key: "a", arch: uniform(224, 4, 7, 6) }]);
      assert.deepEqual(result, {
        key: "a",
        ok: false,
        error: "encoder returned 12 features; expected 128",
      });
    } finally {
      await short.close();
    }
  });
});

describe("onnx predictor loading", () => {
  test("reports a missing model file", async () => {
    await assert.rejects(
      createOnnxPredictorEvaluator({
        modelPath: "/nonexistent/model.onnx",
        space,
        encoder: space.predictorEncoder,
      }),
      (error: Error) =>
        error instanceof EvaluatorInputError &&
        /cannot read ONNX model \/nonexistent\/model.onnx/.test(error.message),
    );
  });

  test("reports a file that is not ONNX", async () => {
    const dir = await mkdtemp(join(tmpdir(), "collm-onnx-"));
    const path = join(dir, "model.onnx");
    await writeFile(path, "not a model");
    await assert.rejects(
      createOnnxPredictorEvaluator({ modelPath: path, space, encoder: space.predictorEncoder }),
      (error: Error) =>
        error instanceof EvaluatorInputError &&
        /failed to load ONNX model .*model.onnx/.test(error.message),
    );
  });
});
