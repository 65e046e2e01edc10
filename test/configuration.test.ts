import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { graph } from "../graphs/collm_nas.ts";
import { readConfiguration, taskDefaults } from "../src/graph/configuration.ts";
import { BUNDLED_SUPERNET } from "../src/graph/configured-evaluator.ts";
import { resolveConfiguredRuntime } from "../src/graph/configured-runtime.ts";
import type { SearchTask } from "../src/graph/state.ts";
import { normalizeTask } from "../src/graph/task.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";

/**
 * Invokes the served graph with a partial task, as the dev server passes
 * a run's input on. The graph's type expects a whole task.
 */
function invokeServed(task: Partial<SearchTask>, config: Record<string, unknown>) {
  return graph.invoke({ task } as never, config);
}

const supernetSkip = existsSync(BUNDLED_SUPERNET)
  ? false
  : `bundled supernet not found at ${BUNDLED_SUPERNET}`;

describe("readConfiguration", () => {
  test("context overrides configurable", () => {
    const settings = readConfiguration({
      configurable: { budget: 40, seed: 3 },
      context: { budget: 20 },
    } as never);
    assert.equal(settings.budget, 20);
    assert.equal(settings.seed, 3);
  });

  test("unknown keys are ignored", () => {
    const settings = readConfiguration({ configurable: { thread_id: "t-1", benchmark: "x.csv" } });
    assert.equal(settings.benchmark, "x.csv");
    assert.equal("thread_id" in settings, false);
  });

  test("defaults fill a configuration", () => {
    const settings = readConfiguration({});
    assert.equal(settings.space, "nb201");
    assert.equal(settings.dataset, "cifar10");
    assert.equal(settings.temperature, 0.6);
    assert.equal(settings.budget, 100);
  });

  test("invalid context field names it", () => {
    assert.throws(
      () => readConfiguration({ context: { candidatesPerRound: 0 } } as never),
      (error: Error) => {
        assert.ok(error instanceof RangeError, error.name);
        assert.match(error.message, /invalid configurable setting "candidatesPerRound"/);
        return true;
      },
    );
  });
});

describe("normalizeTask with defaults", () => {
  const defaults = taskDefaults(readConfiguration({ configurable: { budget: 30, seed: 7 } }));

  test("defaults fill missing fields", () => {
    const task = normalizeTask({ candidatesPerRound: 5 }, defaults);
    assert.equal(task.budget, 30);
    assert.equal(task.seed, 7);
    assert.equal(task.candidatesPerRound, 5);
  });

  test("task fields win over defaults", () => {
    assert.equal(normalizeTask({ budget: 12 }, defaults).budget, 12);
  });

  test("undefined field keeps the default", () => {
    assert.equal(normalizeTask({ budget: undefined }, defaults).budget, 30);
  });

  test("no task at all takes the defaults", () => {
    assert.equal(normalizeTask(undefined, defaults).budget, 30);
  });

  test("other space than configured is rejected", () => {
    assert.throws(() => normalizeTask({ space: "ofa-mbv3" }, defaults), (error: Error) => {
      assert.ok(error instanceof RangeError, error.name);
      assert.match(error.message, /space "ofa-mbv3" differs from the configured space "nb201"/);
      return true;
    });
  });

  test("array task is rejected", () => {
    assert.throws(() => normalizeTask([1, 2], defaults), /invalid search task field/);
  });
});

describe("configured evaluator", () => {
  test("benchmark and supernet together are rejected", async () => {
    await assert.rejects(
      resolveConfiguredRuntime({ configurable: { benchmark: "a.csv", supernet: "b.onnx" } }),
      /set either benchmark or supernet/,
    );
  });

  test("table in a macro space is rejected", async () => {
    await assert.rejects(
      resolveConfiguredRuntime({ configurable: { space: "ofa-mbv3", benchmark: "a.csv" } }),
      /benchmark tables and supernets are for the nb201 space, not "ofa-mbv3"/,
    );
  });

  test("macro space without evaluator is rejected", async () => {
    await assert.rejects(
      resolveConfiguredRuntime({ configurable: { space: "ofa-mbv3" } }),
      /no evaluator configured for space ofa-mbv3/,
    );
  });
});

describe("served graph", { skip: nb201Skip }, () => {
  test("input constraints are enforced", async () => {
    const output = await invokeServed(
      { budget: 30, constraints: "params<=0.5" },
      { configurable: { benchmark: NB201_CSV } },
    );
    assert.equal(output.history.length, 30);
    const params = output.history.map((record) => record.metrics.paramsM ?? Infinity);
    assert.ok(Math.max(...params) <= 0.5, `largest params: ${Math.max(...params)} M`);
  });

  test("configured constraints are enforced", async () => {
    const output = await invokeServed(
      { budget: 30 },
      { context: { benchmark: NB201_CSV, constraints: "params<=0.5" } },
    );
    const params = output.history.map((record) => record.metrics.paramsM ?? Infinity);
    assert.ok(Math.max(...params) <= 0.5, `largest params: ${Math.max(...params)} M`);
  });

  test("seed makes runs repeatable", async () => {
    const run = async (seed: number) => {
      const output = await invokeServed({ budget: 20, seed }, { configurable: { benchmark: NB201_CSV } });
      return output.history.map((record) => record.key);
    };
    assert.deepEqual(await run(5), await run(5));
    assert.notDeepEqual(await run(5), await run(6));
  });
});

describe("served graph on the bundled supernet", { skip: supernetSkip }, () => {
  test("search scores cells with the supernet", async () => {
    const output = await invokeServed(
      { budget: 4, candidatesPerRound: 2 },
      { configurable: { supernet: BUNDLED_SUPERNET } },
    );
    assert.equal(output.history.length, 4);
    for (const record of output.history) {
      assert.equal(record.error, undefined, record.error);
      assert.ok(record.metrics.accuracy! > 10, `accuracy ${record.metrics.accuracy}`);
    }
  });
});
