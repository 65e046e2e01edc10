import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { Rng } from "../util/random.ts";
import type { MacroSearchSpace, StructuralCostResult } from "./cost.ts";
import type { Cost, Gene, ParseResult } from "./types.ts";

/**
 * AutoFormer vision-transformer search spaces: Chen et al., "AutoFormer:
 * Searching Transformers for Visual Recognition", ICCV 2021. The network
 * follows `Vision_TransformerSuper` in github.com/microsoft/Cream
 * (AutoFormer): 16x16 patches of a 224x224 input, a class token, pre-norm
 * encoder layers with 64 query, key and value dimensions per head, and a
 * linear classifier for 1000 classes.
 */

const IMAGE_SIDE = 224;
const PATCH = 16;
const PATCHES = (IMAGE_SIDE / PATCH) ** 2;
const TOKENS = PATCHES + 1;
const HEAD_DIM = 64;
const CLASSES = 1000;
/** Clip distance of AutoFormer's 2-D relative position tables (`max_relative_position`). */
const MAX_RELATIVE_POSITION = 14;

/** Supernet maxima and choice lists of one AutoFormer space. */
export interface AutoFormerConfig {
  /** Largest values the supernet has weights for. */
  supernet: { mlpRatio: number; numHeads: number; embedDim: number; depth: number };
  /** Choice lists of the search. */
  searchSpace: {
    mlpRatio: number[];
    numHeads: number[];
    depth: number[];
    embedDim: number[];
  };
  /**
   * The subnet of a RETRAIN section in the JSON form, where the file has
   * one. Its values are not checked here, so pass it to the space's `parse`
   * or to `costOf`.
   */
  retrain?: Record<keyof AutoFormerJson, unknown>;
  /** Source of the configuration (a file path), for messages. */
  source: string;
}

/** An AutoFormer configuration file that cannot be read or is invalid. */
export class AutoFormerConfigError extends Error {
  override name = "AutoFormerConfigError";
}

/** One subnet: embedding dimension, depth, and per layer MLP ratio and heads. */
export interface AutoFormerArch {
  readonly embedDim: number;
  readonly depth: number;
  /** MLP ratio of each layer; `depth` entries. */
  readonly mlpRatio: readonly number[];
  /** Number of attention heads of each layer; `depth` entries. */
  readonly numHeads: readonly number[];
}

/** JSON form of a subnet, as results store it and the Generator writes it. */
export interface AutoFormerJson {
  embed_dim: number;
  depth: number;
  mlp_ratio: number[];
  num_heads: number[];
}

// ---------------------------------------------------------------------------
// Configuration files

interface YamlLine {
  indent: number;
  text: string;
  /** 1-based line number in the file. */
  number: number;
}

/** Reads a scalar: a number, a boolean, null, a quoted string or an inline list. */
function parseYamlScalar(text: string): unknown {
  if (text.startsWith("[") && text.endsWith("]")) {
    const inner = text.slice(1, -1).trim();
    return inner === "" ? [] : inner.split(",").map((item) => parseYamlScalar(item.trim()));
  }
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "True") return true;
  if (text === "false" || text === "False") return false;
  if (text === "null" || text === "~") return null;
  const quoted = /^(["'])(.*)\1$/.exec(text);
  return quoted ? quoted[2] : text;
}

/**
 * Parses the block of lines at one indentation, starting at `start`: a
 * list of `- value` items or a map of `key: value` entries.
 */
function parseYamlBlock(
  lines: YamlLine[],
  start: number,
  source: string,
): { value: unknown; next: number } {
  const indent = lines[start].indent;
  const fail = (line: YamlLine, message: string) =>
    new AutoFormerConfigError(`${source} line ${line.number}: ${message}`);

  if (lines[start].text.startsWith("-")) {
    const items: unknown[] = [];
    let i = start;
    while (i < lines.length && lines[i].indent === indent && lines[i].text.startsWith("-")) {
      const item = lines[i].text.slice(1).trim();
      if (item === "")
        throw fail(lines[i], "nested lists are not supported; write the value after '-'");
      items.push(parseYamlScalar(item));
      i++;
    }
    if (i < lines.length && lines[i].indent > indent)
      throw fail(lines[i], "unexpected indentation");
    return { value: items, next: i };
  }

  const map: Record<string, unknown> = {};
  let i = start;
  while (i < lines.length && lines[i].indent === indent) {
    const line = lines[i];
    const match = /^([^:]+?)\s*:(?:\s+(.*))?$/.exec(line.text);
    if (!match) throw fail(line, `expected "key: value", got "${line.text}"`);
    const [, key, rest] = match;
    if (rest !== undefined && rest.trim() !== "") {
      map[key] = parseYamlScalar(rest.trim());
      i++;
      continue;
    }
    const child = lines[i + 1];
    const nested =
      child !== undefined &&
      (child.indent > indent || (child.indent === indent && child.text.startsWith("-")));
    if (!nested) {
      map[key] = null;
      i++;
      continue;
    }
    const block = parseYamlBlock(lines, i + 1, source);
    map[key] = block.value;
    i = block.next;
  }
  if (i < lines.length && lines[i].indent > indent) throw fail(lines[i], "unexpected indentation");
  return { value: map, next: i };
}

/**
 * Parses the YAML subset that AutoFormer's configuration files use: nested
 * maps by indentation, `- value` lists, inline `[a, b]` lists, numbers and
 * `#` comments. Anchors, multi-line strings and flow maps are not
 * supported.
 *
 * @throws AutoFormerConfigError naming the line that does not parse
 */
export function parseSimpleYaml(text: string, source = "YAML"): unknown {
  const lines: YamlLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const withoutComment = raw.replace(/(^|\s)#.*$/, "");
    if (withoutComment.trim() === "") return;
    if (/^\s*\t/.test(withoutComment)) {
      throw new AutoFormerConfigError(
        `${source} line ${index + 1}: tabs are not allowed for indentation`,
      );
    }
    const indent = withoutComment.length - withoutComment.trimStart().length;
    lines.push({ indent, text: withoutComment.trim(), number: index + 1 });
  });
  if (lines.length === 0) return null;
  const { value, next } = parseYamlBlock(lines, 0, source);
  if (next < lines.length) {
    throw new AutoFormerConfigError(`${source} line ${lines[next].number}: unexpected indentation`);
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requirePositive(value: unknown, path: string, source: string, integer: boolean): number {
  const valid =
    typeof value === "number" &&
    Number.isFinite(value) &&
    value > 0 &&
    (!integer || Number.isInteger(value));
  if (!valid) {
    const kind = integer ? "a positive integer" : "a positive number";
    throw new AutoFormerConfigError(
      `${source}: ${path} is ${JSON.stringify(value)}; expected ${kind}`,
    );
  }
  return value as number;
}

function requireList(value: unknown, path: string, source: string, integer: boolean): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new AutoFormerConfigError(
      `${source}: ${path} is ${JSON.stringify(value)}; expected a non-empty list`,
    );
  }
  const numbers = value.map((item, i) => requirePositive(item, `${path}[${i}]`, source, integer));
  return [...new Set(numbers)].sort((a, b) => a - b);
}

/**
 * Builds an AutoFormer configuration from a parsed YAML document with
 * `SUPERNET: {MLP_RATIO, NUM_HEADS, EMBED_DIM, DEPTH}` and `SEARCH_SPACE`
 * lists of the same keys. An optional `RETRAIN` section (a subnet) is kept.
 *
 * @throws AutoFormerConfigError naming the missing or invalid key, or a
 *   choice above the supernet maximum
 */
export function autoFormerConfigFromObject(
  data: unknown,
  source = "AutoFormer config",
): AutoFormerConfig {
  if (!isRecord(data) || !isRecord(data.SUPERNET) || !isRecord(data.SEARCH_SPACE)) {
    throw new AutoFormerConfigError(
      `${source}: expected top-level SUPERNET and SEARCH_SPACE sections, ` +
        `each with MLP_RATIO, NUM_HEADS, EMBED_DIM and DEPTH`,
    );
  }
  const supernet = data.SUPERNET;
  const space = data.SEARCH_SPACE;
  const config: AutoFormerConfig = {
    supernet: {
      mlpRatio: requirePositive(supernet.MLP_RATIO, "SUPERNET.MLP_RATIO", source, false),
      numHeads: requirePositive(supernet.NUM_HEADS, "SUPERNET.NUM_HEADS", source, true),
      embedDim: requirePositive(supernet.EMBED_DIM, "SUPERNET.EMBED_DIM", source, true),
      depth: requirePositive(supernet.DEPTH, "SUPERNET.DEPTH", source, true),
    },
    searchSpace: {
      mlpRatio: requireList(space.MLP_RATIO, "SEARCH_SPACE.MLP_RATIO", source, false),
      numHeads: requireList(space.NUM_HEADS, "SEARCH_SPACE.NUM_HEADS", source, true),
      depth: requireList(space.DEPTH, "SEARCH_SPACE.DEPTH", source, true),
      embedDim: requireList(space.EMBED_DIM, "SEARCH_SPACE.EMBED_DIM", source, true),
    },
    source,
  };
  const checks: [keyof AutoFormerConfig["supernet"], string][] = [
    ["mlpRatio", "MLP_RATIO"],
    ["numHeads", "NUM_HEADS"],
    ["embedDim", "EMBED_DIM"],
    ["depth", "DEPTH"],
  ];
  for (const [field, key] of checks) {
    const largest = Math.max(...config.searchSpace[field]);
    if (largest > config.supernet[field]) {
      throw new AutoFormerConfigError(
        `${source}: SEARCH_SPACE.${key} contains ${largest}, ` +
          `more than SUPERNET.${key} = ${config.supernet[field]}`,
      );
    }
  }
  if (isRecord(data.RETRAIN)) {
    const retrain = data.RETRAIN;
    config.retrain = {
      embed_dim: retrain.EMBED_DIM,
      depth: retrain.DEPTH,
      mlp_ratio: retrain.MLP_RATIO,
      num_heads: retrain.NUM_HEADS,
    };
  }
  return config;
}

/** Parses the text of an AutoFormer YAML configuration (see `autoFormerConfigFromObject`). */
export function parseAutoFormerConfig(
  text: string,
  source = "AutoFormer config",
): AutoFormerConfig {
  return autoFormerConfigFromObject(parseSimpleYaml(text, source), source);
}

/**
 * Reads an AutoFormer YAML configuration such as AutoFormer's
 * `experiments/supernet/supernet-T.yaml`.
 *
 * @throws AutoFormerConfigError when the file is missing or invalid
 */
export async function loadAutoFormerConfig(path: string): Promise<AutoFormerConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new AutoFormerConfigError(
      `cannot read AutoFormer config ${path}: ${(error as Error).message}`,
    );
  }
  return parseAutoFormerConfig(text, `AutoFormer config ${path}`);
}

// ---------------------------------------------------------------------------
// Cost model

/** Options of the AutoFormer cost model. */
export interface AutoFormerCostOptions {
  /**
   * Count the relative position tables that AutoFormer's released models
   * use (`--relative_position`): 7,680 parameters per layer, no FLOPs
   * (default true).
   */
  relativePosition?: boolean;
}

/**
 * Computes multiply-adds and parameters of an AutoFormer subnet.
 *
 * Parameters follow AutoFormer's `get_sampled_params_numel`. They are the
 * patch embedding, class token and position embedding, then per layer the
 * qkv projection (with bias, 64 dimensions per head), output projection,
 * two layer norms, MLP and relative position tables, and finally the last
 * norm and the classifier.
 *
 * FLOPs are multiply-adds of the patch embedding, of every linear layer on
 * the 197 tokens, of the two attention products (QK^T and attention times
 * V) and of the classifier on the class token. Layer norms, softmax, GELU,
 * bias additions and the relative position terms are not counted.
 */
export function autoFormerCost(arch: AutoFormerArch, options: AutoFormerCostOptions = {}): Cost {
  const relativePosition = options.relativePosition ?? true;
  const embed = arch.embedDim;
  const patchWeights = 3 * PATCH * PATCH * embed;
  let params = patchWeights + embed + embed * (PATCHES + 2);
  let flops = PATCHES * patchWeights;
  for (let layer = 0; layer < arch.depth; layer++) {
    const qkvDim = arch.numHeads[layer] * HEAD_DIM;
    const hidden = Math.floor(embed * arch.mlpRatio[layer]);
    params += embed * 3 * qkvDim + 3 * qkvDim;
    params += qkvDim * embed + embed;
    params += 4 * embed;
    params += embed * hidden + hidden + hidden * embed + embed;
    if (relativePosition) {
      // Tables for keys and values, each a vertical and a horizontal table
      // of (2 * 14 + 2) rows of one head's width.
      params += 4 * (2 * MAX_RELATIVE_POSITION + 2) * HEAD_DIM;
    }
    flops += TOKENS * embed * 3 * qkvDim;
    flops += 2 * TOKENS * TOKENS * qkvDim;
    flops += TOKENS * qkvDim * embed;
    flops += 2 * TOKENS * embed * hidden;
  }
  params += 2 * embed + embed * CLASSES + CLASSES;
  flops += embed * CLASSES;
  return { flopsM: flops / 1e6, paramsM: params / 1e6 };
}

// ---------------------------------------------------------------------------
// Parsing

type ParseMode = "space" | "structure";

type AutoFormerParse =
  | { ok: true; arch: AutoFormerArch; repairs: string[]; warnings: string[] }
  | { ok: false; reason: string };

type FieldName = "embed_dim" | "depth" | "mlp_ratio" | "num_heads";

const FIELD_ALIASES: Record<FieldName, readonly string[]> = {
  embed_dim: ["embed_dim", "embedDim", "EMBED_DIM", "embedding_dim", "E"],
  depth: ["depth", "DEPTH", "layer_num", "num_layers", "D"],
  mlp_ratio: ["mlp_ratio", "mlpRatio", "MLP_RATIO", "mlp_ratios"],
  num_heads: ["num_heads", "numHeads", "NUM_HEADS", "heads"],
};

const EXPECTED_FORM =
  'expected {"embed_dim": E, "depth": D, "mlp_ratio": [D numbers], "num_heads": [D integers]}';

function preview(value: unknown, max = 80): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

function readNumber(value: unknown, label: string, repairs: string[]): number | { error: string } {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
    repairs.push(`${label}: string "${value}" read as the number ${Number(value)}`);
    return Number(value);
  }
  return { error: `${label} is ${preview(value)}; expected a number` };
}

function includesValue(choices: readonly number[], value: number): boolean {
  return choices.some((choice) => Math.abs(choice - value) < 1e-9);
}

/** Parses the compact form of `format`: `E=192 D=13 mlp=[...] heads=[...]`. */
function parseFormatString(text: string): Record<string, unknown> | undefined {
  const scalar = (name: string) =>
    new RegExp(`\\b${name}\\s*[=:]\\s*(\\d+(?:\\.\\d+)?)`).exec(text)?.[1];
  const list = (name: string) =>
    new RegExp(`\\b${name}\\s*[=:]\\s*\\[([^\\]]*)\\]`)
      .exec(text)?.[1]
      .split(/[\s,]+/)
      .filter((token) => token !== "")
      .map((token) => (Number.isFinite(Number(token)) ? Number(token) : token));
  const embed = scalar("E");
  const depth = scalar("D");
  const mlp = list("mlp");
  const heads = list("heads");
  if (embed === undefined || depth === undefined || !mlp || !heads) return undefined;
  return { embed_dim: Number(embed), depth: Number(depth), mlp_ratio: mlp, num_heads: heads };
}

/** Describes how a value relates to the choice list and the supernet maximum. */
function checkChoice(
  value: number,
  label: string,
  choices: readonly number[],
  maximum: number,
  mode: ParseMode,
  warnings: string[],
): string | undefined {
  if (includesValue(choices, value)) return undefined;
  if (mode === "space") return `${label} is ${value}; expected one of ${choices.join(", ")}`;
  const beyond = value > maximum + 1e-9 ? `, above the supernet maximum ${maximum}` : "";
  warnings.push(`${label} is ${value}, outside the space's choices ${choices.join(", ")}${beyond}`);
  return undefined;
}

/** Reads a per-layer list: broadcasts a single value and truncates extra entries. */
function readLayerList(
  raw: unknown,
  field: "mlp_ratio" | "num_heads",
  depth: number,
  repairs: string[],
): unknown[] | { error: string } {
  if (!Array.isArray(raw)) {
    if (typeof raw === "number" || typeof raw === "string") {
      repairs.push(`${field}=${raw} applied to all ${depth} layers`);
      return new Array(depth).fill(raw);
    }
    return {
      error: `${field} is ${preview(raw)}; expected a list of ${depth} values, one per layer`,
    };
  }
  if (raw.length > depth) {
    repairs.push(`${field} has ${raw.length} entries for depth ${depth}; kept the first ${depth}`);
    return raw.slice(0, depth);
  }
  if (raw.length < depth) {
    return {
      error: `${field} has ${raw.length} entries; expected ${depth}, one per layer`,
    };
  }
  return raw;
}

function parseAutoFormer(
  input: unknown,
  config: AutoFormerConfig,
  mode: ParseMode,
): AutoFormerParse {
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
          reason: `invalid architecture string "${preview(text)}"; ${EXPECTED_FORM}`,
        };
      }
    }
  }
  if (isRecord(value) && Object.keys(value).length === 1 && "arch" in value) {
    return parseAutoFormer(value.arch, config, mode);
  }
  if (!isRecord(value)) {
    return { ok: false, reason: `invalid architecture ${preview(value)}; ${EXPECTED_FORM}` };
  }

  const fields: Partial<Record<FieldName, unknown>> = {};
  const used = new Set<string>();
  for (const field of Object.keys(FIELD_ALIASES) as FieldName[]) {
    const alias = FIELD_ALIASES[field].find((name) => name in value);
    if (alias === undefined) continue;
    if (alias !== field) repairs.push(`field "${alias}" read as ${field}`);
    fields[field] = value[alias];
    used.add(alias);
  }
  for (const name of Object.keys(value)) {
    if (!used.has(name)) repairs.push(`ignored unknown field "${name}"`);
  }
  for (const field of ["embed_dim", "mlp_ratio", "num_heads"] as const) {
    if (fields[field] === undefined)
      return { ok: false, reason: `missing field "${field}"; ${EXPECTED_FORM}` };
  }

  const { searchSpace, supernet } = config;
  const embed = readNumber(fields.embed_dim, "embed_dim", repairs);
  if (typeof embed !== "number") return { ok: false, reason: embed.error };
  if (!Number.isInteger(embed) || embed < 1) {
    return { ok: false, reason: `embed_dim is ${embed}; expected a positive integer` };
  }
  const embedError = checkChoice(
    embed,
    "embed_dim",
    searchSpace.embedDim,
    supernet.embedDim,
    mode,
    warnings,
  );
  if (embedError) return { ok: false, reason: embedError };

  let depthValue: unknown = fields.depth;
  if (depthValue === undefined) {
    const lengths = [fields.mlp_ratio, fields.num_heads]
      .filter(Array.isArray)
      .map((list) => list.length);
    if (lengths.length === 0 || lengths.some((length) => length !== lengths[0])) {
      return { ok: false, reason: `missing field "depth"; ${EXPECTED_FORM}` };
    }
    repairs.push(`depth missing; set to ${lengths[0]}, the length of the per-layer lists`);
    depthValue = lengths[0];
  }
  const depth = readNumber(depthValue, "depth", repairs);
  if (typeof depth !== "number") return { ok: false, reason: depth.error };
  if (!Number.isInteger(depth) || depth < 1) {
    return { ok: false, reason: `depth is ${depth}; expected a positive integer` };
  }
  const depthError = checkChoice(depth, "depth", searchSpace.depth, supernet.depth, mode, warnings);
  if (depthError) return { ok: false, reason: depthError };

  const mlpItems = readLayerList(fields.mlp_ratio, "mlp_ratio", depth, repairs);
  if (!Array.isArray(mlpItems)) return { ok: false, reason: mlpItems.error };
  const headItems = readLayerList(fields.num_heads, "num_heads", depth, repairs);
  if (!Array.isArray(headItems)) return { ok: false, reason: headItems.error };

  const mlpRatio: number[] = [];
  const numHeads: number[] = [];
  for (let layer = 0; layer < depth; layer++) {
    const ratio = readNumber(mlpItems[layer], `mlp_ratio[${layer}]`, repairs);
    if (typeof ratio !== "number") return { ok: false, reason: ratio.error };
    if (Math.floor(embed * ratio) < 1) {
      return {
        ok: false,
        reason: `mlp_ratio[${layer}] is ${ratio}; the MLP needs at least one hidden unit`,
      };
    }
    const ratioError = checkChoice(
      ratio,
      `mlp_ratio[${layer}]`,
      searchSpace.mlpRatio,
      supernet.mlpRatio,
      mode,
      warnings,
    );
    if (ratioError) return { ok: false, reason: ratioError };
    const heads = readNumber(headItems[layer], `num_heads[${layer}]`, repairs);
    if (typeof heads !== "number") return { ok: false, reason: heads.error };
    if (!Number.isInteger(heads) || heads < 1) {
      return { ok: false, reason: `num_heads[${layer}] is ${heads}; expected a positive integer` };
    }
    const headsError = checkChoice(
      heads,
      `num_heads[${layer}]`,
      searchSpace.numHeads,
      supernet.numHeads,
      mode,
      warnings,
    );
    if (headsError) return { ok: false, reason: headsError };
    mlpRatio.push(ratio);
    numHeads.push(heads);
  }
  return { ok: true, arch: { embedDim: embed, depth, mlpRatio, numHeads }, repairs, warnings };
}

// ---------------------------------------------------------------------------
// The space

/** Formats a subnet as `E=192 D=13 mlp=[...] heads=[...]`. */
export function formatAutoFormerArch(arch: AutoFormerArch): string {
  const mlp = arch.mlpRatio.join(",");
  const heads = arch.numHeads.join(",");
  return `E=${arch.embedDim} D=${arch.depth} mlp=[${mlp}] heads=[${heads}]`;
}

/** Converts a subnet to its JSON form. */
export function autoFormerToJSON(arch: AutoFormerArch): AutoFormerJson {
  return {
    embed_dim: arch.embedDim,
    depth: arch.depth,
    mlp_ratio: [...arch.mlpRatio],
    num_heads: [...arch.numHeads],
  };
}

const candidateSchema = z
  .object({
    embed_dim: z.number().describe("embedding dimension, one of the space's choices"),
    depth: z.number().describe("number of encoder layers, one of the space's choices"),
    mlp_ratio: z.array(z.number()).describe("MLP ratio of each layer, exactly depth entries"),
    num_heads: z.array(z.number()).describe("attention heads of each layer, exactly depth entries"),
  })
  .describe("One AutoFormer subnet");

function describeSpace(
  name: string,
  config: AutoFormerConfig,
  smallest: Cost,
  largest: Cost,
): string {
  const { searchSpace } = config;
  const range = (cost: Cost) =>
    `${cost.flopsM?.toFixed(0)}M FLOPs, ${cost.paramsM?.toFixed(1)}M parameters`;
  return `The ${name} space of AutoFormer vision transformers for ImageNet \
classification (224x224 input, 16x16 patches, 1000 classes). A subnet is a \
patch embedding, a stack of pre-norm transformer encoder layers and a linear \
classifier on the class token. Each attention head has 64 query, key and \
value dimensions, so a layer's attention width is 64 times its heads.

Choices:
- embed_dim (all layers): ${searchSpace.embedDim.join(", ")};
- depth: ${searchSpace.depth.join(", ")};
- mlp_ratio of each layer: ${searchSpace.mlpRatio.join(", ")} (MLP hidden size = embed_dim x ratio);
- num_heads of each layer: ${searchSpace.numHeads.join(", ")}.
The per-layer lists have exactly depth entries. Cost grows with all four \
choices: from ${range(smallest)} for the smallest subnet to ${range(largest)} \
for the largest. AutoFormer searches under parameter windows.`;
}

/** Options of an AutoFormer space. */
export interface AutoFormerSpaceOptions extends AutoFormerCostOptions {
  /** Registry name, e.g. "autoformer-t" (default "autoformer"). */
  name?: string;
}

/**
 * Creates an AutoFormer space from a supernet configuration.
 *
 * @param config choice lists and supernet maxima, e.g. from `loadAutoFormerConfig`
 */
export function createAutoFormerSpace(
  config: AutoFormerConfig,
  options: AutoFormerSpaceOptions = {},
): MacroSearchSpace<AutoFormerArch> {
  const name = options.name ?? "autoformer";
  const costOptions = { relativePosition: options.relativePosition };
  const { searchSpace } = config;
  const maxDepth = Math.max(...searchSpace.depth);

  const genes: Gene[] = [
    { name: "embed dim", dimension: "embed dim", choices: searchSpace.embedDim },
    { name: "depth", dimension: "depth", choices: searchSpace.depth },
  ];
  for (let layer = 1; layer <= maxDepth; layer++) {
    genes.push({
      name: `layer ${layer} mlp ratio`,
      dimension: "mlp ratio",
      choices: searchSpace.mlpRatio,
    });
  }
  for (let layer = 1; layer <= maxDepth; layer++) {
    genes.push({
      name: `layer ${layer} heads`,
      dimension: "num heads",
      choices: searchSpace.numHeads,
    });
  }
  const dimensions = [...new Set(genes.map((gene) => gene.dimension))];

  const parse = (input: unknown): ParseResult<AutoFormerArch> => {
    const result = parseAutoFormer(input, config, "space");
    if (!result.ok) return result;
    return { ok: true, arch: result.arch, repairs: result.repairs };
  };

  const structuralCost = (input: unknown): StructuralCostResult => {
    const result = parseAutoFormer(input, config, "structure");
    if (!result.ok) return result;
    const cost = autoFormerCost(result.arch, costOptions);
    return { ok: true, cost, repairs: result.repairs, warnings: result.warnings };
  };

  const uniform = (depth: number, rng: Rng) => ({
    mlpRatio: Array.from({ length: depth }, () => rng.pick(searchSpace.mlpRatio)),
    numHeads: Array.from({ length: depth }, () => rng.pick(searchSpace.numHeads)),
  });

  const mutate = (arch: AutoFormerArch, rng: Rng): AutoFormerArch => {
    const other = <T>(choices: readonly T[], current: T) =>
      rng.pick(choices.filter((choice) => choice !== current));

    // Draw among the genes that have another value: embed dim, depth, then
    // each layer's MLP ratio and heads.
    const options: number[] = [];
    if (searchSpace.embedDim.length > 1) options.push(0);
    if (searchSpace.depth.length > 1) options.push(1);
    for (let layer = 0; layer < arch.depth; layer++) {
      if (searchSpace.mlpRatio.length > 1) options.push(2 + layer);
      if (searchSpace.numHeads.length > 1) options.push(2 + arch.depth + layer);
    }
    if (options.length === 0) return arch;

    const pick = rng.pick(options);
    const mlpRatio = [...arch.mlpRatio];
    const numHeads = [...arch.numHeads];
    if (pick === 0) {
      return { ...arch, embedDim: other(searchSpace.embedDim, arch.embedDim) };
    }

    if (pick === 1) {
      const depth = other(searchSpace.depth, arch.depth);
      const extra = uniform(Math.max(0, depth - arch.depth), rng);
      return {
        embedDim: arch.embedDim,
        depth,
        mlpRatio: [...mlpRatio, ...extra.mlpRatio].slice(0, depth),
        numHeads: [...numHeads, ...extra.numHeads].slice(0, depth),
      };
    }

    const index = pick - 2;
    if (index < arch.depth) {
      mlpRatio[index] = other(searchSpace.mlpRatio, mlpRatio[index]);
    } else {
      const layer = index - arch.depth;
      numHeads[layer] = other(searchSpace.numHeads, numHeads[layer]);
    }
    return { ...arch, mlpRatio, numHeads };
  };

  const crossover = (a: AutoFormerArch, b: AutoFormerArch, rng: Rng): AutoFormerArch => {
    const embedDim = rng.next() < 0.5 ? a.embedDim : b.embedDim;
    const depth = rng.next() < 0.5 ? a.depth : b.depth;
    const mlpRatio: number[] = [];
    const numHeads: number[] = [];
    for (let layer = 0; layer < depth; layer++) {
      // Take the layer from a random parent that has it. The parent whose
      // depth the child inherited always does.
      const donors = [a, b].filter((parent) => parent.depth > layer);
      const donor = donors[rng.int(donors.length)];
      mlpRatio.push(donor.mlpRatio[layer]);
      numHeads.push(donor.numHeads[layer]);
    }
    return { embedDim, depth, mlpRatio, numHeads };
  };

  const decode = (values: readonly (string | number)[]): AutoFormerArch => {
    if (values.length !== genes.length) {
      throw new RangeError(`expected ${genes.length} gene values, got ${values.length}`);
    }
    const numbers = values.map((value, i) => {
      const number = Number(value);
      if (!includesValue(genes[i].choices as number[], number)) {
        throw new RangeError(
          `invalid value ${value} for gene "${genes[i].name}"; ` +
            `expected one of ${genes[i].choices.join(", ")}`,
        );
      }
      return number;
    });
    const depth = numbers[1];
    return {
      embedDim: numbers[0],
      depth,
      mlpRatio: numbers.slice(2, 2 + depth),
      numHeads: numbers.slice(2 + maxDepth, 2 + maxDepth + depth),
    };
  };

  const extreme = (pickValue: (choices: number[]) => number): AutoFormerArch => {
    const depth = pickValue(searchSpace.depth);
    return {
      embedDim: pickValue(searchSpace.embedDim),
      depth,
      mlpRatio: new Array(depth).fill(pickValue(searchSpace.mlpRatio)),
      numHeads: new Array(depth).fill(pickValue(searchSpace.numHeads)),
    };
  };
  const smallest = autoFormerCost(
    extreme((choices) => Math.min(...choices)),
    costOptions,
  );
  const largest = autoFormerCost(
    extreme((choices) => Math.max(...choices)),
    costOptions,
  );
  const example = extreme((choices) => choices[Math.floor(choices.length / 2)]);

  return {
    name,
    description: describeSpace(name, config, smallest, largest),
    dimensions,
    genes,
    candidateSchema,
    candidateExample: JSON.stringify(autoFormerToJSON(example)),
    parse,
    structuralCost,
    key: formatAutoFormerArch,
    format: formatAutoFormerArch,
    toJSON: autoFormerToJSON,
    // Layers past the depth encode as the first choice; decode drops them.
    encode: (arch) => [
      arch.embedDim,
      arch.depth,
      ...Array.from({ length: maxDepth }, (_, i) => arch.mlpRatio[i] ?? searchSpace.mlpRatio[0]),
      ...Array.from({ length: maxDepth }, (_, i) => arch.numHeads[i] ?? searchSpace.numHeads[0]),
    ],
    decode,
    sample: (rng) => {
      const depth = rng.pick(searchSpace.depth);
      return { embedDim: rng.pick(searchSpace.embedDim), depth, ...uniform(depth, rng) };
    },
    mutate,
    crossover,
    cost: (arch) => autoFormerCost(arch, costOptions),
  };
}
