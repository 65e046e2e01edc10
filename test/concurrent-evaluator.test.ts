import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { main } from "../src/cli/main.ts";
import { ConcurrentEvaluator } from "../src/evaluators/concurrent.ts";
import { OnnxSupernetEvaluator } from "../src/evaluators/onnx-supernet.ts";
import type { EvaluationRequest, EvaluationResult, Evaluator } from "../src/evaluators/types.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { Rng } from "../src/util/random.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";

const BUNDLED_SUPERNET = fileURLToPath(
  new URL("../examples/fmnist-nb201/supernet.onnx", import.meta.url),
);
const supernetSkip = existsSync(BUNDLED_SUPERNET)
  ? false
  : `bundled supernet not found at ${BUNDLED_SUPERNET}`;

/**
 * An evaluator that returns each result after a random delay, so that
 * concurrent requests finish out of order, and records how many ran at once.
 */
class DelayedEvaluator implements Evaluator {
  readonly name = "delayed";
  running = 0;
  maxRunning = 0;
  closed = 0;

  constructor(
    private readonly rng: Rng,
    private readonly failKey?: string,
  ) {}

  async evaluate(requests: readonly EvaluationRequest[]): Promise<EvaluationResult[]> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await sleep(this.rng.int(15));
    this.running--;
    return requests.map((request) => {
      if (request.key === this.failKey) throw new Error(`evaluator crashed on ${request.key}`);
      return { key: request.key, ok: true, accuracy: request.key.length, metrics: {}, report: {} };
    });
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

function requests(count: number): EvaluationRequest[] {
  return Array.from({ length: count }, (_v, i) => ({ key: `arch-${"x".repeat(i)}`, arch: i }));
}

async function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const code = await main(args, { stdout: () => {}, stderr: (text) => (stderr += text) });
  return { code, stderr };
}

function historyOf(outDir: string): { arch: unknown; metrics: Record<string, number> }[] {
  return JSON.parse(readFileSync(join(outDir, "result.json"), "utf8")).history;
}

describe("concurrent evaluator", () => {
  test("results keep request order", async () => {
    const inner = new DelayedEvaluator(new Rng(1));
    const evaluator = new ConcurrentEvaluator([inner, inner, inner]);
    const batch = requests(12);

    const results = await evaluator.evaluate(batch);

    assert.deepEqual(
      results.map((result) => result.key),
      batch.map((request) => request.key),
    );
    assert.equal(inner.maxRunning, 3);
  });

  test("runs at most one request per worker", async () => {
    const inner = new DelayedEvaluator(new Rng(2));
    const evaluator = new ConcurrentEvaluator([inner, inner]);

    await evaluator.evaluate(requests(9));

    assert.equal(inner.maxRunning, 2);
  });

  test("worker error rejects the batch", async () => {
    const batch = requests(6);
    const inner = new DelayedEvaluator(new Rng(3), batch[2].key);
    const evaluator = new ConcurrentEvaluator([inner, inner, inner]);

    await assert.rejects(evaluator.evaluate(batch), /evaluator crashed on arch-xx$/);
  });

  test("close reaches each worker once", async () => {
    const shared = new DelayedEvaluator(new Rng(4));
    const other = new DelayedEvaluator(new Rng(5));

    await new ConcurrentEvaluator([shared, shared, other]).close();

    assert.equal(shared.closed, 1);
    assert.equal(other.closed, 1);
  });

  test("no workers is rejected", () => {
    assert.throws(() => new ConcurrentEvaluator([]), RangeError);
  });

  test("table search same at concurrency 3", { skip: nb201Skip }, async () => {
    const histories = [];
    for (const concurrency of ["1", "3"]) {
      const outDir = mkdtempSync(join(tmpdir(), "collm-concurrency-"));
      const run = await runCli([
        "search", "--benchmark", NB201_CSV, "--budget", "60", "--seed", "5",
        "--concurrency", concurrency, "--checkpoint", "none", "--quiet", "--out", outDir,
      ]);
      assert.equal(run.code, 0, run.stderr);
      histories.push(historyOf(outDir));
    }

    assert.equal(histories[0].length, 60);
    assert.deepEqual(histories[1], histories[0]);
  });

  test("supernet pool matches one session", { skip: supernetSkip }, async () => {
    const create = (threads: number) =>
      OnnxSupernetEvaluator.create({
        modelPath: BUNDLED_SUPERNET,
        dataDir: dirname(BUNDLED_SUPERNET),
        device: "cpu",
        threads,
      });
    const space = createNb201Space();
    const rng = new Rng(6);
    const batch = Array.from({ length: 6 }, (_v, i) => ({ key: `cell-${i}`, arch: space.sample(rng) }));
    // The wall time of each evaluation differs from run to run.
    const withoutTime = (results: EvaluationResult[]) =>
      results.map((result) => {
        if (!result.ok) return result;
        const { wallMs: _wallMs, ...metrics } = result.metrics;
        return { ...result, metrics };
      });

    const single = await create(2);
    const pool = new ConcurrentEvaluator([await create(1), await create(1), await create(1)]);
    try {
      const expected = withoutTime(await single.evaluate(batch));
      const actual = withoutTime(await pool.evaluate(batch));

      assert.ok(expected.every((result) => result.ok), JSON.stringify(expected));
      assert.deepEqual(actual, expected);
    } finally {
      await single.close();
      await pool.close();
    }
  });
});
