import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  canonicalNb201,
  createNb201Space,
  formatNb201,
  nb201Cost,
  type Nb201Arch,
} from "../src/spaces/nb201.ts";
import { Rng } from "../src/util/random.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";

const space = createNb201Space();
const BEST_C10 =
  "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

describe("nb201 parse", () => {
  test("round-trips the canonical string", () => {
    const parsed = space.parse(BEST_C10);
    assert.ok(parsed.ok);
    assert.equal(space.format(parsed.arch), BEST_C10);
    assert.deepEqual(parsed.repairs, []);
  });

  test("accepts a list of names or indices", () => {
    const byName = space.parse(["nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_3x3", "nor_conv_1x1"]);
    const byIndex = space.parse([3, 3, 3, 1, 3, 2]);
    assert.ok(byName.ok && byIndex.ok);
    assert.equal(space.format(byName.arch), BEST_C10);
    assert.equal(space.format(byIndex.arch), BEST_C10);
  });

  test("accepts an object with an arch field", () => {
    const parsed = space.parse({ arch: BEST_C10 });
    assert.ok(parsed.ok);
    assert.equal(space.format(parsed.arch), BEST_C10);
  });

  test("repairs an alias and records it", () => {
    const parsed = space.parse(BEST_C10.replace("nor_conv_1x1~2", "conv1x1~2"));
    assert.ok(parsed.ok);
    assert.equal(space.format(parsed.arch), BEST_C10);
    assert.deepEqual(parsed.repairs, ['edge 3<-2: "conv1x1" read as nor_conv_1x1']);
  });

  test("folds full-width characters", () => {
    const parsed = space.parse(BEST_C10.replace("skip_connect", "ｓｋｉｐ_ｃｏｎｎｅｃｔ"));
    assert.ok(parsed.ok);
    assert.equal(parsed.repairs.length, 1);
  });

  test("rejects a Cyrillic look-alike", () => {
    // "nor_cоnv_3x3" with a Cyrillic o.
    const parsed = space.parse(BEST_C10.replace("nor_conv_3x3~0|+|nor", "nor_c\u043env_3x3~0|+|nor"));
    assert.equal(parsed.ok, false);
    assert.match(!parsed.ok ? parsed.reason : "", /unknown operation .* on edge 1<-0/);
  });

  const invalid: [string, unknown, RegExp][] = [
    ["unknown operation", BEST_C10.replace("nor_conv_1x1", "conv5x5"), /unknown operation "conv5x5" on edge 3<-2; expected one of: none/],
    ["two node groups", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", /expected 3 node groups/],
    ["wrong input count", "|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|", /node 2 has 1 inputs/],
    ["wrong source index", BEST_C10.replace("skip_connect~0", "skip_connect~1"), /edge 3<-0 is "skip_connect~1"; expected op~0/],
    ["list of five", [3, 3, 3, 1, 3], /cell has 5 operations; expected 6/],
    ["index out of range", [3, 3, 3, 1, 3, 7], /invalid operation 7/],
    ["a number", 42, /invalid cell 42/],
    ["null", null, /invalid cell null/],
  ];
  for (const [name, input, reason] of invalid) {
    test(`rejects ${name}`, () => {
      const parsed = space.parse(input);
      assert.equal(parsed.ok, false);
      assert.match(!parsed.ok ? parsed.reason : "", reason);
    });
  }
});

describe("nb201 canonical key", () => {
  test("dead edges become none", () => {
    // Node 1 receives only none, so edges out of node 1 cannot matter.
    const arch = space.parse("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|");
    assert.ok(arch.ok);
    assert.equal(
      formatNb201(canonicalNb201(arch.arch)),
      "|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    );
  });

  test("live cells are unchanged", () => {
    const arch = space.parse(BEST_C10);
    assert.ok(arch.ok);
    assert.equal(space.key(arch.arch), BEST_C10);
  });

  test("isomorphic dedup off keeps the string", () => {
    const plain = createNb201Space({ isomorphicDedup: false });
    const text = "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|";
    const arch = plain.parse(text);
    assert.ok(arch.ok);
    assert.equal(plain.key(arch.arch), text);
  });

  test("counts unique cells among all 15,625", () => {
    const keys = new Set<string>();
    const ops = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"] as const;
    for (let code = 0; code < 5 ** 6; code++) {
      const arch: Nb201Arch = Array.from({ length: 6 }, (_v, i) => ops[Math.floor(code / 5 ** i) % 5]);
      keys.add(space.key(arch));
    }
    // Dead-edge removal alone; NAS-Bench-201's full isomorphism test, which
    // also swaps equivalent nodes, finds fewer (6,466).
    assert.ok(keys.size < 15_625);
    assert.ok(keys.size > 6_466);
  });
});

describe("nb201 sample and mutate", () => {
  test("sample and mutate stay valid", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 200; i++) {
      const arch = space.sample(rng);
      const child = space.mutate(arch, rng);
      assert.ok(space.parse(space.format(child)).ok);
      const differing = arch.filter((op, e) => op !== child[e]).length;
      assert.equal(differing, 1);
    }
  });

  test("same seed gives the same samples", () => {
    const a = new Rng(3);
    const b = new Rng(3);
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(space.sample(a), space.sample(b));
    }
  });

  test("description names every operation", () => {
    for (const op of ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]) {
      assert.ok(space.description.includes(op), op);
    }
  });
});

describe("nb201 cost", { skip: nb201Skip }, () => {
  test("matches the table's params and FLOPs for every cell", () => {
    const lines = readFileSync(NB201_CSV, "utf8").trim().split("\n");
    const header = lines[0].split(",");
    const column = (name: string) => header.indexOf(name);
    const datasets = [
      ["cifar10", column("params_M_cifar10"), column("flops_M_cifar10")],
      ["cifar100", column("params_M_cifar100"), column("flops_M_cifar100")],
      ["imagenet16-120", column("params_M_imagenet16_120"), column("flops_M_imagenet16_120")],
    ] as const;
    let worst = 0;
    for (const line of lines.slice(1)) {
      const cells = line.split(",");
      const parsed = space.parse(cells[1]);
      assert.ok(parsed.ok);
      for (const [dataset, paramsColumn, flopsColumn] of datasets) {
        const cost = nb201Cost(parsed.arch, dataset);
        worst = Math.max(
          worst,
          Math.abs(cost.paramsM! - Number(cells[paramsColumn])),
          Math.abs(cost.flopsM! - Number(cells[flopsColumn])),
        );
      }
    }
    assert.ok(worst < 1e-6, `largest difference ${worst}`);
  });

  test("unknown dataset is a RangeError", () => {
    assert.throws(() => createNb201Space({ dataset: "mnist" }), {
      name: "RangeError",
      message: /unknown dataset "mnist"/,
    });
  });
});
