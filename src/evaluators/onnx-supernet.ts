import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import { z } from "zod";
import {
  createNb201Space,
  NB201_EDGES,
  NB201_OPS,
  type Nb201Network,
} from "../spaces/nb201.ts";
import { EvaluatorInputError } from "./errors.ts";
import { readNpy, type NpyArray } from "./npy.ts";
import type {
  EvaluationRequest,
  EvaluationResult,
  Evaluator,
} from "./types.ts";

/** A model whose inputs or outputs do not match the supernet contract. */
export class ContractError extends EvaluatorInputError {
  override name = "ContractError";
}

/** A data or meta file with the wrong shape, type, count or labels. */
export class DataFileError extends EvaluatorInputError {
  override name = "DataFileError";
}

/** An execution provider that was requested explicitly but cannot run. */
export class ProviderError extends EvaluatorInputError {
  override name = "ProviderError";
}

/** Execution provider choice. `auto` tries CUDA, then WebGPU, then CPU. */
export type Device = "auto" | "cpu" | "cuda" | "webgpu";

/** Named subsets of the bundled data, defined in `meta.json`. */
export type Split = "search" | "val" | "test";

/** Record of the execution provider choice, for logs and results. */
export interface ProviderReport {
  requested: Device;
  /** Provider the session runs on. */
  provider: "cpu" | "cuda" | "webgpu";
  /** One entry per provider tried or skipped, in order. */
  attempts: { provider: string; ok: boolean; reason: string }[];
}

export interface OnnxSupernetOptions {
  /** ONNX file with inputs `images` and `arch` and output `logits`. */
  modelPath: string;
  /** Folder with `meta.json` and the `.npy` or `.npy.gz` files it names. */
  dataDir: string;
  /** Execution provider (default `auto`). */
  device?: Device;
  /** Intra-op threads of the CPU provider (default: onnxruntime's choice). */
  threads?: number;
  /**
   * Lets idle intra-op threads spin between operations (default false).
   * Measured on a 2-core VM with onnxruntime-node 1.31.1 and the bundled
   * supernet: spinning made a pass about 15% faster on an idle machine and
   * about 1.5 times slower while other processes used the cores.
   */
  spinning?: boolean;
  /**
   * Images per run. Defaults to `batchSize` in `meta.json`. A model that
   * normalizes with batch statistics accepts only that value.
   */
  batchSize?: number;
  /** Data subset to score on (default `search`). */
  split?: Split;
}

const splitSchema = z.object({
  images: z.string(),
  labels: z.string(),
  count: z.number().int().positive(),
});

/** `meta.json`: the parts of the supernet contract the evaluator reads. */
const metaSchema = z.object({
  space: z.literal("nb201"),
  normalization: z.enum(["batch-statistics", "per-sample"]),
  batchSize: z.number().int().positive(),
  pixelMean: z.number(),
  pixelStd: z.number().positive(),
  classNames: z.array(z.string()).min(2),
  splits: z.object({
    search: splitSchema,
    val: splitSchema,
    test: splitSchema,
  }),
  /** Size of the network, for the cost model; absent for models that omit it. */
  network: z
    .object({
      channels: z.number().int().positive(),
      cellsPerStage: z.number().int().positive(),
    })
    .optional(),
});

export type SupernetMeta = z.infer<typeof metaSchema>;

const IMAGE_SIDE = 28;
const IMAGE_SIZE = IMAGE_SIDE * IMAGE_SIDE;
const ARCH_LENGTH = NB201_EDGES.length;

/**
 * Converts a request's architecture to six NAS-Bench-201 operation indices
 * in edge order (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2). Accepts an
 * array of six indices 0-4, six operation names, or the cell string.
 *
 * @returns the indices, or a reason string when the input is invalid
 */
export function nb201ArchToIndices(arch: unknown): number[] | string {
  if (typeof arch === "string") {
    // The cell string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|, the space's JSON form.
    const parsed = createNb201Space().parse(arch);
    if (!parsed.ok) return parsed.reason;
    return parsed.arch.map((op) => NB201_OPS.indexOf(op));
  }
  if (!Array.isArray(arch)) {
    return `invalid architecture ${JSON.stringify(arch)}; expected a cell string or an array of 6 operation names or indices`;
  }
  if (arch.length !== ARCH_LENGTH) {
    return `architecture has ${arch.length} operations; expected ${ARCH_LENGTH}`;
  }
  const indices: number[] = [];
  for (const [edge, op] of arch.entries()) {
    if (
      typeof op === "number" &&
      Number.isInteger(op) &&
      op >= 0 &&
      op < NB201_OPS.length
    ) {
      indices.push(op);
      continue;
    }
    const index =
      typeof op === "string"
        ? (NB201_OPS as readonly string[]).indexOf(op)
        : -1;
    if (index < 0) {
      return (
        `invalid operation ${JSON.stringify(op)} on edge ${edge}; expected ` +
        `an index 0-4 or one of: ${NB201_OPS.join(", ")}`
      );
    }
    indices.push(index);
  }
  return indices;
}

/**
 * A weight-sharing supernet exported to ONNX as an evaluator. One
 * onnxruntime-node session serves all candidates: each evaluation feeds the
 * same images with a different `arch` tensor, and the model's `If` nodes
 * run only the chosen operations.
 *
 * The contract (input names, shapes, normalization, batch size rule) is in
 * docs/supernet-contract.md.
 *
 * @example
 * const evaluator = await OnnxSupernetEvaluator.create({
 *   modelPath: "examples/fmnist-nb201/supernet.onnx",
 *   dataDir: "examples/fmnist-nb201",
 * });
 * const [result] = await evaluator.evaluate([
 *   { key: "a", arch: ["nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none", "nor_conv_3x3", "avg_pool_3x3"] },
 * ]);
 */
export class OnnxSupernetEvaluator implements Evaluator {
  readonly name: string;
  /** Images scored per evaluation. */
  readonly images: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly providerReport: ProviderReport,
    readonly meta: SupernetMeta,
    readonly split: Split,
    readonly batchSize: number,
    private readonly inputs: Float32Array,
    private readonly labels: Int32Array,
    modelPath: string,
  ) {
    this.images = labels.length;
    this.name = `onnx-supernet:${basename(modelPath)}:${split}`;
  }

  /**
   * Loads the data and the model, checks both against the contract, and
   * opens the session on the requested execution provider.
   *
   * @throws DataFileError for a missing, corrupt or inconsistent data file
   * @throws ContractError for a model or option that breaks the contract
   * @throws ProviderError when an explicitly requested provider fails
   */
  static async create(
    options: OnnxSupernetOptions,
  ): Promise<OnnxSupernetEvaluator> {
    const split = options.split ?? "search";
    if (!["search", "val", "test"].includes(split)) {
      throw new RangeError(
        `invalid split "${split}"; expected search, val or test`,
      );
    }
    const device = options.device ?? "auto";
    if (!["auto", "cpu", "cuda", "webgpu"].includes(device)) {
      throw new RangeError(
        `invalid device "${device}"; expected auto, cpu, cuda or webgpu`,
      );
    }
    const threads = options.threads;
    if (threads !== undefined && (!Number.isInteger(threads) || threads <= 0)) {
      throw new RangeError(
        `invalid threads ${threads}; expected a positive integer`,
      );
    }
    const meta = await readSupernetMeta(join(options.dataDir, "meta.json"));
    const batchSize = options.batchSize ?? meta.batchSize;
    checkBatchSize(meta, split, batchSize, options.batchSize !== undefined);

    const { inputs, labels } = await loadSupernetSplit(
      options.dataDir,
      meta,
      split,
    );
    const { session, report } = await openSession(
      options.modelPath,
      device,
      threads,
      options.spinning ?? false,
    );
    try {
      checkModelContract(session, options.modelPath, meta, batchSize);
    } catch (error) {
      await session.release();
      throw error;
    }
    return new OnnxSupernetEvaluator(
      session,
      report,
      meta,
      split,
      batchSize,
      inputs,
      labels,
      options.modelPath,
    );
  }

  async evaluate(
    requests: readonly EvaluationRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<EvaluationResult[]> {
    const results: EvaluationResult[] = [];
    for (const request of requests) {
      if (options.signal?.aborted) {
        results.push({
          key: request.key,
          ok: false,
          error: "evaluation aborted",
        });
        continue;
      }
      results.push(await this.evaluateOne(request));
    }
    return results;
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async evaluateOne(
    request: EvaluationRequest,
  ): Promise<EvaluationResult> {
    const indices = nb201ArchToIndices(request.arch);
    if (typeof indices === "string") {
      return { key: request.key, ok: false, error: indices };
    }
    const arch = new ort.Tensor(
      "int64",
      BigInt64Array.from(indices.map(BigInt)),
      [ARCH_LENGTH],
    );
    const classes = this.meta.classNames.length;
    const started = performance.now();
    let correct = 0;
    let correctTop5 = 0;
    try {
      for (let start = 0; start < this.images; start += this.batchSize) {
        const count = Math.min(this.batchSize, this.images - start);
        const images = new ort.Tensor(
          "float32",
          this.inputs.subarray(
            start * IMAGE_SIZE,
            (start + count) * IMAGE_SIZE,
          ),
          [count, 1, IMAGE_SIDE, IMAGE_SIDE],
        );
        const output = await this.session.run({ images, arch });
        const logits = output.logits.data as Float32Array;
        if (logits.length !== count * classes) {
          return {
            key: request.key,
            ok: false,
            error:
              `"logits" has shape [${output.logits.dims.join(", ")}]; ` +
              `expected [${count}, ${classes}]`,
          };
        }
        for (let i = 0; i < count; i++) {
          const row = logits.subarray(i * classes, (i + 1) * classes);
          const rank = rankOfLabel(row, this.labels[start + i]);
          if (rank < 0) {
            return {
              key: request.key,
              ok: false,
              error: `non-finite logits for image ${start + i} of split "${this.split}"`,
            };
          }
          if (rank === 0) correct++;
          if (rank < 5) correctTop5++;
        }
      }
    } catch (error) {
      return {
        key: request.key,
        ok: false,
        error: `onnxruntime failed: ${(error as Error).message}`,
      };
    }
    const metrics: Record<string, number> = {
      images: this.images,
      wallMs: Math.round(performance.now() - started),
    };
    if (classes > 5) metrics.top5 = (100 * correctTop5) / this.images;
    return {
      key: request.key,
      ok: true,
      accuracy: (100 * correct) / this.images,
      metrics,
      report: {},
    };
  }
}

/**
 * Returns how many classes score strictly higher than the label, or -1 when
 * a logit is not finite. Rank 0 is a top-1 hit, so a tie with the label
 * counts as a hit.
 */
function rankOfLabel(row: Float32Array, label: number): number {
  const target = row[label];
  let rank = 0;
  for (const value of row) {
    if (!Number.isFinite(value)) return -1;
    if (value > target) rank++;
  }
  return rank;
}

/** Reads and validates a supernet `meta.json`. */
/**
 * Size of a supernet's network from its meta.json, for the cost model of
 * the NAS-Bench-201 space; undefined when meta.json does not give it.
 */
export function supernetNetwork(meta: SupernetMeta): Nb201Network | undefined {
  if (!meta.network) return undefined;
  return {
    channels: meta.network.channels,
    cellsPerStage: meta.network.cellsPerStage,
    inputChannels: 1,
    side: IMAGE_SIDE,
    classes: meta.classNames.length,
  };
}

export async function readSupernetMeta(path: string): Promise<SupernetMeta> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new DataFileError(
      `failed to read ${path}: ${(error as Error).message}. The data folder needs ` +
        `a meta.json as described in docs/supernet-contract.md`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(
      `${path} is not valid JSON: ${(error as Error).message}`,
    );
  }
  const parsed = metaSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new DataFileError(`invalid ${path}: ${issues}`);
  }
  return parsed.data;
}

function checkBatchSize(
  meta: SupernetMeta,
  split: Split,
  batchSize: number,
  explicit: boolean,
): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new RangeError(
      `invalid batchSize ${batchSize}; expected a positive integer`,
    );
  }
  if (meta.normalization !== "batch-statistics") return;
  // Batch statistics make each output depend on the other images in its
  // batch, so only the contract's batch size, with full batches,
  // reproduces the accuracies the supernet was documented with.
  if (explicit && batchSize !== meta.batchSize) {
    throw new ContractError(
      `batch size ${batchSize} differs from meta.json batchSize ` +
        `${meta.batchSize}; the model normalizes with batch statistics, so ` +
        `results depend on batching. Omit batchSize or pass ${meta.batchSize}`,
    );
  }
  const count = meta.splits[split].count;
  if (count % batchSize !== 0) {
    throw new ContractError(
      `split "${split}" has ${count} images, not a multiple of batch size ` +
        `${batchSize}; with batch statistics every batch must be full`,
    );
  }
}

/**
 * Loads a split's images as normalized float32 [count, 1, 28, 28] in C
 * order, and its labels.
 */
export async function loadSupernetSplit(
  dataDir: string,
  meta: SupernetMeta,
  split: Split,
): Promise<{ inputs: Float32Array; labels: Int32Array }> {
  const spec = meta.splits[split];
  const imagesPath = resolve(dataDir, spec.images);
  const labelsPath = resolve(dataDir, spec.labels);
  const images = await readNpy(imagesPath);
  const labels = await readNpy(labelsPath);

  const imageCount = checkImageShape(images, imagesPath);
  if (labels.shape.length !== 1) {
    throw new DataFileError(
      `${labelsPath} has shape [${labels.shape.join(", ")}]; expected [N]`,
    );
  }
  if (labels.shape[0] !== imageCount) {
    throw new DataFileError(
      `${imagesPath} has ${imageCount} images but ${labelsPath} has ` +
        `${labels.shape[0]} labels; the two files must have the same count`,
    );
  }
  if (spec.count > imageCount) {
    throw new DataFileError(
      `meta.json split "${split}" needs ${spec.count} images but ` +
        `${imagesPath} has ${imageCount}`,
    );
  }
  return {
    inputs: normalizeImages(images, spec.count, meta, imagesPath),
    labels: readLabels(labels, spec.count, meta.classNames.length, labelsPath),
  };
}

function checkImageShape(images: NpyArray, path: string): number {
  const shape = images.shape;
  const squareTail = shape.slice(-2).every((dim) => dim === IMAGE_SIDE);
  const rankOk =
    (shape.length === 3 && squareTail) ||
    (shape.length === 4 && shape[1] === 1 && squareTail);
  if (!rankOk) {
    throw new DataFileError(
      `${path} has shape [${shape.join(", ")}]; expected ` +
        `[N, ${IMAGE_SIDE}, ${IMAGE_SIDE}] or [N, 1, ${IMAGE_SIDE}, ${IMAGE_SIDE}]`,
    );
  }
  if (images.dtype !== "uint8" && images.dtype !== "float32") {
    throw new DataFileError(
      `${path} has dtype ${images.dtype}; expected uint8 pixels or ` +
        `float32 normalized images`,
    );
  }
  return shape[0];
}

/**
 * Normalizes uint8 pixels to (pixel / 255 - mean) / std with the meta.json
 * mean and standard deviation. float32 images are taken as already
 * normalized.
 */
function normalizeImages(
  images: NpyArray,
  count: number,
  meta: SupernetMeta,
  path: string,
): Float32Array {
  const size = count * IMAGE_SIZE;
  if (images.dtype === "float32") {
    const out = images.data.slice(0, size);
    const bad = out.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) {
      throw new DataFileError(
        `${path} has a non-finite value in image ${Math.floor(bad / IMAGE_SIZE)}`,
      );
    }
    return out;
  }
  if (images.dtype !== "uint8") {
    throw new DataFileError(
      `${path} has dtype ${images.dtype}; expected uint8 or float32`,
    );
  }
  // A 256-entry table computed in double precision and rounded once gives
  // the same floats as the Python exporter's table.
  const table = new Float32Array(256);
  for (let pixel = 0; pixel < 256; pixel++) {
    table[pixel] = (pixel / 255 - meta.pixelMean) / meta.pixelStd;
  }
  const pixels = images.data;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = table[pixels[i]];
  }
  return out;
}

function readLabels(
  labels: NpyArray,
  count: number,
  classes: number,
  path: string,
): Int32Array {
  if (labels.dtype === "float32") {
    throw new DataFileError(
      `${path} has dtype float32; expected uint8 or int64 labels`,
    );
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const value = Number(labels.data[i]);
    if (value < 0 || value >= classes) {
      throw new DataFileError(
        `${path} has label ${value} at index ${i}; expected 0-${classes - 1} ` +
          `(${classes} classes in meta.json)`,
      );
    }
    out[i] = value;
  }
  return out;
}

/** Checks input and output names, types and shapes of the session. */
function checkModelContract(
  session: ort.InferenceSession,
  modelPath: string,
  meta: SupernetMeta,
  batchSize: number,
): void {
  const classes = meta.classNames.length;
  const inputs = new Map(
    session.inputMetadata.map((value) => [value.name, value]),
  );
  const outputs = new Map(
    session.outputMetadata.map((value) => [value.name, value]),
  );
  const expected: [
    string,
    Map<string, ort.InferenceSession.ValueMetadata>,
    string,
  ][] = [
    ["images", inputs, "input"],
    ["arch", inputs, "input"],
    ["logits", outputs, "output"],
  ];
  for (const [name, table, kind] of expected) {
    if (!table.has(name)) {
      throw new ContractError(
        `${modelPath} has no ${kind} "${name}"; its ${kind}s are ` +
          `${[...table.keys()].map((n) => `"${n}"`).join(", ")}. Export the ` +
          `supernet with input_names=["images", "arch"] and ` +
          `output_names=["logits"]`,
      );
    }
  }
  const extra = [...inputs.keys()].filter(
    (name) => name !== "images" && name !== "arch",
  );
  if (extra.length > 0) {
    throw new ContractError(
      `${modelPath} has unexpected inputs ${extra.map((n) => `"${n}"`).join(", ")}; ` +
        `the contract feeds only "images" and "arch"`,
    );
  }

  checkTensor(
    modelPath,
    inputs.get("images")!,
    "float32",
    ["batch", 1, IMAGE_SIDE, IMAGE_SIDE],
    batchSize,
  );
  checkTensor(
    modelPath,
    inputs.get("arch")!,
    "int64",
    [ARCH_LENGTH],
    batchSize,
  );
  checkTensor(
    modelPath,
    outputs.get("logits")!,
    "float32",
    ["batch", classes],
    batchSize,
  );
}

/**
 * Checks one tensor's type and shape. "batch" in `shape` accepts a
 * symbolic dimension or the evaluator's batch size.
 */
function checkTensor(
  modelPath: string,
  metadata: ort.InferenceSession.ValueMetadata,
  type: "float32" | "int64",
  shape: (number | "batch")[],
  batchSize: number,
): void {
  const name = metadata.name;
  const expectedShape = `[${shape.join(", ")}]`;
  if (!metadata.isTensor) {
    throw new ContractError(
      `${modelPath}: "${name}" is not a tensor; expected ${type} ${expectedShape}`,
    );
  }
  if (metadata.type !== type) {
    throw new ContractError(
      `${modelPath}: "${name}" has type ${metadata.type}; expected ${type} ${expectedShape}`,
    );
  }
  const actual = metadata.shape;
  const matches =
    actual.length === shape.length &&
    shape.every((dim, i) =>
      dim === "batch"
        ? typeof actual[i] === "string" || actual[i] === batchSize
        : actual[i] === dim,
    );
  if (!matches) {
    const hint =
      name === "arch"
        ? ` (one operation index per edge of the NAS-Bench-201 cell)`
        : "";
    throw new ContractError(
      `${modelPath}: "${name}" has shape [${actual.join(", ")}]; expected ${expectedShape}${hint}`,
    );
  }
}

/**
 * Opens the session on the requested provider. For `auto`, tries CUDA,
 * WebGPU and CPU in turn and records why each one was skipped.
 */
async function openSession(
  modelPath: string,
  device: Device,
  threads: number | undefined,
  spinning: boolean,
): Promise<{ session: ort.InferenceSession; report: ProviderReport }> {
  if (!existsSync(modelPath)) {
    throw new ContractError(`model file ${modelPath} not found`);
  }
  const order: ProviderReport["provider"][] =
    device === "auto" ? ["cuda", "webgpu", "cpu"] : [device];
  const attempts: ProviderReport["attempts"] = [];
  for (const provider of order) {
    const missing = missingProviderDependency(provider);
    if (missing) {
      attempts.push({ provider, ok: false, reason: missing });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        // Severity 3 (error) hides onnxruntime's load-time warnings, such
        // as nodes placed on the CPU next to a GPU provider.
        logSeverityLevel: 3,
        // Becomes the session config entry "session.intra_op.allow_spinning".
        extra: {
          session: { intra_op: { allow_spinning: spinning ? "1" : "0" } },
        },
      });
      attempts.push({ provider, ok: true, reason: "session created" });
      return { session, report: { requested: device, provider, attempts } };
    } catch (error) {
      const message = (error as Error).message.split("\n")[0];
      // A model that fails to parse fails on every provider.
      if (/protobuf|invalid model|load model/i.test(message)) {
        throw new ContractError(`failed to load ${modelPath}: ${message}`);
      }
      attempts.push({ provider, ok: false, reason: message });
    }
  }
  const reasons = attempts.map((a) => `${a.provider}: ${a.reason}`).join("; ");
  throw new ProviderError(
    `no execution provider could run ${modelPath} (${reasons})`,
  );
}

/**
 * Returns why a provider cannot load on this machine, or undefined when it
 * may. These checks avoid the native error logs that a failed attempt
 * prints, which the session's log level does not silence.
 */
function missingProviderDependency(provider: string): string | undefined {
  const supported = ort.listSupportedBackends?.() ?? [];
  if (
    provider !== "cpu" &&
    !supported.some((backend) => backend.name === provider)
  ) {
    return `onnxruntime-node ${ort.env.versions.common} has no ${provider} backend on ${process.platform}/${process.arch}`;
  }
  if (provider === "cuda" && process.platform === "linux") {
    const binDir = dirname(bindingPath());
    const library = join(binDir, "libonnxruntime_providers_cuda.so");
    if (!existsSync(library)) {
      return (
        `${library} not found. Install the CUDA 12 provider with ` +
        `"ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node", ` +
        `which downloads it from NuGet`
      );
    }
  }
  if (
    provider === "webgpu" &&
    process.platform === "linux" &&
    !hasVulkanLoader()
  ) {
    return "libvulkan.so.1 not found; WebGPU on Linux needs a Vulkan driver";
  }
  return undefined;
}

function bindingPath(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve("onnxruntime-node");
  return join(
    dirname(entry),
    "..",
    "bin",
    "napi-v6",
    process.platform,
    process.arch,
    "onnxruntime_binding.node",
  );
}

/** Looks for the Vulkan loader in the dynamic linker's cache and path. */
function hasVulkanLoader(): boolean {
  const name = "libvulkan.so.1";
  try {
    if (readFileSync("/etc/ld.so.cache").includes(name)) return true;
  } catch {
    // No linker cache (for example a musl system); fall through.
  }
  const dirs = (process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean);
  return dirs.some((dir) => existsSync(join(dir, name)));
}
