import { z } from "zod";
import type { Rng } from "../util/random.ts";
import type { MacroSearchSpace, StructuralCostResult } from "./cost.ts";
import type { Cost, Gene, ParseResult } from "./types.ts";

/**
 * Single Path One-Shot (SPOS) block search space on ShuffleNetV2: Guo et
 * al., "Single Path One-Shot Neural Architecture Search with Uniform
 * Sampling", ECCV 2020, with the network of
 * github.com/megvii-model/SinglePathOneShot (`ShuffleNetV2_OneShot`).
 */

/** Choice blocks in index order; the JSON form stores the index. */
export const SPOS_BLOCKS = [
  "shufflenet_3x3",
  "shufflenet_5x5",
  "shufflenet_7x7",
  "xception_3x3",
] as const;
export const SPOS_LAYERS = 20;
export const SPOS_STAGE_REPEATS = [4, 4, 8, 4] as const;
export const SPOS_STAGE_CHANNELS = [64, 160, 320, 640] as const;
const STEM_CHANNELS = 16;
const LAST_CHANNELS = 1024;
const INPUT_SIDE = 224;
const CLASSES = 1000;

/** One choice-block index (0-3) per layer, 20 layers. */
export type SposArch = readonly number[];

/** Block names a proposal may use, mapped to choice indices. */
const BLOCK_ALIASES: Record<string, number> = {
  shufflenet_3x3: 0,
  shufflenet_5x5: 1,
  shufflenet_7x7: 2,
  xception_3x3: 3,
  shufflenet3x3: 0,
  shufflenet5x5: 1,
  shufflenet7x7: 2,
  shuffle3x3: 0,
  shuffle5x5: 1,
  shuffle7x7: 2,
  choice_3: 0,
  choice_5: 1,
  choice_7: 2,
  choice_x: 3,
  "3x3": 0,
  "5x5": 1,
  "7x7": 2,
  xception: 3,
  shuffle_xception: 3,
};

/** Stage of each layer. */
const LAYER_STAGE: readonly number[] = SPOS_STAGE_REPEATS.flatMap((repeats, stage) =>
  new Array(repeats).fill(stage),
);

/** Running totals of a network's multiply-adds and parameters. */
class CostCounter {
  flops = 0;
  params = 0;

  /** Adds a convolution without bias, followed by batch normalization. */
  conv(inChannels: number, outChannels: number, kernel: number, outSide: number, groups = 1) {
    const weights = (inChannels / groups) * kernel * kernel * outChannels;
    this.flops += weights * outSide * outSide;
    this.params += weights + 2 * outChannels;
  }
}

/**
 * Adds one choice block, as in ShuffleNetV2. A stride-1 block works on half
 * the channels, because the channel split passes the other half through. A
 * stride-2 block takes all input channels and adds a projection branch.
 */
function addBlock(
  counter: CostCounter,
  choice: number,
  inChannels: number,
  outChannels: number,
  stride: number,
  inSide: number,
): void {
  const outSide = inSide / stride;
  const mid = outChannels / 2;
  const branchOut = outChannels - inChannels;
  const kernel = choice === 3 ? 3 : 3 + 2 * choice;
  if (choice < 3) {
    counter.conv(inChannels, mid, 1, inSide);
    counter.conv(mid, mid, kernel, outSide, mid);
    counter.conv(mid, branchOut, 1, outSide);
  } else {
    counter.conv(inChannels, inChannels, 3, outSide, inChannels);
    counter.conv(inChannels, mid, 1, outSide);
    counter.conv(mid, mid, 3, outSide, mid);
    counter.conv(mid, mid, 1, outSide);
    counter.conv(mid, mid, 3, outSide, mid);
    counter.conv(mid, branchOut, 1, outSide);
  }
  if (stride === 2) {
    counter.conv(inChannels, inChannels, kernel, outSide, inChannels);
    counter.conv(inChannels, inChannels, 1, outSide);
  }
}

/**
 * Computes multiply-adds and parameters of the SPOS network for 224x224
 * input and 1000 classes, counted as SPOS's `get_flops` counts them
 * (convolutions and the bias-free classifier). Parameters include the
 * batch-normalization scale and shift of the network trained from scratch.
 */
export function sposCost(arch: SposArch): Cost {
  const counter = new CostCounter();
  let side = INPUT_SIDE / 2;
  counter.conv(3, STEM_CHANNELS, 3, side);
  let channels = STEM_CHANNELS;
  let layer = 0;
  SPOS_STAGE_REPEATS.forEach((repeats, stage) => {
    const outChannels = SPOS_STAGE_CHANNELS[stage];
    for (let block = 0; block < repeats; block++) {
      const stride = block === 0 ? 2 : 1;
      const inChannels = block === 0 ? channels : channels / 2;
      addBlock(counter, arch[layer], inChannels, outChannels, stride, side);
      side /= stride;
      channels = outChannels;
      layer++;
    }
  });
  counter.conv(channels, LAST_CHANNELS, 1, side);
  counter.flops += LAST_CHANNELS * CLASSES;
  counter.params += LAST_CHANNELS * CLASSES;
  return { flopsM: counter.flops / 1e6, paramsM: counter.params / 1e6 };
}

/** Formats an architecture with one group per stage: `2,1,0,1 | 2,0,2,0 | ...`. */
export function formatSposArch(arch: SposArch): string {
  let start = 0;
  return SPOS_STAGE_REPEATS.map((repeats) => {
    const group = arch.slice(start, start + repeats).join(",");
    start += repeats;
    return group;
  }).join(" | ");
}

const EXPECTED_FORM = "expected a list of 20 block indices 0-3, such as [2, 1, 0, 1, ...]";

function preview(value: unknown, max = 80): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/** Reads one entry: an index, a numeric string or a block name. */
function readChoice(value: unknown, layer: number, repairs: string[]): number | string {
  const label = `layer ${layer + 1}`;
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0 && value < SPOS_BLOCKS.length) return value;
    return `${label} is ${value}; expected a block index 0-3 (${SPOS_BLOCKS.join(", ")})`;
  }
  if (typeof value === "string") {
    const text = value.normalize("NFKC").trim().toLowerCase();
    if (/^[0-3]$/.test(text)) {
      repairs.push(`${label}: string "${value}" read as ${text}`);
      return Number(text);
    }
    const name = text.replace(/[\s-]+/g, "_");
    // Own keys only, so that "constructor" or "__proto__" is no alias.
    const index = Object.hasOwn(BLOCK_ALIASES, name) ? BLOCK_ALIASES[name] : undefined;
    if (index !== undefined) {
      repairs.push(`${label}: "${value}" read as ${index} (${SPOS_BLOCKS[index]})`);
      return index;
    }
  }
  const valueText = preview(JSON.stringify(value) ?? String(value), 40);
  return `${label} is ${valueText}; expected a block index 0-3 (${SPOS_BLOCKS.join(", ")})`;
}

/** Splits a string form: JSON, a Python tuple or numbers separated by commas, spaces or "|". */
function splitString(text: string): unknown[] | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (Array.isArray(value)) return value;
      if (value && typeof value === "object" && "arch" in value) {
        const arch = (value as { arch: unknown }).arch;
        return Array.isArray(arch) ? arch : undefined;
      }
      return undefined;
    } catch {
      // Not JSON: fall through to the token form.
    }
  }
  const tokens = trimmed
    .replace(/^[[(]|[\])]$/g, "")
    .split(/[\s,|]+/)
    .filter((token) => token !== "")
    .map((token) => (/^\d+$/.test(token) ? Number(token) : token));
  return tokens.length > 0 ? tokens : undefined;
}

/** Validates and repairs a proposal. */
export function parseSposArch(input: unknown): ParseResult<SposArch> {
  const repairs: string[] = [];
  let items: unknown[] | undefined;
  if (Array.isArray(input)) items = input;
  else if (typeof input === "string") items = splitString(input);
  else if (input && typeof input === "object" && "arch" in input) {
    const inner = parseSposArch((input as { arch: unknown }).arch);
    if (!inner.ok) return inner;
    const ignored = Object.keys(input)
      .filter((name) => name !== "arch")
      .map((name) => `ignored unknown field "${preview(name, 40)}"`);
    return { ...inner, repairs: [...ignored, ...inner.repairs] };
  }
  if (!items) {
    return { ok: false, reason: `invalid SPOS architecture ${preview(input)}; ${EXPECTED_FORM}` };
  }
  if (items.length > SPOS_LAYERS) {
    repairs.push(`architecture has ${items.length} entries; kept the first 20`);
    items = items.slice(0, SPOS_LAYERS);
  }
  if (items.length < SPOS_LAYERS) {
    return {
      ok: false,
      reason:
        `architecture has ${items.length} entries; ${EXPECTED_FORM} ` +
        `(stages of 4, 4, 8 and 4 layers)`,
    };
  }
  const arch: number[] = [];
  for (let layer = 0; layer < SPOS_LAYERS; layer++) {
    const choice = readChoice(items[layer], layer, repairs);
    if (typeof choice === "string") return { ok: false, reason: choice };
    arch.push(choice);
  }
  return { ok: true, arch, repairs };
}

function describeSpace(): string {
  const smallest = sposCost(new Array(SPOS_LAYERS).fill(0));
  const largest = sposCost(new Array(SPOS_LAYERS).fill(3));
  return `The Single Path One-Shot (SPOS) block search space on \
ShuffleNetV2 for ImageNet classification (224x224 input, 1000 classes). The \
network is a 3x3 stem convolution with 16 channels, 20 choice blocks in 4 \
stages of 4, 4, 8 and 4 blocks with 64, 160, 320 and 640 output channels (the \
first block of each stage has stride 2), a 1x1 convolution to 1024 channels, \
global pooling and a linear classifier.

Each of the 20 blocks is one of:
- 0: ShuffleNetV2 block with a 3x3 depthwise convolution;
- 1: ShuffleNetV2 block with a 5x5 depthwise convolution;
- 2: ShuffleNetV2 block with a 7x7 depthwise convolution;
- 3: Xception-like block with three 3x3 depthwise convolutions.
An architecture is a list of 20 block indices in layer order. Larger kernels \
and Xception blocks add receptive field and cost: FLOPs range from \
${smallest.flopsM?.toFixed(0)}M (all 0) to ${largest.flopsM?.toFixed(0)}M (all 3) \
multiply-adds, parameters from ${smallest.paramsM?.toFixed(1)}M to \
${largest.paramsM?.toFixed(1)}M.`;
}

const candidateSchema = z
  .object({
    arch: z
      .array(z.number())
      .describe(
        "20 block indices in layer order: 0 shuffle 3x3, 1 shuffle 5x5, 2 shuffle 7x7, 3 xception",
      ),
  })
  .describe("One SPOS ShuffleNetV2 architecture");

/**
 * Creates the SPOS ShuffleNetV2 space. Every block index 0-3 can be built,
 * so `structuralCost` has no values outside the lists to warn about.
 */
export function createSposSpace(): MacroSearchSpace<SposArch> {
  const genes: Gene[] = LAYER_STAGE.map((stage, layer) => ({
    name: `layer ${layer + 1} block`,
    dimension: `stage ${stage + 1} blocks`,
    choices: [0, 1, 2, 3],
  }));
  const dimensions = [...new Set(genes.map((gene) => gene.dimension))];

  const structuralCost = (input: unknown): StructuralCostResult => {
    const result = parseSposArch(input);
    if (!result.ok) return result;
    return { ok: true, cost: sposCost(result.arch), repairs: result.repairs, warnings: [] };
  };

  const decode = (values: readonly (string | number)[]): SposArch => {
    if (values.length !== SPOS_LAYERS) {
      throw new RangeError(`expected ${SPOS_LAYERS} gene values, got ${values.length}`);
    }
    return values.map((value, layer) => {
      const choice = Number(value);
      if (!Number.isInteger(choice) || choice < 0 || choice > 3) {
        throw new RangeError(
          `invalid value ${value} for gene "layer ${layer + 1} block"; expected 0-3`,
        );
      }
      return choice;
    });
  };

  return {
    name: "spos-shufflenet",
    description: describeSpace(),
    dimensions,
    genes,
    candidateSchema,
    candidateExample: '{"arch": [2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3]}',
    parse: parseSposArch,
    structuralCost,
    key: (arch) => arch.join(""),
    format: formatSposArch,
    toJSON: (arch) => [...arch],
    encode: (arch) => [...arch],
    decode,
    sample: (rng: Rng) => Array.from({ length: SPOS_LAYERS }, () => rng.int(SPOS_BLOCKS.length)),
    mutate: (arch, rng) => {
      const out = [...arch];
      const layer = rng.int(SPOS_LAYERS);
      const others = [0, 1, 2, 3].filter((choice) => choice !== out[layer]);
      out[layer] = rng.pick(others);
      return out;
    },
    crossover: (a, b, rng) => a.map((choice, layer) => (rng.next() < 0.5 ? choice : b[layer])),
    cost: sposCost,
  };
}
