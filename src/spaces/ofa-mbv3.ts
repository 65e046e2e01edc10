import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { Rng } from "../util/random.ts";
import type { MacroSearchSpace, StructuralCostResult } from "./cost.ts";
import type { Cost, Gene, ParseResult } from "./types.ts";

/**
 * Once-for-All (OFA) MobileNetV3 search space: Cai et al., "Once for All:
 * Train One Network and Specialize it for Efficient Deployment", ICLR 2020,
 * with the network definition of github.com/mit-han-lab/once-for-all
 * (`OFAMobileNetV3` and `MBConvLayer`).
 */

export const OFA_KERNEL_SIZES = [3, 5, 7] as const;
export const OFA_EXPAND_RATIOS = [3, 4, 6] as const;
export const OFA_DEPTHS = [2, 3, 4] as const;
/** Input resolutions of the width-1.2 supernet: 160 to 224 in steps of 4. */
export const OFA_RESOLUTIONS: readonly number[] = Array.from({ length: 17 }, (_, i) => 160 + 4 * i);
export const OFA_WIDTHS = [1.0, 1.2] as const;
export const OFA_STAGES = 5;
export const OFA_SLOTS_PER_STAGE = 4;
export const OFA_SLOTS = OFA_STAGES * OFA_SLOTS_PER_STAGE;

/** Per-stage settings of the elastic stages, as in OFA's `OFAMobileNetV3`. */
const STAGE_STRIDES = [2, 2, 2, 1, 2];
const STAGE_HSWISH = [false, false, true, true, true];
const STAGE_SE = [false, true, false, true, true];
/**
 * Channel widths before the width multiplier: stem, first block, 5 stages,
 * final expand layer, feature mix layer.
 */
const BASE_WIDTHS = [16, 16, 24, 40, 80, 112, 160, 960, 1280];
const CLASSES = 1000;

/**
 * One OFA MobileNetV3 subnet. Slot `i` belongs to stage `floor(i / 4)` and
 * is active when `i % 4 < d[stage]`. Inactive slots contain 0, so two
 * subnets that differ only in unused slots are one architecture.
 */
export interface OfaArch {
  /** Input resolution in pixels. */
  readonly r: number;
  /** Depth of each of the 5 stages. */
  readonly d: readonly number[];
  /** Kernel size of each of the 20 block slots, 0 when inactive. */
  readonly ks: readonly number[];
  /** Expand ratio of each of the 20 block slots, 0 when inactive. */
  readonly e: readonly number[];
}

/** One layer of a subnet as the cost models see it. */
export interface OfaLayer {
  /** Key of the layer in OFA's latency look-up table format. */
  key: string;
  /** Multiply-adds. */
  flops: number;
  /** Parameters, batch-normalization scale and shift included. */
  params: number;
}

/** Channel widths of the network for one width multiplier. */
export interface OfaChannels {
  stem: number;
  firstBlock: number;
  /** Output channels of the 5 elastic stages. */
  stages: number[];
  finalExpand: number;
  featureMix: number;
}

/** Returns true when slot `slot` is active for the stage depths `d`. */
export function isActiveSlot(d: readonly number[], slot: number): boolean {
  return slot % OFA_SLOTS_PER_STAGE < d[Math.floor(slot / OFA_SLOTS_PER_STAGE)];
}

/**
 * Rounds a channel count to a multiple of `divisor`, never more than 10%
 * below the value: the rule of the TensorFlow MobileNet code that OFA uses.
 */
function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor(Math.trunc(value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** Rounds half to even, as Python's `round`, which OFA applies to `in * e`. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Returns the channel widths of the network for a width multiplier. */
export function ofaChannels(width: number): OfaChannels {
  const widths = BASE_WIDTHS.map((base) => makeDivisible(base * width));
  return {
    stem: widths[0],
    firstBlock: widths[1],
    stages: widths.slice(2, 7),
    finalExpand: widths[7],
    featureMix: widths[8],
  };
}

/** Returns the output side of a convolution with padding `kernel // 2`. */
function strided(side: number, stride: number): number {
  return Math.floor((side - 1) / stride) + 1;
}

interface MbConvSpec {
  inChannels: number;
  outChannels: number;
  /** Channels of the depthwise convolution. */
  mid: number;
  kernel: number;
  stride: number;
  /** Input side in pixels. */
  side: number;
  se: boolean;
  hswish: boolean;
  /** False for OFA's first block, which has no 1x1 expansion. */
  expand: boolean;
}

/** Returns the cost and table key of one inverted-residual (MBConv) block. */
function mbConvLayer(spec: MbConvSpec): OfaLayer {
  const { inChannels, outChannels, mid, kernel, stride, side } = spec;
  const outSide = strided(side, stride);
  let flops = 0;
  let params = 0;
  if (spec.expand) {
    flops += inChannels * mid * side * side;
    params += inChannels * mid + 2 * mid;
  }
  flops += mid * kernel * kernel * outSide * outSide;
  params += mid * kernel * kernel + 2 * mid;
  if (spec.se) {
    // Squeeze-and-excitation on the pooled vector: two 1x1 convolutions with
    // bias, reduction 4, as in OFA's SEModule.
    const seMid = makeDivisible(Math.floor(mid / 4));
    flops += 2 * mid * seMid;
    params += 2 * mid * seMid + seMid + mid;
  }
  flops += mid * outChannels * outSide * outSide;
  params += mid * outChannels + 2 * outChannels;

  const identitySkip = stride === 1 && inChannels === outChannels ? 1 : 0;
  const key =
    `expanded_conv-input:${side}x${side}x${inChannels}` +
    `-output:${outSide}x${outSide}x${outChannels}` +
    `-expand:${mid}-kernel:${kernel}-stride:${stride}` +
    `-idskip:${identitySkip}-se:${spec.se ? 1 : 0}-hs:${spec.hswish ? 1 : 0}`;
  return { key, flops, params };
}

/** Returns the layers before the elastic stages: stem convolution and first block. */
function headLayers(r: number, channels: OfaChannels): OfaLayer[] {
  const side = strided(r, 2);
  const stem: OfaLayer = {
    key: `Conv-input:${r}x${r}x3-output:${side}x${side}x${channels.stem}`,
    flops: 27 * channels.stem * side * side,
    params: 27 * channels.stem + 2 * channels.stem,
  };
  const firstBlock = mbConvLayer({
    inChannels: channels.stem,
    outChannels: channels.firstBlock,
    mid: channels.stem,
    kernel: 3,
    stride: 1,
    side,
    se: false,
    hswish: false,
    expand: false,
  });
  return [stem, firstBlock];
}

/** Returns the layers after the elastic stages, for a final feature map of `side`. */
function tailLayers(side: number, channels: OfaChannels): OfaLayer[] {
  const last = channels.stages[OFA_STAGES - 1];
  const { finalExpand, featureMix } = channels;
  return [
    {
      key: `Conv_1-input:${side}x${side}x${last}-output:${side}x${side}x${finalExpand}`,
      flops: last * finalExpand * side * side,
      params: last * finalExpand + 2 * finalExpand,
    },
    {
      key: `AvgPool2D-input:${side}x${side}x${finalExpand}-output:1x1x${finalExpand}`,
      flops: 0,
      params: 0,
    },
    {
      // Feature mix: 1x1 convolution without bias or batch normalization.
      key: `Conv_2-input:1x1x${finalExpand}-output:1x1x${featureMix}`,
      flops: finalExpand * featureMix,
      params: finalExpand * featureMix,
    },
    {
      key: `Logits-input:1x1x${featureMix}-output:${CLASSES}`,
      flops: featureMix * CLASSES,
      params: featureMix * CLASSES + CLASSES,
    },
  ];
}

/** Describes block `block` of stage `stage` entered with `inChannels` at `side`. */
function stageBlock(
  stage: number,
  block: number,
  inChannels: number,
  side: number,
  kernel: number,
  expandRatio: number,
  channels: OfaChannels,
): OfaLayer {
  return mbConvLayer({
    inChannels,
    outChannels: channels.stages[stage],
    mid: makeDivisible(roundHalfEven(inChannels * expandRatio)),
    kernel,
    stride: block === 0 ? STAGE_STRIDES[stage] : 1,
    side,
    se: STAGE_SE[stage],
    hswish: STAGE_HSWISH[stage],
    expand: expandRatio !== 1,
  });
}

/**
 * Lists the layers of a subnet: stem, first block, the active MBConv
 * blocks, final expand layer, pooling, feature mix layer and classifier
 * (1000 classes). Costs follow OFA's own counter: multiply-adds of
 * convolutions and the classifier, nothing for activations, pooling or
 * batch normalization.
 */
export function ofaMbv3Layers(arch: OfaArch, width = 1.2): OfaLayer[] {
  const channels = ofaChannels(width);
  const layers = headLayers(arch.r, channels);
  let side = strided(arch.r, 2);
  let inChannels = channels.firstBlock;
  for (let stage = 0; stage < OFA_STAGES; stage++) {
    for (let block = 0; block < arch.d[stage]; block++) {
      const slot = stage * OFA_SLOTS_PER_STAGE + block;
      const layer = stageBlock(
        stage,
        block,
        inChannels,
        side,
        arch.ks[slot],
        arch.e[slot],
        channels,
      );
      layers.push(layer);
      side = strided(side, block === 0 ? STAGE_STRIDES[stage] : 1);
      inChannels = channels.stages[stage];
    }
  }
  layers.push(...tailLayers(side, channels));
  return layers;
}

/** Per-layer latency look-up table, in milliseconds per resolution. */
export interface OfaLatencyTable {
  /** Source of the table (a file path), for messages. */
  readonly source: string;
  /** Mean latency of each layer key, per input resolution. */
  readonly layers: ReadonlyMap<number, ReadonlyMap<string, number>>;
}

/** A latency table that cannot be read or does not fit the network. */
export class LatencyTableError extends Error {
  override name = "LatencyTableError";
}

/**
 * Builds a latency table from parsed JSON of OFA's format: an object keyed
 * by resolution ("160" ... "224"), each an object keyed by layer key whose
 * values are `{count, mean, std}`. Only `mean` (ms) is used.
 *
 * @throws LatencyTableError naming the resolution or layer that is invalid
 */
export function parseOfaLatencyTable(data: unknown, source = "latency table"): OfaLatencyTable {
  if (!isRecord(data)) {
    throw new LatencyTableError(
      `${source} is not a JSON object keyed by resolution ("160", "164", ...)`,
    );
  }
  const layers = new Map<number, Map<string, number>>();
  for (const [resolutionKey, entries] of Object.entries(data)) {
    const resolution = Number(resolutionKey);
    if (!Number.isInteger(resolution) || resolution <= 0) {
      throw new LatencyTableError(
        `${source} has key "${resolutionKey}"; expected a resolution in pixels such as "224"`,
      );
    }
    if (!isRecord(entries)) {
      throw new LatencyTableError(
        `${source} resolution ${resolutionKey} is not an object keyed by layer`,
      );
    }
    const byKey = new Map<string, number>();
    for (const [layerKey, entry] of Object.entries(entries)) {
      const mean = isRecord(entry) ? entry.mean : undefined;
      if (typeof mean !== "number" || !Number.isFinite(mean) || mean < 0) {
        throw new LatencyTableError(
          `${source} resolution ${resolutionKey} layer "${layerKey}" has no ` +
            `valid "mean"; expected {"count", "mean", "std"} with mean in ms`,
        );
      }
      byKey.set(layerKey, mean);
    }
    layers.set(resolution, byKey);
  }
  return { source, layers };
}

/**
 * Reads a latency table JSON file (see `parseOfaLatencyTable`).
 *
 * @throws LatencyTableError when the file is missing, is not JSON or has
 *   an invalid entry
 */
export async function loadOfaLatencyTable(path: string): Promise<OfaLatencyTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new LatencyTableError(`cannot read latency table ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new LatencyTableError(
      `latency table ${path} is not valid JSON: ${(error as Error).message}`,
    );
  }
  return parseOfaLatencyTable(data, `latency table ${path}`);
}

/** Latency of a subnet, or the first layer key the table lacks. */
export type OfaLatencyLookup =
  { ok: true; latencyMs: number } | { ok: false; resolution: number; missingKey?: string };

/**
 * Sums the table's mean latency over the layers of a subnet, as OFA's
 * `MBv3LatencyTable` does.
 */
export function lookupOfaLatency(
  arch: OfaArch,
  table: OfaLatencyTable,
  width = 1.2,
): OfaLatencyLookup {
  const byKey = table.layers.get(arch.r);
  if (!byKey) return { ok: false, resolution: arch.r };
  let total = 0;
  for (const layer of ofaMbv3Layers(arch, width)) {
    const mean = byKey.get(layer.key);
    if (mean === undefined) {
      return { ok: false, resolution: arch.r, missingKey: layer.key };
    }
    total += mean;
  }
  return { ok: true, latencyMs: total };
}

/**
 * Checks that a table has every layer any subnet of the space can use, so
 * that the space's `cost` never meets a missing entry.
 *
 * @throws LatencyTableError naming the first missing resolution or layer
 */
export function checkLatencyTableCoverage(table: OfaLatencyTable, width: number): void {
  const channels = ofaChannels(width);
  for (const r of OFA_RESOLUTIONS) {
    const byKey = table.layers.get(r);
    if (!byKey) {
      throw new LatencyTableError(
        `${table.source} has no entries for resolution ${r}; ` +
          `the space needs resolutions 160 to 224 in steps of 4`,
      );
    }
    const keys = possibleLayers(r, channels).map((layer) => layer.key);
    for (const key of keys) {
      if (!byKey.has(key)) {
        throw new LatencyTableError(
          `${table.source} has no entry "${key}" at resolution ${r}; ` +
            `check that the table was measured for width ${width.toFixed(1)}`,
        );
      }
    }
  }
}

/** Lists every layer that a subnet of the space can contain at resolution `r`. */
function possibleLayers(r: number, channels: OfaChannels): OfaLayer[] {
  const layers = headLayers(r, channels);
  let side = strided(r, 2);
  let inChannels = channels.firstBlock;
  for (let stage = 0; stage < OFA_STAGES; stage++) {
    const stageSide = strided(side, STAGE_STRIDES[stage]);
    for (const kernel of OFA_KERNEL_SIZES) {
      for (const ratio of OFA_EXPAND_RATIOS) {
        layers.push(stageBlock(stage, 0, inChannels, side, kernel, ratio, channels));
        const out = channels.stages[stage];
        layers.push(stageBlock(stage, 1, out, stageSide, kernel, ratio, channels));
      }
    }
    side = stageSide;
    inChannels = channels.stages[stage];
  }
  layers.push(...tailLayers(side, channels));
  return layers;
}

/**
 * Computes FLOPs and parameters of a subnet, and its latency when a table
 * is given.
 *
 * @throws LatencyTableError when the table lacks a layer of the subnet
 */
export function ofaMbv3Cost(
  arch: OfaArch,
  options: { width?: number; latencyTable?: OfaLatencyTable } = {},
): Cost {
  const width = options.width ?? 1.2;
  const layers = ofaMbv3Layers(arch, width);
  const cost: Cost = {
    flopsM: layers.reduce((sum, layer) => sum + layer.flops, 0) / 1e6,
    paramsM: layers.reduce((sum, layer) => sum + layer.params, 0) / 1e6,
  };
  if (options.latencyTable) {
    const lookup = lookupOfaLatency(arch, options.latencyTable, width);
    if (!lookup.ok) {
      throw new LatencyTableError(describeMissingLatency(lookup, options.latencyTable));
    }
    cost.latencyMs = lookup.latencyMs;
  }
  return cost;
}

function describeMissingLatency(
  lookup: { resolution: number; missingKey?: string },
  table: OfaLatencyTable,
): string {
  if (lookup.missingKey === undefined) {
    return `${table.source} has no entries for resolution ${lookup.resolution}`;
  }
  return `${table.source} has no entry "${lookup.missingKey}" at resolution ${lookup.resolution}`;
}

/** Number of inputs of OFA's MobileNetV3 accuracy predictor. */
export const OFA_PREDICTOR_FEATURE_COUNT = 128;

/**
 * Encodes a subnet as the 128 inputs of OFA's MobileNetV3 accuracy
 * predictor (the `AccuracyPredictor` of OFA's tutorial). Features 0-59 are
 * a one-hot of each active slot's kernel size (3, 5, 7), and 60-119 a
 * one-hot of its expand ratio (3, 4, 6). Inactive slots stay all zero.
 * Features 120-127 are a one-hot of the resolution bucket
 * `floor((r - 112) / 16)`.
 *
 * @throws RangeError when r is outside 112-239 or an active slot has a
 *   value outside the choice lists
 */
export function encodeOfaPredictorFeatures(arch: OfaArch): Float32Array {
  const features = new Float32Array(OFA_PREDICTOR_FEATURE_COUNT);
  const bucket = Math.floor((arch.r - 112) / 16);
  if (bucket < 0 || bucket > 7) {
    throw new RangeError(`r=${arch.r} is outside the predictor's resolutions; expected 112 to 239`);
  }
  for (let slot = 0; slot < OFA_SLOTS; slot++) {
    if (!isActiveSlot(arch.d, slot)) continue;
    const kernel = OFA_KERNEL_SIZES.indexOf(arch.ks[slot] as 3 | 5 | 7);
    const ratio = OFA_EXPAND_RATIOS.indexOf(arch.e[slot] as 3 | 4 | 6);
    if (kernel < 0 || ratio < 0) {
      throw new RangeError(
        `slot ${slot} has ks=${arch.ks[slot]} e=${arch.e[slot]}; the predictor ` +
          `accepts ks in 3, 5, 7 and e in 3, 4, 6`,
      );
    }
    features[3 * slot + kernel] = 1;
    features[60 + 3 * slot + ratio] = 1;
  }
  features[120 + bucket] = 1;
  return features;
}

// ---------------------------------------------------------------------------
// Parsing

type ParseMode = "space" | "structure";

type OfaParse =
  | { ok: true; arch: OfaArch; repairs: string[]; warnings: string[] }
  | { ok: false; reason: string };

const FIELD_ALIASES: Record<"r" | "d" | "ks" | "e", readonly string[]> = {
  r: ["r", "resolution", "image_size", "img_size", "input_size"],
  d: ["d", "depth", "depths", "depth_list"],
  ks: ["ks", "k", "kernel_size", "kernel_sizes", "ks_list"],
  e: ["e", "expand_ratio", "expand_ratios", "expand", "e_list"],
};

const FIELD_MEANING = {
  r: "input resolution",
  d: "stage depths",
  ks: "kernel sizes",
  e: "expand ratios",
};

const EXPECTED_FORM =
  'expected {"r": 224, "d": [5 depths], "ks": [20 kernel sizes], "e": [20 expand ratios]}';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function preview(value: unknown, max = 80): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/** Reads a number, accepting a numeric string with a repair. */
function readNumber(value: unknown, label: string, repairs: string[]): number | { error: string } {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
    repairs.push(`${label}: string "${value}" read as the number ${Number(value)}`);
    return Number(value);
  }
  return { error: `${label} is ${preview(value)}; expected a number` };
}

/** Parses the compact form of `format`: `r=224 d=[...] ks=[...] e=[...]`. */
function parseFormatString(text: string): Record<string, unknown> | undefined {
  const r = /\br\s*[=:]\s*(\d+(?:\.\d+)?)/.exec(text);
  const list = (name: string) => {
    const match = new RegExp(`\\b${name}\\s*[=:]\\s*\\[([^\\]]*)\\]`).exec(text);
    if (!match) return undefined;
    return match[1]
      .split(/[\s,|]+/)
      .filter((token) => token !== "")
      .map((token) => (token === "-" ? 0 : /^\d+(\.\d+)?$/.test(token) ? Number(token) : token));
  };
  const d = list("d");
  const ks = list("ks");
  const e = list("e");
  if (!r || !d || !ks || !e) return undefined;
  return { r: Number(r[1]), d, ks, e };
}

/** Finds each field under its name or an alias. */
function readFields(
  value: Record<string, unknown>,
  repairs: string[],
): Record<"r" | "d" | "ks" | "e", unknown> | { error: string } {
  const out: Partial<Record<"r" | "d" | "ks" | "e", unknown>> = {};
  const used = new Set<string>();
  for (const field of ["r", "d", "ks", "e"] as const) {
    const alias = FIELD_ALIASES[field].find((name) => name in value);
    if (alias === undefined) {
      return {
        error: `missing field "${field}" (${FIELD_MEANING[field]}); ${EXPECTED_FORM}`,
      };
    }
    if (alias !== field) repairs.push(`field "${alias}" read as ${field}`);
    out[field] = value[alias];
    used.add(alias);
  }
  for (const name of Object.keys(value)) {
    if (!used.has(name)) repairs.push(`ignored unknown field "${name}"`);
  }
  return out as Record<"r" | "d" | "ks" | "e", unknown>;
}

function parseResolution(
  raw: unknown,
  mode: ParseMode,
  repairs: string[],
  warnings: string[],
): number | { error: string } {
  let value = raw;
  if (Array.isArray(value) && value.length === 1) {
    repairs.push(`r given as a list of one value; used ${preview(value[0])}`);
    value = value[0];
  }
  const r = readNumber(value, "r", repairs);
  if (typeof r !== "number") return r;
  if (mode === "space") {
    if (r < 160 || r > 224) {
      return { error: `r=${r} is outside the space; expected a multiple of 4 from 160 to 224` };
    }
    const snapped = 160 + 4 * Math.round((r - 160) / 4);
    if (snapped !== r) repairs.push(`r=${r} rounded to ${snapped}, the nearest valid resolution`);
    return snapped;
  }
  if (r < 1)
    return { error: `r=${r} is not a valid resolution; expected a positive number of pixels` };
  const rounded = Math.round(r);
  if (rounded !== r) repairs.push(`r=${r} rounded to ${rounded}`);
  if (!OFA_RESOLUTIONS.includes(rounded)) {
    warnings.push(`r=${rounded} is outside the space's resolutions (160 to 224 in steps of 4)`);
  }
  return rounded;
}

function parseDepths(
  raw: unknown,
  mode: ParseMode,
  repairs: string[],
  warnings: string[],
): number[] | { error: string } {
  if (!Array.isArray(raw)) {
    return { error: `d is ${preview(raw)}; expected a list of 5 stage depths` };
  }
  let items = raw;
  if (items.length > OFA_STAGES) {
    repairs.push(`d has ${items.length} entries; kept the first 5`);
    items = items.slice(0, OFA_STAGES);
  }
  if (items.length < OFA_STAGES) {
    return { error: `d has ${items.length} entries; expected 5 (one depth per stage)` };
  }
  const depths: number[] = [];
  for (let stage = 0; stage < OFA_STAGES; stage++) {
    const depth = readNumber(items[stage], `d[${stage}]`, repairs);
    if (typeof depth !== "number") return depth;
    const allowed = (OFA_DEPTHS as readonly number[]).includes(depth);
    if (mode === "space" && !allowed) {
      return { error: `d[${stage}]=${depth} is not a valid depth; expected one of 2, 3, 4` };
    }
    if (!Number.isInteger(depth) || depth < 1 || depth > OFA_SLOTS_PER_STAGE) {
      return { error: `d[${stage}]=${depth} cannot be built; a stage has 1 to 4 blocks` };
    }
    if (!allowed) warnings.push(`d[${stage}]=${depth} is outside the space's depths (2, 3, 4)`);
    depths.push(depth);
  }
  return depths;
}

/**
 * Places a kernel-size or expand-ratio list into the 20 slots. Accepts 20
 * entries, more (truncated), one per active block, a list per stage, a
 * single value for every block, or a list that stops after the last
 * active slot.
 */
function spreadSlots(
  raw: unknown,
  field: "ks" | "e",
  depths: readonly number[],
  repairs: string[],
): unknown[] | { error: string } {
  const active = depths.reduce((sum, depth) => sum + depth, 0);
  const activeSlots = Array.from({ length: OFA_SLOTS }, (_, slot) => slot).filter((slot) =>
    isActiveSlot(depths, slot),
  );
  if (!Array.isArray(raw)) {
    if (typeof raw === "number" || typeof raw === "string") {
      repairs.push(`${field}=${raw} applied to every block`);
      return new Array(OFA_SLOTS).fill(raw);
    }
    return { error: `${field} is ${preview(raw)}; expected a list of 20 values` };
  }
  if (raw.length === OFA_STAGES && raw.every((item) => Array.isArray(item))) {
    const slots: unknown[] = new Array(OFA_SLOTS).fill(0);
    raw.forEach((stageValues: unknown[], stage) => {
      stageValues.slice(0, OFA_SLOTS_PER_STAGE).forEach((value, block) => {
        slots[stage * OFA_SLOTS_PER_STAGE + block] = value;
      });
    });
    repairs.push(`${field} given as one list per stage; placed into the 20 slots`);
    return slots;
  }
  if (raw.length === OFA_SLOTS) return [...raw];
  if (raw.length > OFA_SLOTS) {
    repairs.push(`${field} has ${raw.length} entries; kept the first 20`);
    return raw.slice(0, OFA_SLOTS);
  }
  if (raw.length === active) {
    const slots: unknown[] = new Array(OFA_SLOTS).fill(0);
    activeSlots.forEach((slot, i) => {
      slots[slot] = raw[i];
    });
    repairs.push(
      `${field} has ${raw.length} entries, one per active block; placed them into the 20 slots`,
    );
    return slots;
  }
  const lastActive = activeSlots[activeSlots.length - 1];
  if (raw.length > lastActive) {
    repairs.push(`${field} has ${raw.length} entries; the missing slots are inactive and set to 0`);
    return [...raw, ...new Array(OFA_SLOTS - raw.length).fill(0)];
  }
  return {
    error:
      `${field} has ${raw.length} entries; expected 20 (4 slots per stage, 0 in ` +
      `inactive slots) or ${active} (one per active block)`,
  };
}

function parseSlotValues(
  raw: unknown,
  field: "ks" | "e",
  depths: readonly number[],
  mode: ParseMode,
  repairs: string[],
  warnings: string[],
): number[] | { error: string } {
  const slots = spreadSlots(raw, field, depths, repairs);
  if (!Array.isArray(slots)) return slots;
  const choices: readonly number[] = field === "ks" ? OFA_KERNEL_SIZES : OFA_EXPAND_RATIOS;
  const values: number[] = [];
  for (let slot = 0; slot < OFA_SLOTS; slot++) {
    if (!isActiveSlot(depths, slot)) {
      values.push(0);
      continue;
    }
    const label = `${field}[${slot}] (stage ${Math.floor(slot / 4) + 1}, block ${(slot % 4) + 1})`;
    const value = readNumber(slots[slot], label, repairs);
    if (typeof value !== "number") return value;
    const allowed = choices.includes(value);
    if (mode === "space" && !allowed) {
      return { error: `${label} is ${value}; expected one of ${choices.join(", ")}` };
    }
    const buildable =
      field === "ks" ? Number.isInteger(value) && value > 0 && value % 2 === 1 : value >= 1;
    if (!buildable) {
      const rule =
        field === "ks"
          ? "a kernel size must be a positive odd integer"
          : "an expand ratio must be at least 1";
      return { error: `${label} is ${value}, which cannot be built: ${rule}` };
    }
    if (!allowed) {
      warnings.push(`${label} is ${value}, outside the space's choices ${choices.join(", ")}`);
    }
    values.push(value);
  }
  return values;
}

/** Parses a proposal in the space's choice lists or, in structure mode, any buildable subnet. */
function parseOfa(input: unknown, mode: ParseMode): OfaParse {
  const repairs: string[] = [];
  const warnings: string[] = [];
  let value = input;
  if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("{")) {
      try {
        value = JSON.parse(text);
      } catch (error) {
        return { ok: false, reason: `invalid JSON: ${(error as Error).message}; ${EXPECTED_FORM}` };
      }
    } else {
      value = parseFormatString(text);
      if (value === undefined) {
        return {
          ok: false,
          reason:
            `invalid architecture string "${preview(text)}"; ${EXPECTED_FORM} ` +
            `or r=224 d=[...] ks=[...] e=[...]`,
        };
      }
    }
  }
  if (isRecord(value) && Object.keys(value).length === 1 && "arch" in value) {
    return parseOfa(value.arch, mode);
  }
  if (!isRecord(value)) {
    return { ok: false, reason: `invalid architecture ${preview(value)}; ${EXPECTED_FORM}` };
  }

  const fields = readFields(value, repairs);
  if ("error" in fields) return { ok: false, reason: fields.error as string };
  const r = parseResolution(fields.r, mode, repairs, warnings);
  if (typeof r !== "number") return { ok: false, reason: r.error };
  const d = parseDepths(fields.d, mode, repairs, warnings);
  if (!Array.isArray(d)) return { ok: false, reason: d.error };
  const ks = parseSlotValues(fields.ks, "ks", d, mode, repairs, warnings);
  if (!Array.isArray(ks)) return { ok: false, reason: ks.error };
  const e = parseSlotValues(fields.e, "e", d, mode, repairs, warnings);
  if (!Array.isArray(e)) return { ok: false, reason: e.error };
  return { ok: true, arch: { r, d, ks, e }, repairs, warnings };
}

// ---------------------------------------------------------------------------
// The space

/** Formats a subnet as `r=224 d=[...] ks=[a,b,c,d|...] e=[...]`, "-" for inactive slots. */
export function formatOfaArch(arch: OfaArch): string {
  const slots = (values: readonly number[]) =>
    Array.from({ length: OFA_STAGES }, (_, stage) =>
      values
        .slice(stage * OFA_SLOTS_PER_STAGE, (stage + 1) * OFA_SLOTS_PER_STAGE)
        .map((value) => (value === 0 ? "-" : String(value)))
        .join(","),
    ).join("|");
  return `r=${arch.r} d=[${arch.d.join(",")}] ks=[${slots(arch.ks)}] e=[${slots(arch.e)}]`;
}

/** Zeroes the slots past each stage's depth. */
function canonical(
  r: number,
  d: readonly number[],
  ks: readonly number[],
  e: readonly number[],
): OfaArch {
  return {
    r,
    d: [...d],
    ks: ks.map((value, slot) => (isActiveSlot(d, slot) ? value : 0)),
    e: e.map((value, slot) => (isActiveSlot(d, slot) ? value : 0)),
  };
}

function buildGenes(): Gene[] {
  const genes: Gene[] = [{ name: "resolution", dimension: "resolution", choices: OFA_RESOLUTIONS }];
  for (let stage = 1; stage <= OFA_STAGES; stage++) {
    genes.push({
      name: `stage ${stage} depth`,
      dimension: `stage ${stage} depth`,
      choices: OFA_DEPTHS,
    });
  }
  const slotGenes = (property: string, choices: readonly number[]) => {
    for (let slot = 0; slot < OFA_SLOTS; slot++) {
      const stage = Math.floor(slot / OFA_SLOTS_PER_STAGE) + 1;
      genes.push({
        name: `block ${stage}.${(slot % OFA_SLOTS_PER_STAGE) + 1} ${property}`,
        dimension: `stage ${stage} ${property}`,
        choices,
      });
    }
  };
  slotGenes("kernel size", OFA_KERNEL_SIZES);
  slotGenes("expand ratio", OFA_EXPAND_RATIOS);
  return genes;
}

/**
 * Builds the offline policy's prior, which leans towards spending FLOPs
 * where they are cheap. A block in stage 1 costs about twice a stage-5
 * block (36M against 16M multiply-adds at width 1.2, r=224, kernel 5,
 * expand ratio 4), so stage 1 favours depth 2 and expand ratio 3, and
 * stage 5 favours depth 4 and expand ratio 6. Every other gene is uniform.
 */
function buildPrior(genes: readonly Gene[]): number[][] {
  return genes.map((gene) => {
    const stage = /^stage (\d) (?:depth|expand ratio)$/.exec(gene.dimension)?.[1];
    if (stage === "1") return [3, 2, 1];
    if (stage === "5") return [1, 2, 3];
    return gene.choices.map(() => 1);
  });
}

/** Returns the FLOPs (M) of the subnet with choice `index` everywhere: 0 smallest, 2 largest. */
function extremeFlops(width: number, index: number): number {
  const d = new Array(OFA_STAGES).fill(OFA_DEPTHS[index]);
  const arch = canonical(
    index === 0 ? OFA_RESOLUTIONS[0] : OFA_RESOLUTIONS[OFA_RESOLUTIONS.length - 1],
    d,
    new Array(OFA_SLOTS).fill(OFA_KERNEL_SIZES[index]),
    new Array(OFA_SLOTS).fill(OFA_EXPAND_RATIOS[index]),
  );
  return ofaMbv3Cost(arch, { width }).flopsM ?? 0;
}

function describeSpace(width: number, hasLatency: boolean): string {
  return `The Once-for-All MobileNetV3 space (width multiplier ${width}) for \
ImageNet classification, 1000 classes. A subnet is a stem convolution, a \
fixed first block, 5 stages of inverted-residual (MBConv) blocks and a \
classifier head. Stage output channels are ${ofaChannels(width).stages.join(", ")}; \
the first block of each stage has stride 2 except stage 4. Stages 2, 4 and 5 \
use squeeze-and-excitation, stages 3 to 5 use h-swish.

Choices:
- r: input resolution, 160 to 224 in steps of 4;
- d: 5 stage depths, each 2, 3 or 4 blocks;
- ks: 20 kernel sizes (3, 5 or 7), 4 slots per stage in stage order;
- e: 20 expand ratios (3, 4 or 6), same slots.
Slot i belongs to stage floor(i/4) + 1 and is used only when i % 4 < the \
stage's depth; write 0 in unused slots. Larger kernels, expand ratios, \
depths and resolutions raise accuracy and cost: FLOPs range from \
${extremeFlops(width, 0).toFixed(0)}M to ${extremeFlops(width, 2).toFixed(0)}M \
multiply-adds.${
    hasLatency ? " Latency comes from a per-layer table measured on the target device." : ""
  }`;
}

const candidateSchema = z
  .object({
    r: z.number().describe("input resolution: 160 to 224 in steps of 4"),
    d: z.array(z.number()).describe("5 stage depths, each 2, 3 or 4"),
    ks: z
      .array(z.number())
      .describe("20 kernel sizes (3, 5 or 7), 4 slots per stage; 0 in slots past the stage depth"),
    e: z
      .array(z.number())
      .describe("20 expand ratios (3, 4 or 6), 4 slots per stage; 0 in slots past the stage depth"),
  })
  .describe("One OFA MobileNetV3 subnet");

/** Options of the OFA MobileNetV3 space. */
export interface OfaMbv3Options {
  /** Width multiplier, 1.0 or 1.2 (default 1.2, the supernet of OFA's predictor). */
  width?: number;
  /** Per-layer latency table; it must match the width. */
  latencyTable?: OfaLatencyTable;
}

/** The OFA MobileNetV3 space with its predictor encoder. */
export interface OfaMbv3Space extends MacroSearchSpace<OfaArch> {
  readonly width: number;
  /** Feature encoder of OFA's accuracy predictor (128 inputs). */
  readonly predictorEncoder: {
    readonly featureCount: number;
    encode(arch: OfaArch): Float32Array;
  };
}

/**
 * Creates the OFA MobileNetV3 space.
 *
 * @throws RangeError for a width other than 1.0 or 1.2
 * @throws LatencyTableError when the latency table misses a layer the
 *   space can use at this width
 */
export function createOfaMbv3Space(options: OfaMbv3Options = {}): OfaMbv3Space {
  const width = options.width ?? 1.2;
  if (!(OFA_WIDTHS as readonly number[]).includes(width)) {
    throw new RangeError(`invalid OFA width multiplier ${width}; expected 1.0 or 1.2`);
  }
  const latencyTable = options.latencyTable;
  if (latencyTable) checkLatencyTableCoverage(latencyTable, width);
  const genes = buildGenes();
  const dimensions = [...new Set(genes.map((gene) => gene.dimension))];

  const parse = (input: unknown): ParseResult<OfaArch> => {
    const result = parseOfa(input, "space");
    if (!result.ok) return result;
    return { ok: true, arch: result.arch, repairs: result.repairs };
  };

  const structuralCost = (input: unknown): StructuralCostResult => {
    const result = parseOfa(input, "structure");
    if (!result.ok) return result;
    const cost = ofaMbv3Cost(result.arch, { width });
    if (latencyTable) {
      const lookup = lookupOfaLatency(result.arch, latencyTable, width);
      if (lookup.ok) cost.latencyMs = lookup.latencyMs;
      else result.warnings.push(`no latency: ${describeMissingLatency(lookup, latencyTable)}`);
    }
    return { ok: true, cost, repairs: result.repairs, warnings: result.warnings };
  };

  const randomSlots = (d: readonly number[], rng: Rng, choices: readonly number[]) =>
    Array.from({ length: OFA_SLOTS }, (_, slot) => (isActiveSlot(d, slot) ? rng.pick(choices) : 0));

  const mutate = (arch: OfaArch, rng: Rng): OfaArch => {
    // Only genes that change the network: resolution, depths and active slots.
    const activeSlots = Array.from({ length: OFA_SLOTS }, (_, slot) => slot).filter((slot) =>
      isActiveSlot(arch.d, slot),
    );
    const count = 1 + OFA_STAGES + 2 * activeSlots.length;
    const pick = rng.int(count);
    const other = <T>(choices: readonly T[], current: T) =>
      rng.pick(choices.filter((c) => c !== current));
    const d = [...arch.d];
    const ks = [...arch.ks];
    const e = [...arch.e];
    let r = arch.r;
    if (pick === 0) {
      r = other(OFA_RESOLUTIONS, arch.r);
    } else if (pick <= OFA_STAGES) {
      const stage = pick - 1;
      d[stage] = other(OFA_DEPTHS, arch.d[stage]);
      for (let block = arch.d[stage]; block < d[stage]; block++) {
        ks[stage * OFA_SLOTS_PER_STAGE + block] = rng.pick(OFA_KERNEL_SIZES);
        e[stage * OFA_SLOTS_PER_STAGE + block] = rng.pick(OFA_EXPAND_RATIOS);
      }
    } else {
      const index = pick - 1 - OFA_STAGES;
      const slot = activeSlots[index % activeSlots.length];
      if (index < activeSlots.length) ks[slot] = other(OFA_KERNEL_SIZES, arch.ks[slot]);
      else e[slot] = other(OFA_EXPAND_RATIOS, arch.e[slot]);
    }
    return canonical(r, d, ks, e);
  };

  const crossover = (a: OfaArch, b: OfaArch, rng: Rng): OfaArch => {
    const r = rng.next() < 0.5 ? a.r : b.r;
    const d = a.d.map((depth, stage) => (rng.next() < 0.5 ? depth : b.d[stage]));
    const ks: number[] = [];
    const e: number[] = [];
    for (let slot = 0; slot < OFA_SLOTS; slot++) {
      if (!isActiveSlot(d, slot)) {
        ks.push(0);
        e.push(0);
        continue;
      }
      // Take the slot from a random parent that uses it. The parent whose
      // depth the child inherited always does.
      const donors = [a, b].filter((parent) => isActiveSlot(parent.d, slot));
      const donor = donors[rng.int(donors.length)];
      ks.push(donor.ks[slot]);
      e.push(donor.e[slot]);
    }
    return canonical(r, d, ks, e);
  };

  const decode = (values: readonly (string | number)[]): OfaArch => {
    if (values.length !== genes.length) {
      throw new RangeError(`expected ${genes.length} gene values, got ${values.length}`);
    }
    const numbers = values.map((value, i) => {
      const number = Number(value);
      if (!(genes[i].choices as readonly (string | number)[]).includes(number)) {
        throw new RangeError(
          `invalid value ${value} for gene "${genes[i].name}"; ` +
            `expected one of ${genes[i].choices.join(", ")}`,
        );
      }
      return number;
    });
    const d = numbers.slice(1, 1 + OFA_STAGES);
    const ks = numbers.slice(1 + OFA_STAGES, 1 + OFA_STAGES + OFA_SLOTS);
    const e = numbers.slice(1 + OFA_STAGES + OFA_SLOTS);
    return canonical(numbers[0], d, ks, e);
  };

  return {
    name: "ofa-mbv3",
    description: describeSpace(width, latencyTable !== undefined),
    dimensions,
    genes,
    candidateSchema,
    prior: buildPrior(genes),
    candidateExample:
      '{"r": 208, "d": [2, 3, 4, 3, 4], ' +
      '"ks": [3, 5, 0, 0, 5, 5, 3, 0, 7, 5, 5, 3, 5, 3, 3, 0, 3, 5, 7, 5], ' +
      '"e": [4, 3, 0, 0, 4, 6, 3, 0, 6, 4, 4, 3, 6, 4, 6, 0, 6, 6, 4, 3]}',
    width,
    parse,
    structuralCost,
    key: formatOfaArch,
    format: formatOfaArch,
    toJSON: (arch) => ({ r: arch.r, d: [...arch.d], ks: [...arch.ks], e: [...arch.e] }),
    // Inactive slots encode as the first choice; decode sets them back to 0.
    encode: (arch) => [
      arch.r,
      ...arch.d,
      ...arch.ks.map((value) => value || OFA_KERNEL_SIZES[0]),
      ...arch.e.map((value) => value || OFA_EXPAND_RATIOS[0]),
    ],
    decode,
    // Uniform per gene: a depth first, then a choice for each active slot,
    // as OFA's `sample_active_subnet` does.
    sample: (rng) => {
      const d = Array.from({ length: OFA_STAGES }, () => rng.pick(OFA_DEPTHS));
      return canonical(
        rng.pick(OFA_RESOLUTIONS),
        d,
        randomSlots(d, rng, OFA_KERNEL_SIZES),
        randomSlots(d, rng, OFA_EXPAND_RATIOS),
      );
    },
    mutate,
    crossover,
    cost: (arch) => ofaMbv3Cost(arch, { width, latencyTable }),
    predictorEncoder: {
      featureCount: OFA_PREDICTOR_FEATURE_COUNT,
      encode: encodeOfaPredictorFeatures,
    },
  };
}
