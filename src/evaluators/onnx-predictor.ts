import { access, stat } from "node:fs/promises";
import { basename } from "node:path";
import * as ort from "onnxruntime-node";
import type { ParseResult } from "../spaces/types.ts";
import { EvaluatorInputError } from "./errors.ts";
import type { EvaluationRequest, EvaluationResult, Evaluator } from "./types.ts";

/**
 * Maps an architecture of one search space to the input vector of an
 * accuracy predictor. See docs/predictor-contract.md.
 */
export interface FeatureEncoder<A> {
  /** Length of every feature vector; it must equal the model's input width. */
  readonly featureCount: number;
  /** Returns the features of one architecture; throws for one it cannot encode. */
  encode(arch: A): ArrayLike<number>;
}

/** Options of `OnnxPredictorEvaluator.create`. */
export interface OnnxPredictorOptions<A> {
  /** Path of the ONNX regression model. */
  modelPath: string;
  /** Reads each request's JSON form; usually the search space. */
  space: { parse(input: unknown): ParseResult<A> };
  /** The space's feature encoder. */
  encoder: FeatureEncoder<A>;
  /** Model input to feed; default: the model's only input. */
  inputName?: string;
  /** Model output to read; default: the model's only output. */
  outputName?: string;
  /** Architectures per run (default 256); a model with a fixed batch size sets its own. */
  batchSize?: number;
  /** Factor from the model's output to percent (default 100, for a fraction). */
  scale?: number;
  /** ONNX Runtime execution providers (default ["cpu"]). */
  executionProviders?: string[];
  /** Name for logs and results (default "onnx-predictor:<file name>"). */
  name?: string;
}

function describeShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(", ")}]`;
}

/** Returns the one name the caller chose, or the model's only one. */
function chooseName(
  names: readonly string[],
  requested: string | undefined,
  kind: "input" | "output",
  modelPath: string,
): string {
  if (requested !== undefined) {
    if (!names.includes(requested)) {
      throw new EvaluatorInputError(
        `ONNX model ${modelPath} has no ${kind} "${requested}"; ` +
          `its ${kind}s are: ${names.join(", ")}`,
      );
    }
    return requested;
  }
  if (names.length !== 1) {
    throw new EvaluatorInputError(
      `ONNX model ${modelPath} has ${names.length} ${kind}s (${names.join(", ")}); ` +
        `pass ${kind}Name to choose one`,
    );
  }
  return names[0];
}

function tensorMetadata(
  metadata: readonly ort.InferenceSession.ValueMetadata[] | undefined,
  name: string,
): ort.InferenceSession.TensorValueMetadata | undefined {
  const entry = metadata?.find((item) => item.name === name);
  return entry?.isTensor ? entry : undefined;
}

/**
 * An accuracy predictor in ONNX format as an evaluator. The space parses
 * each request's architecture and the encoder turns it into a feature
 * vector. One ONNX Runtime session runs the vectors in batches, and the
 * output times `scale` is the accuracy in percent.
 */
export class OnnxPredictorEvaluator<A = unknown> implements Evaluator {
  readonly name: string;
  /** Execution providers the session was created with. */
  readonly executionProviders: readonly string[];
  /** Architectures per run. */
  readonly batchSize: number;
  private readonly session: ort.InferenceSession;
  private readonly options: OnnxPredictorOptions<A>;
  private readonly inputName: string;
  private readonly outputName: string;
  /** True when the model's batch dimension is a fixed number, so batches are padded. */
  private readonly fixedBatch: boolean;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    session: ort.InferenceSession,
    options: OnnxPredictorOptions<A>,
    io: { inputName: string; outputName: string; batchSize: number; fixedBatch: boolean },
  ) {
    this.session = session;
    this.options = options;
    this.inputName = io.inputName;
    this.outputName = io.outputName;
    this.batchSize = io.batchSize;
    this.fixedBatch = io.fixedBatch;
    this.executionProviders = options.executionProviders ?? ["cpu"];
    this.name = options.name ?? `onnx-predictor:${basename(options.modelPath)}`;
  }

  /**
   * Loads the model and checks that its input is float32 `[batch, F]` with
   * F equal to the encoder's `featureCount` and that it returns one value
   * per architecture.
   *
   * @throws EvaluatorInputError naming the file, input or shape that does
   *   not fit
   */
  static async create<A>(options: OnnxPredictorOptions<A>): Promise<OnnxPredictorEvaluator<A>> {
    const { modelPath, encoder } = options;
    try {
      await access(modelPath);
    } catch (error) {
      throw new EvaluatorInputError(
        `cannot read ONNX model ${modelPath}: ${(error as Error).message}`,
      );
    }
    if ((await stat(modelPath)).isDirectory()) {
      throw new EvaluatorInputError(`ONNX model ${modelPath} is a directory; pass an .onnx file`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        executionProviders: options.executionProviders ?? ["cpu"],
      });
    } catch (error) {
      throw new EvaluatorInputError(
        `failed to load ONNX model ${modelPath}, which may not be an ONNX file: ` +
          (error as Error).message,
      );
    }
    try {
      const io = OnnxPredictorEvaluator.checkModel(session, options);
      const evaluator = new OnnxPredictorEvaluator(session, options, io);
      await evaluator.probeModel(encoder.featureCount);
      return evaluator;
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /** Checks names, types and shapes from the model's metadata. */
  private static checkModel<A>(
    session: ort.InferenceSession,
    options: OnnxPredictorOptions<A>,
  ): { inputName: string; outputName: string; batchSize: number; fixedBatch: boolean } {
    const { modelPath, encoder } = options;
    const inputName = chooseName(session.inputNames, options.inputName, "input", modelPath);
    const outputName = chooseName(session.outputNames, options.outputName, "output", modelPath);
    let batchSize = options.batchSize ?? 256;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`invalid batchSize ${batchSize}; expected a positive integer`);
    }
    let fixedBatch = false;

    const input = tensorMetadata(session.inputMetadata, inputName);
    if (input) {
      if (input.type !== "float32") {
        throw new EvaluatorInputError(
          `ONNX model ${modelPath} input "${inputName}" is ${input.type}; expected float32`,
        );
      }
      const shape = input.shape;
      if (shape.length > 0) {
        if (shape.length !== 2) {
          throw new EvaluatorInputError(
            `ONNX model ${modelPath} input "${inputName}" has shape ${describeShape(shape)}; ` +
              `expected [batch, ${encoder.featureCount}]`,
          );
        }
        if (typeof shape[1] === "number" && shape[1] !== encoder.featureCount) {
          throw new EvaluatorInputError(
            `ONNX model ${modelPath} input "${inputName}" takes ${shape[1]} features but the ` +
              `encoder produces ${encoder.featureCount}; use the predictor made for this space`,
          );
        }
        if (typeof shape[0] === "number" && shape[0] > 0) {
          batchSize = shape[0];
          fixedBatch = true;
        }
      }
    }

    const output = tensorMetadata(session.outputMetadata, outputName);
    if (output && output.shape.length > 0) {
      const shape = output.shape;
      const perItem = shape.slice(1);
      const single = perItem.every((dim) => dim === 1);
      if (shape.length > 2 || !single) {
        throw new EvaluatorInputError(
          `ONNX model ${modelPath} output "${outputName}" has shape ${describeShape(shape)}; ` +
            `expected [batch, 1] or [batch], one value per architecture`,
        );
      }
    }
    return { inputName, outputName, batchSize, fixedBatch };
  }

  /** Runs one zero batch, for models whose metadata leaves the shapes open. */
  private async probeModel(featureCount: number): Promise<void> {
    const rows = this.fixedBatch ? this.batchSize : 1;
    let values: ArrayLike<number>;
    try {
      values = await this.runBatch(new Float32Array(rows * featureCount), rows);
    } catch (error) {
      throw new EvaluatorInputError(
        `ONNX model ${this.options.modelPath} failed on a [${rows}, ${featureCount}] input: ` +
          `${(error as Error).message}`,
      );
    }
    if (values.length !== rows) {
      throw new EvaluatorInputError(
        `ONNX model ${this.options.modelPath} returned ${values.length} values for ${rows} ` +
          `architectures; expected one value per architecture`,
      );
    }
  }

  private async runBatch(features: Float32Array, rows: number): Promise<ArrayLike<number>> {
    const featureCount = this.options.encoder.featureCount;
    const feeds = { [this.inputName]: new ort.Tensor("float32", features, [rows, featureCount]) };
    // One run at a time on the shared session.
    const run = this.queue.then(() => this.session.run(feeds, [this.outputName]));
    this.queue = run.catch(() => undefined);
    const outputs = await run;
    return outputs[this.outputName].data as ArrayLike<number>;
  }

  /** Encodes one request, or returns the reason it cannot be encoded. */
  private encodeRequest(request: EvaluationRequest): Float32Array | string {
    const parsed = this.options.space.parse(request.arch);
    if (!parsed.ok) return `invalid architecture: ${parsed.reason}`;
    let features: ArrayLike<number>;
    try {
      features = this.options.encoder.encode(parsed.arch);
    } catch (error) {
      return `cannot encode architecture: ${(error as Error).message}`;
    }
    const count = this.options.encoder.featureCount;
    if (features.length !== count) {
      return `encoder returned ${features.length} features; expected ${count}`;
    }
    const vector = Float32Array.from(features);
    if (!vector.every(Number.isFinite))
      return "encoder returned a feature that is not a finite number";
    return vector;
  }

  async evaluate(
    requests: readonly EvaluationRequest[],
    options: { signal?: AbortSignal } = {},
  ): Promise<EvaluationResult[]> {
    const results: EvaluationResult[] = new Array(requests.length);
    const pending: { index: number; features: Float32Array }[] = [];
    requests.forEach((request, index) => {
      const encoded = this.encodeRequest(request);
      if (typeof encoded === "string") {
        results[index] = { key: request.key, ok: false, error: encoded };
      } else {
        pending.push({ index, features: encoded });
      }
    });

    const featureCount = this.options.encoder.featureCount;
    const scale = this.options.scale ?? 100;
    for (let start = 0; start < pending.length; start += this.batchSize) {
      options.signal?.throwIfAborted();
      const batch = pending.slice(start, start + this.batchSize);
      const rows = this.fixedBatch ? this.batchSize : batch.length;
      const features = new Float32Array(rows * featureCount);
      batch.forEach((item, row) => features.set(item.features, row * featureCount));
      let values: ArrayLike<number>;
      try {
        values = await this.runBatch(features, rows);
      } catch (error) {
        const message = `ONNX Runtime run failed: ${(error as Error).message}`;
        for (const item of batch) {
          results[item.index] = { key: requests[item.index].key, ok: false, error: message };
        }
        continue;
      }
      batch.forEach((item, row) => {
        const value = Number(values[row]);
        const key = requests[item.index].key;
        results[item.index] = Number.isFinite(value)
          ? { key, ok: true, accuracy: value * scale, metrics: {}, report: {} }
          : { key, ok: false, error: `predictor returned ${value}` };
      });
    }
    return results;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Loads an ONNX accuracy predictor as an evaluator (see
 * `OnnxPredictorEvaluator.create`).
 *
 * @example
 * const space = createOfaMbv3Space();
 * const evaluator = await createOnnxPredictorEvaluator({
 *   modelPath: "ofa_mbv3_acc_predictor.onnx",
 *   space,
 *   encoder: space.predictorEncoder,
 * });
 */
export function createOnnxPredictorEvaluator<A>(
  options: OnnxPredictorOptions<A>,
): Promise<OnnxPredictorEvaluator<A>> {
  return OnnxPredictorEvaluator.create(options);
}
