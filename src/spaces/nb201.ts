import { z } from "zod";
import type { Rng } from "../util/random.ts";
import type {
  Cost,
  Gene,
  ParseResult,
  SearchSpace,
  SpaceOptions,
} from "./types.ts";

/** NAS-Bench-201 operations, in the index order of the benchmark. */
export const NB201_OPS = [
  "none",
  "skip_connect",
  "nor_conv_1x1",
  "nor_conv_3x3",
  "avg_pool_3x3",
] as const;

export type Nb201Op = (typeof NB201_OPS)[number];

/** A cell: one operation per edge, edges in `NB201_EDGES` order. */
export type Nb201Arch = readonly Nb201Op[];

/** Edges as [to, from] node pairs, in the order of the canonical string. */
export const NB201_EDGES: readonly (readonly [number, number])[] = [
  [1, 0],
  [2, 0],
  [2, 1],
  [3, 0],
  [3, 1],
  [3, 2],
];

/**
 * Size of the network the cells are stacked into: NAS-Bench-201 uses 16
 * channels, 5 cells per stage and RGB input; smaller supernets change
 * these.
 */
export interface Nb201Network {
  /** Channels of the first stage; the second and third double them. */
  channels: number;
  cellsPerStage: number;
  /** Image channels: 3 for RGB, 1 for grayscale. */
  inputChannels: number;
  /** Input height and width in pixels. */
  side: number;
  classes: number;
}

const BENCHMARK_NETWORK = { channels: 16, cellsPerStage: 5, inputChannels: 3 };

/** The NAS-Bench-201 network per dataset. */
const DATASETS: Record<string, Nb201Network> = {
  cifar10: { ...BENCHMARK_NETWORK, side: 32, classes: 10 },
  cifar100: { ...BENCHMARK_NETWORK, side: 32, classes: 100 },
  "imagenet16-120": { ...BENCHMARK_NETWORK, side: 16, classes: 120 },
}

/** Operation aliases that a model may write, mapped to benchmark names. */
const OP_ALIASES: Record<string, Nb201Op> = {
  zero: "none",
  skip: "skip_connect",
  identity: "skip_connect",
  conv_1x1: "nor_conv_1x1",
  conv1x1: "nor_conv_1x1",
  conv_3x3: "nor_conv_3x3",
  conv3x3: "nor_conv_3x3",
  avg_pool: "avg_pool_3x3",
  avgpool: "avg_pool_3x3",
  pool: "avg_pool_3x3",
};

const describeSpace = (n: Nb201Network) => `A cell-based space for image classification. The network is a \
stem convolution, three stages of ${n.cellsPerStage} identical cells \
(${n.channels}, ${2 * n.channels} and ${4 * n.channels} channels) \
joined by residual reduction blocks, then global pooling and a linear \
classifier. Every cell uses the same architecture.

A cell is a small directed acyclic graph with 4 nodes. Node 0 is the cell \
input and node 3 its output. Each node j > 0 is the sum of one operation \
applied to every earlier node i, so the cell has 6 edges: 1<-0, 2<-0, 2<-1, \
3<-0, 3<-1, 3<-2. Each edge takes one of 5 operations:
- none: outputs zero, which removes the edge;
- skip_connect: identity;
- nor_conv_1x1: ReLU, 1x1 convolution, batch normalization;
- nor_conv_3x3: ReLU, 3x3 convolution, batch normalization;
- avg_pool_3x3: 3x3 average pooling with stride 1.

An architecture is written as a string with one group per node, each \
operation followed by ~ and its source node:
|op~0|+|op~0|op~1|+|op~0|op~1|op~2|
The 15,625 cells range from a few to about 1.5 million parameters; \
convolutions add capacity and cost, skip connections ease optimization, \
and none on an edge to a node with no other live input cuts that node off.`;

const candidateSchema = z
  .object({
    arch: z
      .string()
      .describe("Cell string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|"),
  })
  .describe("One NAS-Bench-201 cell");

/** Field names under which a model may write the cell, "arch" first. */
const CELL_FIELDS = ["arch", "arch_str", "cell", "architecture", "genotype"] as const;

/** Returns the first own field of `input` that contains a cell, if any. */
function cellField(input: object): (typeof CELL_FIELDS)[number] | undefined {
  return CELL_FIELDS.find((name) => Object.hasOwn(input, name));
}

/** Splits a cell string into its six operation names and source nodes. */
function splitCellString(text: string): ParseResult<string[]> {
  const trimmed = text.trim();
  const nodes = trimmed.split("+");
  if (nodes.length !== 3) {
    return {
      ok: false,
      reason:
        `invalid cell "${truncate(trimmed)}": expected 3 node groups ` +
        `joined by "+", got ${nodes.length}`,
    };
  }
  const ops: string[] = [];
  for (let node = 1; node <= 3; node++) {
    const group = nodes[node - 1].trim();
    if (!group.startsWith("|") || !group.endsWith("|")) {
      return {
        ok: false,
        reason: `invalid node ${node} group "${truncate(group)}": expected |op~i|...|`,
      };
    }
    const items = group.slice(1, -1).split("|");
    if (items.length !== node) {
      return {
        ok: false,
        reason:
          `node ${node} has ${items.length} inputs in "${truncate(group)}"; ` +
          `expected ${node}`,
      };
    }
    for (let source = 0; source < node; source++) {
      const [op, from, ...rest] = items[source].split("~");
      if (from === undefined || rest.length > 0 || from.trim() !== String(source)) {
        return {
          ok: false,
          reason:
            `edge ${node}<-${source} is "${truncate(items[source])}"; ` +
            `expected op~${source}`,
        };
      }
      ops.push(op.trim());
    }
  }
  return { ok: true, arch: ops, repairs: [] };
}

function truncate(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/** Maps one operation name to a benchmark name, recording any repair. */
function normalizeOp(
  raw: string,
  edge: number,
  repairs: string[],
): Nb201Op | string {
  if ((NB201_OPS as readonly string[]).includes(raw)) return raw as Nb201Op;
  // NFKC folds full-width and compatibility characters; anything else that
  // is not ASCII (Cyrillic look-alikes, say) is rejected below.
  const folded = raw.normalize("NFKC").trim().toLowerCase();
  // Own keys only, so that "constructor" or "__proto__" is no alias.
  const candidate = Object.hasOwn(OP_ALIASES, folded) ? OP_ALIASES[folded] : folded;
  if ((NB201_OPS as readonly string[]).includes(candidate)) {
    const [to, from] = NB201_EDGES[edge];
    repairs.push(`edge ${to}<-${from}: "${raw}" read as ${candidate}`);
    return candidate as Nb201Op;
  }
  const [to, from] = NB201_EDGES[edge];
  return (
    `unknown operation "${truncate(raw, 40)}" on edge ${to}<-${from}; ` +
    `expected one of: ${NB201_OPS.join(", ")}`
  );
}

/** Formats a cell as the benchmark's canonical string. */
export function formatNb201(arch: Nb201Arch): string {
  let index = 0;
  const groups: string[] = [];
  for (let node = 1; node <= 3; node++) {
    const items: string[] = [];
    for (let source = 0; source < node; source++) {
      items.push(`${arch[index++]}~${source}`);
    }
    groups.push(`|${items.join("|")}|`);
  }
  return groups.join("+");
}

/**
 * Replaces every edge that cannot change the cell output by none: edges out
 * of a node that receives nothing from the input, and edges into a node
 * that does not reach the output. Two cells with the same result compute
 * the same function, following NAS-Bench-201's treatment of `none` as a
 * zero that propagates.
 */
export function canonicalNb201(arch: Nb201Arch): Nb201Arch {
  const live = (index: number) => arch[index] !== "none";
  // Forward: which nodes receive a signal from node 0.
  const fed = [true, false, false, false];
  NB201_EDGES.forEach(([to, from], i) => {
    if (fed[from] && live(i)) fed[to] = true;
  });
  // Backward: which nodes reach node 3.
  const reaches = [false, false, false, true];
  for (let i = NB201_EDGES.length - 1; i >= 0; i--) {
    const [to, from] = NB201_EDGES[i];
    if (reaches[to] && live(i)) reaches[from] = true;
  }
  return arch.map((op, i) => {
    const [to, from] = NB201_EDGES[i];
    return fed[from] && reaches[to] ? op : "none";
  });
}

/**
 * Analytic size of the NAS-Bench-201 network for a cell: parameters, and
 * multiply-adds of convolutions and the classifier, counted as the
 * benchmark counts them (pooling and normalization add no FLOPs).
 */
export function nb201Cost(
  arch: Nb201Arch,
  network: string | Nb201Network = "cifar10",
): Cost {
  const size = typeof network === "string" ? DATASETS[network] : network;
  if (!size) {
    throw new RangeError(
      `unknown dataset "${network}"; expected one of: ${Object.keys(DATASETS).join(", ")}`,
    );
  }
  const conv = (k: number, cin: number, cout: number, side: number) => ({
    params: k * k * cin * cout + 2 * cout,
    flops: k * k * cin * cout * side * side,
  });
  let params = 0;
  let flops = 0;
  const add = (part: { params: number; flops: number }) => {
    params += part.params;
    flops += part.flops;
  };

  add(conv(3, size.inputChannels, size.channels, size.side));
  const channels = [size.channels, 2 * size.channels, 4 * size.channels];
  let side = size.side;
  channels.forEach((c, stage) => {
    if (stage > 0) {
      const cin = channels[stage - 1];
      side = Math.ceil(side / 2);
      add(conv(3, cin, c, side));
      add(conv(3, c, c, side));
      // Shortcut: average pooling, then a 1x1 convolution without norm.
      add({ params: cin * c, flops: cin * c * side * side });
    }
    for (let cell = 0; cell < size.cellsPerStage; cell++) {
      for (const op of arch) {
        if (op === "nor_conv_3x3") add(conv(3, c, c, side));
        if (op === "nor_conv_1x1") add(conv(1, c, c, side));
      }
    }
  });
  const last = channels[2];
  add({ params: 2 * last, flops: 0 });
  add({ params: last * size.classes + size.classes, flops: last * size.classes + size.classes });
  return { paramsM: params / 1e6, flopsM: flops / 1e6 };
}

/**
 * Creates the NAS-Bench-201 space.
 *
 * @param options.dataset network size for the cost model (default cifar10)
 * @param options.network network size for the cost model, in place of a
 *   dataset's NAS-Bench-201 network (for a smaller supernet)
 * @param options.isomorphicDedup when true (the default), `key` maps cells
 *   that compute the same function to one key, so the search spends no
 *   evaluation on a cell equal to one already seen
 */
export function createNb201Space(
  options: SpaceOptions & { network?: Nb201Network } = {},
): SearchSpace<Nb201Arch> {
  const dataset = options.dataset ?? "cifar10";
  const isomorphicDedup = options.isomorphicDedup ?? true;
  if (!options.network && !DATASETS[dataset]) {
    throw new RangeError(
      `unknown dataset "${dataset}"; expected one of: ${Object.keys(DATASETS).join(", ")}`,
    );
  }
  const network = options.network ?? DATASETS[dataset];
  const genes: Gene[] = NB201_EDGES.map(([to, from]) => ({
    name: `edge ${to}<-${from}`,
    dimension: `edge ${to}<-${from}`,
    choices: NB201_OPS,
  }));

  const parse = (input: unknown): ParseResult<Nb201Arch> => {
    const repairs: string[] = [];
    let raw: string[];
    if (typeof input === "string") {
      const split = splitCellString(input);
      if (!split.ok) return split;
      raw = split.arch;
    } else if (Array.isArray(input)) {
      if (input.length !== 6) {
        return {
          ok: false,
          reason: `cell has ${input.length} operations; expected 6`,
        };
      }
      raw = [];
      for (const item of input) {
        if (typeof item === "number" && Number.isInteger(item) && item >= 0 && item < 5) {
          raw.push(NB201_OPS[item]);
        } else if (typeof item === "string") {
          raw.push(item);
        } else {
          return {
            ok: false,
            reason: `invalid operation ${JSON.stringify(item)}; expected a name or an index 0-4`,
          };
        }
      }
    } else if (input && typeof input === "object" && cellField(input) !== undefined) {
      const field = cellField(input)!;
      const inner = parse((input as Record<string, unknown>)[field]);
      if (!inner.ok) return inner;
      const renamed = field === "arch" ? [] : [`field "${field}" read as arch`];
      const ignored = Object.keys(input)
        .filter((name) => name !== field)
        .map((name) => `ignored unknown field "${truncate(name, 40)}"`);
      return { ...inner, repairs: [...renamed, ...ignored, ...inner.repairs] };
    } else {
      return {
        ok: false,
        reason: `invalid cell ${truncate(JSON.stringify(input) ?? String(input))}; expected a cell string`,
      };
    }
    const ops: Nb201Op[] = [];
    for (let i = 0; i < raw.length; i++) {
      const op = normalizeOp(raw[i], i, repairs);
      if (!(NB201_OPS as readonly string[]).includes(op)) {
        return { ok: false, reason: op };
      }
      ops.push(op as Nb201Op);
    }
    return { ok: true, arch: ops, repairs };
  };

  const space: SearchSpace<Nb201Arch> = {
    name: "nb201",
    description: describeSpace(network),
    dimensions: genes.map((gene) => gene.dimension),
    genes,
    candidateSchema,
    candidateExample:
      '{"arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"}',
    // 3x3 convolutions dominate the best cells of cell-based spaces, skip
    // connections come next, and none or pooling on most edges starves the
    // cell (NAS-Bench-201 paper, Dong and Yang 2020, on the top cells).
    prior: NB201_EDGES.map(() => [0.04, 0.18, 0.18, 0.5, 0.1]),
    parse,
    key: (arch) => formatNb201(isomorphicDedup ? canonicalNb201(arch) : arch),
    format: formatNb201,
    toJSON: formatNb201,
    encode: (arch) => [...arch],
    decode: (values) => values.map((v) => String(v) as Nb201Op),
    sample: (rng: Rng) => NB201_EDGES.map(() => rng.pick(NB201_OPS)),
    mutate: (arch, rng) => {
      const out = [...arch];
      const edge = rng.int(out.length);
      const others = NB201_OPS.filter((op) => op !== out[edge]);
      out[edge] = rng.pick(others);
      return out;
    },
    crossover: (a, b, rng) => a.map((op, i) => (rng.next() < 0.5 ? op : b[i])),
    cost: (arch) => nb201Cost(arch, network),
  };
  return space;
}
