import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { z } from "zod";
import {
  AutoFormerConfigError,
  createAutoFormerSpace,
  loadAutoFormerConfig,
  parseAutoFormerConfig,
  parseSimpleYaml,
  type AutoFormerArch,
} from "../src/spaces/autoformer.ts";
import {
  createOfaMbv3Space,
  isActiveSlot,
  OFA_SLOTS,
  type OfaArch,
} from "../src/spaces/ofa-mbv3.ts";
import { createSposSpace, type SposArch } from "../src/spaces/spos-shufflenet.ts";
import type { SearchSpace } from "../src/spaces/types.ts";
import { Rng } from "../src/util/random.ts";

const AUTOFORMER_DATA = fileURLToPath(new URL("../../shared/data/autoformer/", import.meta.url));
const autoformerSkip = existsSync(AUTOFORMER_DATA)
  ? false
  : `AutoFormer configurations not found at ${AUTOFORMER_DATA}`;

/** A small made-up AutoFormer configuration, so that most tests need no data files. */
const SMALL_YAML = `# test configuration
SUPERNET:
  MLP_RATIO: 4.0
  NUM_HEADS: 4
  EMBED_DIM: 128
  DEPTH: 4
SEARCH_SPACE:
  MLP_RATIO:
    - 3.0
    - 3.5
    - 4.0
  NUM_HEADS: [2, 4]
  DEPTH:
    - 2
    - 3
    - 4
  EMBED_DIM:
    - 96
    - 128
`;

const ofa = createOfaMbv3Space();
const spos = createSposSpace();
const autoformer = createAutoFormerSpace(parseAutoFormerConfig(SMALL_YAML, "small"), {
  name: "autoformer-small",
});

/** OFA's `note10_lat@30ms` subnet, from its net.config in github.com/han-cai/files. */
const NOTE10_30: OfaArch = {
  r: 224,
  d: [2, 3, 3, 3, 4],
  ks: [3, 3, 0, 0, 5, 3, 3, 0, 5, 5, 3, 0, 3, 3, 3, 0, 3, 3, 3, 3],
  e: [3, 3, 0, 0, 4, 3, 4, 0, 4, 4, 3, 0, 6, 4, 4, 0, 6, 6, 4, 3],
};

/** SPOS's searched architecture from the SinglePathOneShot README. */
const SPOS_README: SposArch = [2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3];

function parseOk<A>(space: SearchSpace<A>, input: unknown): { arch: A; repairs: string[] } {
  const result = space.parse(input);
  assert.ok(
    result.ok,
    `expected ${JSON.stringify(input)} to parse: ${!result.ok && result.reason}`,
  );
  return result;
}

function parseReason<A>(space: SearchSpace<A>, input: unknown): string {
  const result = space.parse(input);
  assert.ok(!result.ok, `expected ${JSON.stringify(input)} to be rejected`);
  return result.reason;
}

/** Checks what every space must satisfy, over many seeded random architectures. */
function checkSpaceProperties<A>(space: SearchSpace<A>, seed: number, rounds = 300): void {
  const rng = new Rng(seed);
  let previous = space.sample(rng);
  for (let i = 0; i < rounds; i++) {
    const sampled = space.sample(rng);
    const mutated = space.mutate(sampled, rng);
    const child = space.crossover(sampled, previous, rng);
    for (const arch of [sampled, mutated, child]) {
      const parsed = parseOk(space, space.toJSON(arch));
      assert.deepEqual(parsed.arch, arch);
      assert.deepEqual(parsed.repairs, []);
      assert.equal(space.key(parsed.arch), space.key(arch));
      assert.deepEqual(parseOk(space, space.format(arch)).arch, arch);
      assert.deepEqual(space.decode(space.encode(arch)), arch);
      const values = space.encode(arch);
      assert.equal(values.length, space.genes.length);
      values.forEach((value, gene) => assert.ok(space.genes[gene].choices.includes(value)));
    }
    assert.notEqual(space.key(mutated), space.key(sampled), "mutate must change the network");
    previous = sampled;
  }
}

/** Checks the candidate schema against OpenAI strict structured output rules. */
function checkStrictSchema<A>(space: SearchSpace<A>): void {
  const schema = z.toJSONSchema(space.candidateSchema) as Record<string, unknown>;
  assert.equal(schema.type, "object");
  assert.equal(schema.additionalProperties, false);
  assert.equal(schema.anyOf, undefined);
  const properties = Object.keys(schema.properties as object);
  assert.deepEqual([...(schema.required as string[])].sort(), [...properties].sort());
  const example: unknown = JSON.parse(space.candidateExample);
  assert.ok(space.candidateSchema.safeParse(example).success);
  parseOk(space, example);
}

describe("ofa-mbv3 space", () => {
  test("round-trips a published subnet", () => {
    const { arch, repairs } = parseOk(ofa, NOTE10_30);
    assert.deepEqual(arch, NOTE10_30);
    assert.deepEqual(repairs, []);
    assert.deepEqual(ofa.toJSON(arch), NOTE10_30);
    assert.deepEqual(parseOk(ofa, JSON.stringify(NOTE10_30)).arch, NOTE10_30);
  });

  test("format is stable and parses back", () => {
    assert.equal(
      ofa.format(NOTE10_30),
      "r=224 d=[2,3,3,3,4] ks=[3,3,-,-|5,3,3,-|5,5,3,-|3,3,3,-|3,3,3,3] " +
        "e=[3,3,-,-|4,3,4,-|4,4,3,-|6,4,4,-|6,6,4,3]",
    );
    assert.equal(ofa.key(NOTE10_30), ofa.format(NOTE10_30));
    assert.deepEqual(parseOk(ofa, ofa.format(NOTE10_30)).arch, NOTE10_30);
  });

  test("inactive slots do not change the key", () => {
    const filled = {
      ...NOTE10_30,
      ks: NOTE10_30.ks.map((k) => k || 7),
      e: NOTE10_30.e.map((e) => e || 6),
    };
    const { arch, repairs } = parseOk(ofa, filled);
    assert.deepEqual(arch, NOTE10_30);
    assert.deepEqual(repairs, []);
    assert.equal(ofa.key(arch), ofa.key(NOTE10_30));
  });

  test("rejects a resolution outside the range", () => {
    const reason = parseReason(ofa, { ...NOTE10_30, r: 240 });
    assert.match(reason, /r=240/);
    assert.match(reason, /160 to 224/);
  });

  test("rejects an invalid depth", () => {
    const reason = parseReason(ofa, { ...NOTE10_30, d: [2, 5, 3, 3, 4] });
    assert.match(reason, /d\[1\]=5/);
    assert.match(reason, /2, 3, 4/);
  });

  test("rejects too few depths", () => {
    assert.match(
      parseReason(ofa, { ...NOTE10_30, d: [2, 3, 3, 3] }),
      /d has 4 entries; expected 5/,
    );
  });

  test("rejects an invalid kernel size", () => {
    const ks = [...NOTE10_30.ks];
    ks[4] = 4;
    const reason = parseReason(ofa, { ...NOTE10_30, ks });
    assert.match(reason, /ks\[4\] \(stage 2, block 1\) is 4/);
    assert.match(reason, /3, 5, 7/);
  });

  test("rejects an invalid expand ratio", () => {
    const e = [...NOTE10_30.e];
    e[19] = 5;
    assert.match(parseReason(ofa, { ...NOTE10_30, e }), /e\[19\].* is 5; expected one of 3, 4, 6/);
  });

  test("rejects a missing field", () => {
    const { r, d, ks } = NOTE10_30;
    assert.match(parseReason(ofa, { r, d, ks }), /missing field "e"/);
  });

  test("rejects a list of the wrong length", () => {
    const reason = parseReason(ofa, { ...NOTE10_30, ks: [3, 3, 3] });
    assert.match(reason, /ks has 3 entries; expected 20/);
    assert.match(reason, /or 15 \(one per active block\)/);
  });

  test("rejects invalid JSON and non-objects", () => {
    assert.match(parseReason(ofa, '{"r": 224,'), /invalid JSON/);
    assert.match(parseReason(ofa, 42), /invalid architecture 42/);
    assert.match(parseReason(ofa, "hello"), /invalid architecture string "hello"/);
  });

  test("rounds r to the nearest step", () => {
    const { arch, repairs } = parseOk(ofa, { ...NOTE10_30, r: 222.5 });
    assert.equal(arch.r, 224);
    assert.deepEqual(repairs, ["r=222.5 rounded to 224, the nearest valid resolution"]);
  });

  test("truncates lists longer than 20", () => {
    const { arch, repairs } = parseOk(ofa, { ...NOTE10_30, ks: [...NOTE10_30.ks, 7, 7] });
    assert.deepEqual(arch, NOTE10_30);
    assert.deepEqual(repairs, ["ks has 22 entries; kept the first 20"]);
  });

  test("spreads one value per active block", () => {
    const activeKs = NOTE10_30.ks.filter((_, slot) => isActiveSlot(NOTE10_30.d, slot));
    const { arch, repairs } = parseOk(ofa, { ...NOTE10_30, ks: activeKs });
    assert.deepEqual(arch, NOTE10_30);
    assert.equal(repairs.length, 1);
    assert.match(repairs[0], /ks has 15 entries, one per active block/);
  });

  test("places per-stage lists", () => {
    const perStage = [
      [3, 3],
      [5, 3, 3],
      [5, 5, 3],
      [3, 3, 3],
      [3, 3, 3, 3],
    ];
    const { arch, repairs } = parseOk(ofa, { ...NOTE10_30, ks: perStage });
    assert.deepEqual(arch, NOTE10_30);
    assert.deepEqual(repairs, ["ks given as one list per stage; placed into the 20 slots"]);
  });

  test("pads a list that ends before inactive slots", () => {
    const short = { ...NOTE10_30, d: [2, 3, 3, 3, 2] };
    const { arch, repairs } = parseOk(ofa, { ...short, ks: NOTE10_30.ks.slice(0, 18) });
    assert.deepEqual(arch.ks, [...NOTE10_30.ks.slice(0, 18), 0, 0]);
    assert.match(repairs[0], /ks has 18 entries; the missing slots are inactive/);
  });

  test("reads aliases, strings and a scalar", () => {
    const { arch, repairs } = parseOk(ofa, {
      resolution: [224],
      depth: NOTE10_30.d.map(String),
      ks: 3,
      e: NOTE10_30.e,
      width: 1.2,
    });
    assert.deepEqual(arch.d, NOTE10_30.d);
    assert.deepEqual(
      arch.ks,
      NOTE10_30.ks.map((k) => (k === 0 ? 0 : 3)),
    );
    assert.ok(repairs.includes('field "resolution" read as r'));
    assert.ok(repairs.includes('field "depth" read as d'));
    assert.ok(repairs.includes("r given as a list of one value; used 224"));
    assert.ok(repairs.includes('d[0]: string "2" read as the number 2'));
    assert.ok(repairs.includes("ks=3 applied to every block"));
    assert.ok(repairs.includes('ignored unknown field "width"'));
  });

  test("genes and dimensions cover the space", () => {
    assert.equal(ofa.genes.length, 1 + 5 + 2 * OFA_SLOTS);
    assert.equal(ofa.dimensions.length, 16);
    assert.ok(ofa.dimensions.includes("stage 3 kernel size"));
  });

  test("decode rejects a value outside a gene", () => {
    const values = ofa.encode(NOTE10_30);
    values[0] = 230;
    assert.throws(() => ofa.decode(values), /invalid value 230 for gene "resolution"/);
  });

  test("sample, mutate and crossover stay valid", () => {
    checkSpaceProperties(ofa, 1);
  });

  test("candidate schema suits strict output", () => {
    checkStrictSchema(ofa);
  });

  test("width 1.0 space has its own channels", () => {
    const narrow = createOfaMbv3Space({ width: 1.0 });
    assert.match(narrow.description, /24, 40, 80, 112, 160/);
    assert.match(ofa.description, /32, 48, 96, 136, 192/);
  });

  test("rejects an unknown width", () => {
    assert.throws(
      () => createOfaMbv3Space({ width: 1.3 }),
      /invalid OFA width multiplier 1.3; expected 1.0 or 1.2/,
    );
  });
});

describe("spos-shufflenet space", () => {
  test("round-trips the published architecture", () => {
    const { arch, repairs } = parseOk(spos, SPOS_README);
    assert.deepEqual(arch, SPOS_README);
    assert.deepEqual(repairs, []);
    assert.deepEqual(spos.toJSON(arch), SPOS_README);
    assert.equal(spos.key(arch), "21012020202300003233");
    assert.equal(spos.format(arch), "2,1,0,1 | 2,0,2,0 | 2,0,2,3,0,0,0,0 | 3,2,3,3");
  });

  test("reads the README's tuple and an arch field", () => {
    const tuple = "(2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)";
    assert.deepEqual(parseOk(spos, tuple).arch, SPOS_README);
    assert.deepEqual(parseOk(spos, tuple).repairs, []);
    assert.deepEqual(parseOk(spos, { arch: SPOS_README }).arch, SPOS_README);
    assert.deepEqual(parseOk(spos, JSON.stringify({ arch: SPOS_README })).arch, SPOS_README);
  });

  test("repairs block names and numeric strings", () => {
    const named: unknown[] = [...SPOS_README];
    named[0] = "shufflenet_7x7";
    named[11] = "Xception";
    named[1] = "1";
    const { arch, repairs } = parseOk(spos, named);
    assert.deepEqual(arch, SPOS_README);
    assert.deepEqual(repairs, [
      'layer 1: "shufflenet_7x7" read as 2 (shufflenet_7x7)',
      'layer 2: string "1" read as 1',
      'layer 12: "Xception" read as 3 (xception_3x3)',
    ]);
  });

  test("truncates a list longer than 20", () => {
    const { arch, repairs } = parseOk(spos, [...SPOS_README, 1, 2]);
    assert.deepEqual(arch, SPOS_README);
    assert.deepEqual(repairs, ["architecture has 22 entries; kept the first 20"]);
  });

  test("rejects a short list", () => {
    assert.match(
      parseReason(spos, SPOS_README.slice(0, 19)),
      /has 19 entries; expected a list of 20/,
    );
  });

  test("rejects an unknown block", () => {
    const bad: unknown[] = [...SPOS_README];
    bad[2] = 4;
    const reason = parseReason(spos, bad);
    assert.match(reason, /layer 3 is 4/);
    assert.match(reason, /0-3/);
    bad[2] = "conv9x9";
    assert.match(parseReason(spos, bad), /layer 3 is "conv9x9"/);
  });

  test("rejects a non-list", () => {
    assert.match(parseReason(spos, { blocks: [] }), /invalid SPOS architecture/);
  });

  test("sample, mutate and crossover stay valid", () => {
    checkSpaceProperties(spos, 2);
  });

  test("candidate schema suits strict output", () => {
    checkStrictSchema(spos);
  });

  test("genes group by stage", () => {
    assert.equal(spos.genes.length, 20);
    assert.deepEqual(spos.dimensions, [
      "stage 1 blocks",
      "stage 2 blocks",
      "stage 3 blocks",
      "stage 4 blocks",
    ]);
  });
});

describe("autoformer space", () => {
  const small: AutoFormerArch = {
    embedDim: 96,
    depth: 3,
    mlpRatio: [3, 3.5, 4],
    numHeads: [2, 4, 2],
  };
  const smallJson = { embed_dim: 96, depth: 3, mlp_ratio: [3, 3.5, 4], num_heads: [2, 4, 2] };

  test("round-trips the JSON form", () => {
    const { arch, repairs } = parseOk(autoformer, smallJson);
    assert.deepEqual(arch, small);
    assert.deepEqual(repairs, []);
    assert.deepEqual(autoformer.toJSON(arch), smallJson);
    assert.equal(autoformer.key(arch), "E=96 D=3 mlp=[3,3.5,4] heads=[2,4,2]");
    assert.deepEqual(parseOk(autoformer, autoformer.format(arch)).arch, small);
  });

  test("rejects values outside the choices", () => {
    assert.match(
      parseReason(autoformer, { ...smallJson, embed_dim: 100 }),
      /embed_dim is 100; expected one of 96, 128/,
    );
    assert.match(
      parseReason(autoformer, { ...smallJson, depth: 5, mlp_ratio: 3, num_heads: 2 }),
      /depth is 5; expected one of 2, 3, 4/,
    );
    assert.match(
      parseReason(autoformer, { ...smallJson, mlp_ratio: [3, 3.5, 5] }),
      /mlp_ratio\[2\] is 5; expected one of 3, 3.5, 4/,
    );
    assert.match(
      parseReason(autoformer, { ...smallJson, num_heads: [2, 3, 2] }),
      /num_heads\[1\] is 3; expected one of 2, 4/,
    );
  });

  test("rejects lists shorter than depth", () => {
    assert.match(
      parseReason(autoformer, { ...smallJson, num_heads: [2, 4] }),
      /num_heads has 2 entries; expected 3, one per layer/,
    );
  });

  test("rejects a missing field", () => {
    const { embed_dim, depth, mlp_ratio } = smallJson;
    assert.match(
      parseReason(autoformer, { embed_dim, depth, mlp_ratio }),
      /missing field "num_heads"/,
    );
  });

  test("repairs scalars, long lists and aliases", () => {
    const { arch, repairs } = parseOk(autoformer, {
      EMBED_DIM: "96",
      mlp_ratio: 3.5,
      num_heads: [2, 4, 2, 4, 4],
      depth: 3,
    });
    assert.deepEqual(arch, {
      embedDim: 96,
      depth: 3,
      mlpRatio: [3.5, 3.5, 3.5],
      numHeads: [2, 4, 2],
    });
    assert.deepEqual(repairs, [
      'field "EMBED_DIM" read as embed_dim',
      'embed_dim: string "96" read as the number 96',
      "mlp_ratio=3.5 applied to all 3 layers",
      "num_heads has 5 entries for depth 3; kept the first 3",
    ]);
  });

  test("infers a missing depth", () => {
    const { depth: _, ...rest } = smallJson;
    const { arch, repairs } = parseOk(autoformer, rest);
    assert.deepEqual(arch, small);
    assert.deepEqual(repairs, ["depth missing; set to 3, the length of the per-layer lists"]);
  });

  test("sample, mutate and crossover stay valid", () => {
    checkSpaceProperties(autoformer, 3);
  });

  test("candidate schema suits strict output", () => {
    checkStrictSchema(autoformer);
  });

  test("description lists the choices", () => {
    assert.match(autoformer.description, /embed_dim \(all layers\): 96, 128/);
    assert.match(autoformer.description, /num_heads of each layer: 2, 4/);
  });

  test("loads the published T, S and B configurations", { skip: autoformerSkip }, async () => {
    const expected = {
      T: { embedDim: [192, 216, 240], depth: [12, 13, 14], mlpRatio: [3.5, 4], numHeads: [3, 4] },
      S: {
        embedDim: [320, 384, 448],
        depth: [12, 13, 14],
        mlpRatio: [3, 3.5, 4],
        numHeads: [5, 6, 7],
      },
      B: {
        embedDim: [528, 576, 624],
        depth: [14, 15, 16],
        mlpRatio: [3, 3.5, 4],
        numHeads: [9, 10],
      },
    };
    for (const [size, searchSpace] of Object.entries(expected)) {
      const config = await loadAutoFormerConfig(`${AUTOFORMER_DATA}supernet-${size}.yaml`);
      assert.deepEqual(config.searchSpace, searchSpace, `supernet-${size}`);
      const space = createAutoFormerSpace(config, { name: `autoformer-${size.toLowerCase()}` });
      checkSpaceProperties(space, 4, 50);
    }
  });
});

describe("autoformer config", () => {
  test("reads nested maps and both list forms", () => {
    assert.deepEqual(parseSimpleYaml("A:\n  B: 1\n  C: [1, 2.5]\nD:\n- x\n- 'y'\n"), {
      A: { B: 1, C: [1, 2.5] },
      D: ["x", "y"],
    });
  });

  test("names the line of a syntax error", () => {
    assert.throws(
      () => parseSimpleYaml("A:\n  B 1\n", "f.yaml"),
      /f.yaml line 2: expected "key: value"/,
    );
    assert.throws(
      () => parseSimpleYaml("A:\n\t- 1\n", "f.yaml"),
      /f.yaml line 2: tabs are not allowed/,
    );
  });

  test("rejects a missing section", () => {
    assert.throws(
      () => parseAutoFormerConfig("SUPERNET:\n  DEPTH: 4\n", "c.yaml"),
      (error: Error) =>
        error instanceof AutoFormerConfigError &&
        /expected top-level SUPERNET and SEARCH_SPACE/.test(error.message),
    );
  });

  test("rejects an invalid value", () => {
    assert.throws(
      () => parseAutoFormerConfig(SMALL_YAML.replace("DEPTH: 4", "DEPTH: four"), "c.yaml"),
      /c.yaml: SUPERNET.DEPTH is "four"; expected a positive integer/,
    );
  });

  test("rejects a choice above the supernet", () => {
    assert.throws(
      () => parseAutoFormerConfig(SMALL_YAML.replace("- 128", "- 160"), "c.yaml"),
      /SEARCH_SPACE.EMBED_DIM contains 160, more than SUPERNET.EMBED_DIM = 128/,
    );
  });

  test("keeps a RETRAIN subnet", () => {
    const retrain =
      "RETRAIN:\n  EMBED_DIM: 96\n  DEPTH: 2\n  MLP_RATIO: [3.0, 4.0]\n  NUM_HEADS:\n    - 2\n    - 4\n";
    const config = parseAutoFormerConfig(SMALL_YAML + retrain, "c.yaml");
    assert.deepEqual(config.retrain, {
      embed_dim: 96,
      depth: 2,
      mlp_ratio: [3, 4],
      num_heads: [2, 4],
    });
    assert.deepEqual(parseOk(autoformer, config.retrain).arch, {
      embedDim: 96,
      depth: 2,
      mlpRatio: [3, 4],
      numHeads: [2, 4],
    });
  });

  test("reports a missing file", async () => {
    await assert.rejects(
      loadAutoFormerConfig("/nonexistent/supernet.yaml"),
      /cannot read AutoFormer config \/nonexistent\/supernet.yaml/,
    );
  });
});
