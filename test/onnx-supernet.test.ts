import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { EvaluatorInputError } from "../src/evaluators/errors.ts";
import { NpyFormatError, readNpy } from "../src/evaluators/npy.ts";
import {
  ContractError,
  DataFileError,
  nb201ArchToIndices,
  OnnxSupernetEvaluator,
  ProviderError,
} from "../src/evaluators/onnx-supernet.ts";

const ROOT = resolve(import.meta.dirname, "..");
const FIXTURES = join(ROOT, "test", "fixtures");
const BUNDLE = join(ROOT, "examples", "fmnist-nb201");
const TINY = join(FIXTURES, "tiny_supernet.onnx");

type Dtype = "uint8" | "float32" | "int64";

/** Encodes an array as .npy bytes (format 1.0, little-endian, C order). */
function npyBytes(
  dtype: Dtype,
  shape: number[],
  values: ArrayLike<number>,
): Buffer {
  const descr = { uint8: "|u1", float32: "<f4", int64: "<i8" }[dtype];
  const shapeText =
    shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that the data starts at a multiple of 64 bytes, as NumPy does.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
  prefix.writeUInt16LE(header.length, 8);
  let data: Buffer;
  if (dtype === "uint8") {
    data = Buffer.from(Uint8Array.from(values));
  } else if (dtype === "float32") {
    data = Buffer.from(Float32Array.from(values).buffer);
  } else {
    data = Buffer.from(
      BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer,
    );
  }
  return Buffer.concat([prefix, Buffer.from(header, "latin1"), data]);
}

interface DataSet {
  dir: string;
  imagesFile: string;
  labelsFile: string;
}

/**
 * Writes a data folder for the tiny model: `count` uint8 images, labels
 * `i % 10`, and a meta.json whose splits all use the whole set.
 */
async function writeDataSet(
  dir: string,
  options: {
    count?: number;
    labelCount?: number;
    labels?: number[];
    batchSize?: number;
    imageShape?: number[];
    meta?: Record<string, unknown>;
  } = {},
): Promise<DataSet> {
  const count = options.count ?? 20;
  const labelCount = options.labelCount ?? count;
  const imageShape = options.imageShape ?? [count, 28, 28];
  const pixels = new Uint8Array(imageShape.reduce((a, b) => a * b, 1));
  pixels.forEach((_, i) => (pixels[i] = (i * 7) % 256));
  const labels =
    options.labels ?? Array.from({ length: labelCount }, (_, i) => i % 10);
  await writeFile(
    join(dir, "images.npy"),
    npyBytes("uint8", imageShape, pixels),
  );
  await writeFile(
    join(dir, "labels.npy"),
    npyBytes("int64", [labels.length], labels),
  );
  const split = { images: "images.npy", labels: "labels.npy", count };
  const meta = {
    space: "nb201",
    normalization: "batch-statistics",
    batchSize: options.batchSize ?? 10,
    pixelMean: 0.2862,
    pixelStd: 0.3531,
    classNames: Array.from({ length: 10 }, (_, i) => `class ${i}`),
    splits: { search: split, val: split, test: split },
    ...options.meta,
  };
  await writeFile(join(dir, "meta.json"), JSON.stringify(meta));
  return {
    dir,
    imagesFile: join(dir, "images.npy"),
    labelsFile: join(dir, "labels.npy"),
  };
}

/** Asserts that `promise` rejects with `errorClass` and every `fragment`. */
async function assertRejects(
  promise: Promise<unknown>,
  errorClass: new (...args: never[]) => Error,
  fragments: string[],
): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(
      error instanceof errorClass,
      `expected ${errorClass.name}, got ${error.name}: ${error.message}`,
    );
    for (const fragment of fragments) {
      assert.ok(
        error.message.includes(fragment),
        `message "${error.message}" lacks "${fragment}"`,
      );
    }
    return true;
  });
}

let tempRoot: string;
let counter = 0;
async function tempDir(): Promise<string> {
  const dir = join(tempRoot, String(counter++));
  await mkdir(dir);
  return dir;
}

before(async () => {
  tempRoot = await mkdtemp(join(tmpdir(), "onnx-supernet-test-"));
});

after(async () => {
  await rm(tempRoot, { recursive: true, force: true });
});

describe("readNpy", () => {
  test("reads uint8 float32 and int64", async () => {
    const dir = await tempDir();
    const cases: [Dtype, number[], number[]][] = [
      ["uint8", [2, 3], [0, 1, 2, 253, 254, 255]],
      ["float32", [3], [-1.5, 0, 2.25]],
      ["int64", [4], [0, 9, -3, 123456789]],
    ];
    for (const [dtype, shape, values] of cases) {
      const path = join(dir, `${dtype}.npy`);
      await writeFile(path, npyBytes(dtype, shape, values));
      const array = await readNpy(path);
      assert.equal(array.dtype, dtype);
      assert.deepEqual(array.shape, shape);
      assert.deepEqual(Array.from(array.data, Number), values);
    }
  });

  test("reads gzip-compressed files", async () => {
    const dir = await tempDir();
    const path = join(dir, "labels.npy.gz");
    await writeFile(path, gzipSync(npyBytes("uint8", [3], [7, 8, 9])));
    const array = await readNpy(path);
    assert.deepEqual(Array.from(array.data, Number), [7, 8, 9]);
  });

  test("rejects a file without the magic bytes", async () => {
    const dir = await tempDir();
    const path = join(dir, "garbage.npy");
    await writeFile(path, Buffer.from("definitely not numpy"));
    await assertRejects(readNpy(path), NpyFormatError, [path, "magic"]);
  });

  test("rejects truncated data", async () => {
    const dir = await tempDir();
    const path = join(dir, "short.npy");
    const bytes = npyBytes("float32", [4], [1, 2, 3, 4]);
    await writeFile(path, bytes.subarray(0, bytes.length - 3));
    await assertRejects(readNpy(path), NpyFormatError, [
      path,
      "16 data bytes, found 13",
    ]);
  });

  test("rejects a corrupt gzip file", async () => {
    const dir = await tempDir();
    const path = join(dir, "broken.npy.gz");
    const zipped = gzipSync(npyBytes("uint8", [100], new Array(100).fill(1)));
    await writeFile(path, zipped.subarray(0, zipped.length - 10));
    await assertRejects(readNpy(path), NpyFormatError, [path, "gzip"]);
  });

  test("rejects big-endian data", async () => {
    const dir = await tempDir();
    const path = join(dir, "big.npy");
    const bytes = npyBytes("float32", [1], [1]);
    const text = bytes.toString("latin1").replace("'<f4'", "'>f4'");
    await writeFile(path, Buffer.from(text, "latin1"));
    await assertRejects(readNpy(path), NpyFormatError, [path, "'>f4'"]);
  });

  test("rejects a missing file", async () => {
    const path = join(tempRoot, "absent.npy");
    await assertRejects(readNpy(path), NpyFormatError, [path]);
  });
});

describe("nb201ArchToIndices", () => {
  test("accepts indices and names", () => {
    assert.deepEqual(
      nb201ArchToIndices([0, 1, 2, 3, 4, 0]),
      [0, 1, 2, 3, 4, 0],
    );
    assert.deepEqual(
      nb201ArchToIndices([
        "none",
        "skip_connect",
        "nor_conv_1x1",
        "nor_conv_3x3",
        "avg_pool_3x3",
        "none",
      ]),
      [0, 1, 2, 3, 4, 0],
    );
  });

  test("accepts the cell string", () => {
    const cell =
      "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+" +
      "|none~0|nor_conv_3x3~1|avg_pool_3x3~2|";
    assert.deepEqual(nb201ArchToIndices(cell), [3, 1, 2, 0, 3, 4]);
  });

  test("rejects wrong length and unknown operations", () => {
    assert.match(
      String(nb201ArchToIndices([1, 2, 3])),
      /3 operations; expected 6/,
    );
    assert.match(
      String(nb201ArchToIndices([0, 1, 2, 3, 4, 5])),
      /invalid operation 5 on edge 5/,
    );
    assert.match(
      String(nb201ArchToIndices(["conv5x5", 1, 1, 1, 1, 1])),
      /"conv5x5" on edge 0/,
    );
    assert.match(
      String(nb201ArchToIndices("|none~0|")),
      /expected 3 node groups/,
    );
    assert.match(String(nb201ArchToIndices(42)), /expected a cell string/);
  });
});

describe("OnnxSupernetEvaluator model contract", () => {
  const cases: [string, string[]][] = [
    ["wrong_input_name.onnx", ['no input "images"', '"image"']],
    ["wrong_output_name.onnx", ['no output "logits"', '"output"']],
    ["wrong_arch_length.onnx", ['"arch" has shape [5]', "expected [6]"]],
    ["wrong_arch_dtype.onnx", ['"arch" has type int32', "expected int64"]],
    [
      "wrong_image_shape.onnx",
      ['"images" has shape [batch, 3, 32, 32]', "expected [batch, 1, 28, 28]"],
    ],
    ["extra_input.onnx", ['unexpected inputs "temperature"']],
  ];
  for (const [file, fragments] of cases) {
    test(`rejects ${file.replace(".onnx", "").replaceAll("_", " ")}`, async () => {
      const data = await writeDataSet(await tempDir());
      const modelPath = join(FIXTURES, file);
      await assertRejects(
        OnnxSupernetEvaluator.create({
          modelPath,
          dataDir: data.dir,
          device: "cpu",
          threads: 1,
        }),
        ContractError,
        [modelPath, ...fragments],
      );
    });
  }

  test("rejects a corrupt model file", async () => {
    const dir = await tempDir();
    const data = await writeDataSet(dir);
    const modelPath = join(dir, "corrupt.onnx");
    await writeFile(modelPath, Buffer.from("not a protobuf at all"));
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath,
        dataDir: data.dir,
        device: "cpu",
      }),
      ContractError,
      [modelPath],
    );
  });

  test("rejects a missing model file", async () => {
    const data = await writeDataSet(await tempDir());
    const modelPath = join(data.dir, "absent.onnx");
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath,
        dataDir: data.dir,
        device: "cpu",
      }),
      ContractError,
      [modelPath, "not found"],
    );
  });

  test("rejects a batch size other than meta.json's", async () => {
    const data = await writeDataSet(await tempDir(), { batchSize: 10 });
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: data.dir,
        device: "cpu",
        batchSize: 5,
      }),
      ContractError,
      ["batch size 5", "batchSize 10", "batch statistics"],
    );
  });

  test("rejects a split that is not whole batches", async () => {
    const data = await writeDataSet(await tempDir(), {
      count: 25,
      batchSize: 10,
    });
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: data.dir,
        device: "cpu",
      }),
      ContractError,
      ['split "search" has 25 images', "batch size 10"],
    );
  });

  test("allows partial batches with per-sample norm", async () => {
    const data = await writeDataSet(await tempDir(), {
      count: 25,
      batchSize: 10,
      meta: { normalization: "per-sample" },
    });
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: TINY,
      dataDir: data.dir,
      device: "cpu",
    });
    const [result] = await evaluator.evaluate([
      { key: "a", arch: [3, 3, 3, 3, 3, 3] },
    ]);
    await evaluator.close();
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.metrics.images, 25);
  });
});

describe("OnnxSupernetEvaluator data files", () => {
  test("rejects a corrupt images file", async () => {
    const data = await writeDataSet(await tempDir());
    await writeFile(data.imagesFile, Buffer.from("\x93NUMPY garbage"));
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: data.dir,
        device: "cpu",
      }),
      NpyFormatError,
      [data.imagesFile],
    );
  });

  test("rejects label and image count mismatch", async () => {
    const data = await writeDataSet(await tempDir(), {
      count: 20,
      labelCount: 19,
    });
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: data.dir,
        device: "cpu",
      }),
      DataFileError,
      [data.imagesFile, data.labelsFile, "20 images", "19 labels"],
    );
  });

  test("rejects a label out of range", async () => {
    const labels = Array.from({ length: 20 }, (_, i) => (i === 13 ? 10 : 0));
    const data = await writeDataSet(await tempDir(), { labels });
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: data.dir,
        device: "cpu",
      }),
      DataFileError,
      [data.labelsFile, "label 10 at index 13", "0-9"],
    );
  });

  test("rejects images of the wrong shape", async () => {
    const data = await writeDataSet(await tempDir(), {
      imageShape: [20, 32, 32],
    });
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: data.dir,
        device: "cpu",
      }),
      DataFileError,
      [data.imagesFile, "[20, 32, 32]"],
    );
  });

  test("rejects a split larger than the file", async () => {
    const dir = await tempDir();
    const data = await writeDataSet(dir, { count: 20 });
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
    meta.splits.val.count = 30;
    await writeFile(join(dir, "meta.json"), JSON.stringify(meta));
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: data.dir,
        device: "cpu",
        split: "val",
      }),
      DataFileError,
      [data.imagesFile, 'split "val" needs 30 images'],
    );
  });

  test("rejects a missing meta.json", async () => {
    const dir = await tempDir();
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: dir,
        device: "cpu",
      }),
      DataFileError,
      [join(dir, "meta.json")],
    );
  });

  test("rejects an invalid meta.json", async () => {
    const dir = await tempDir();
    await writeDataSet(dir, { meta: { batchSize: "ten" } });
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: dir,
        device: "cpu",
      }),
      DataFileError,
      [join(dir, "meta.json"), "batchSize"],
    );
  });

  test("data errors share the evaluator input base class", () => {
    assert.ok(new DataFileError("x") instanceof EvaluatorInputError);
    assert.ok(new ContractError("x") instanceof EvaluatorInputError);
    assert.ok(new NpyFormatError("x") instanceof EvaluatorInputError);
  });
});

describe("OnnxSupernetEvaluator evaluate", () => {
  test("returns results in request order", async () => {
    const data = await writeDataSet(await tempDir());
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: TINY,
      dataDir: data.dir,
      device: "cpu",
    });
    const results = await evaluator.evaluate([
      {
        key: "conv",
        arch: [
          "nor_conv_3x3",
          "nor_conv_3x3",
          "nor_conv_3x3",
          "nor_conv_3x3",
          "nor_conv_3x3",
          "nor_conv_3x3",
        ],
      },
      { key: "bad", arch: [1, 2, 3] },
      { key: "skip", arch: [1, 1, 1, 1, 1, 1] },
    ]);
    await evaluator.close();
    assert.deepEqual(
      results.map((r) => r.key),
      ["conv", "bad", "skip"],
    );
    assert.equal(results[0].ok, true);
    assert.equal(results[1].ok, false);
    assert.equal(results[2].ok, true);
  });

  test("scores the tiny model's fixed prediction", async () => {
    // The tiny model always predicts class 9, and labels are i % 10.
    const data = await writeDataSet(await tempDir(), { count: 20 });
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: TINY,
      dataDir: data.dir,
      device: "cpu",
    });
    const [result] = await evaluator.evaluate([
      { key: "a", arch: [2, 2, 2, 2, 2, 2] },
    ]);
    await evaluator.close();
    assert.ok(result.ok);
    assert.equal(result.accuracy, 10);
    assert.equal(result.metrics.top5, 50);
    assert.equal(result.metrics.images, 20);
    assert.ok(result.metrics.wallMs >= 0);
    assert.deepEqual(result.report, {});
  });

  test("reports non-finite logits as an error result", async () => {
    const data = await writeDataSet(await tempDir());
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: TINY,
      dataDir: data.dir,
      device: "cpu",
    });
    const [result] = await evaluator.evaluate([
      { key: "none", arch: [0, 0, 0, 0, 0, 0] },
    ]);
    await evaluator.close();
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.error : "",
      /non-finite logits for image 0/,
    );
  });

  test("reports an invalid architecture as an error result", async () => {
    const data = await writeDataSet(await tempDir());
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: TINY,
      dataDir: data.dir,
      device: "cpu",
    });
    const [result] = await evaluator.evaluate([
      { key: "x", arch: ["conv5x5", 1, 1, 1, 1, 1] },
    ]);
    await evaluator.close();
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.error : "",
      /unknown|invalid operation "conv5x5"/,
    );
  });

  test("returns error results after abort", async () => {
    const data = await writeDataSet(await tempDir());
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: TINY,
      dataDir: data.dir,
      device: "cpu",
    });
    const controller = new AbortController();
    controller.abort();
    const results = await evaluator.evaluate(
      [{ key: "a", arch: [1, 1, 1, 1, 1, 1] }],
      {
        signal: controller.signal,
      },
    );
    await evaluator.close();
    assert.equal(results.length, 1);
    assert.equal(results[0].ok, false);
  });
});

describe("OnnxSupernetEvaluator providers", () => {
  test("reports cpu when cpu is requested", async () => {
    const data = await writeDataSet(await tempDir());
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: TINY,
      dataDir: data.dir,
      device: "cpu",
    });
    await evaluator.close();
    assert.equal(evaluator.providerReport.provider, "cpu");
    assert.equal(evaluator.providerReport.requested, "cpu");
    assert.deepEqual(evaluator.providerReport.attempts, [
      { provider: "cpu", ok: true, reason: "session created" },
    ]);
  });

  test("auto ends on a provider and explains skips", async () => {
    const data = await writeDataSet(await tempDir());
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: TINY,
      dataDir: data.dir,
      device: "auto",
    });
    await evaluator.close();
    const report = evaluator.providerReport;
    const last = report.attempts.at(-1)!;
    assert.equal(last.ok, true);
    assert.equal(last.provider, report.provider);
    for (const attempt of report.attempts.slice(0, -1)) {
      assert.equal(attempt.ok, false);
      assert.ok(
        attempt.reason.length > 0,
        `empty reason for ${attempt.provider}`,
      );
    }
    assert.deepEqual(
      report.attempts.map((a) => a.provider),
      ["cuda", "webgpu", "cpu"].slice(0, report.attempts.length),
    );
  });

  test("explicit cuda without the provider raises", async (t) => {
    const cudaLibrary = join(
      ROOT,
      "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so",
    );
    if (
      process.platform !== "linux" ||
      process.arch !== "x64" ||
      existsSync(cudaLibrary)
    ) {
      t.skip("runs only on linux/x64 without the CUDA provider library");
      return;
    }
    const data = await writeDataSet(await tempDir());
    await assertRejects(
      OnnxSupernetEvaluator.create({
        modelPath: TINY,
        dataDir: data.dir,
        device: "cuda",
      }),
      ProviderError,
      [
        "cuda",
        "libonnxruntime_providers_cuda.so",
        "ONNXRUNTIME_NODE_INSTALL=cuda12",
      ],
    );
  });
});

interface TorchFixture {
  images: number;
  batchSize: number;
  subnets: {
    name: string;
    arch: string[];
    ops: number[];
    correct: number;
    top1: number;
    top5Correct: number;
  }[];
}

describe("OnnxSupernetEvaluator bundled supernet", () => {
  const modelPath = join(BUNDLE, "supernet.onnx");
  const fixturePath = join(FIXTURES, "supernet_torch_top1.json");

  test("matches PyTorch top-1 on 500 images", async () => {
    const fixture: TorchFixture = JSON.parse(readFileSync(fixturePath, "utf8"));
    // A copy of the bundled meta.json whose search split is the first 500
    // validation images, the images the PyTorch fixture was computed on.
    const dir = await tempDir();
    const meta = JSON.parse(readFileSync(join(BUNDLE, "meta.json"), "utf8"));
    assert.equal(meta.batchSize, fixture.batchSize);
    meta.splits.search = {
      images: join(BUNDLE, meta.splits.val.images),
      labels: join(BUNDLE, meta.splits.val.labels),
      count: fixture.images,
    };
    await writeFile(join(dir, "meta.json"), JSON.stringify(meta));

    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath,
      dataDir: dir,
      device: "cpu",
      threads: 2,
    });
    const results = await evaluator.evaluate(
      fixture.subnets.map((s) => ({ key: s.name, arch: s.arch })),
    );
    await evaluator.close();
    assert.equal(fixture.subnets.length, 3);
    for (const [i, subnet] of fixture.subnets.entries()) {
      const result = results[i];
      assert.ok(
        result.ok,
        `${subnet.name} failed: ${!result.ok && result.error}`,
      );
      assert.equal(result.metrics.images, fixture.images);
      assert.equal(
        Math.round((result.accuracy * fixture.images) / 100),
        subnet.correct,
        `top-1 of ${subnet.name}`,
      );
      assert.equal(
        Math.round((result.metrics.top5 * fixture.images) / 100),
        subnet.top5Correct,
        `top-5 of ${subnet.name}`,
      );
    }
  });

  test("loads the bundled splits", async () => {
    const meta = JSON.parse(readFileSync(join(BUNDLE, "meta.json"), "utf8"));
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath,
      dataDir: BUNDLE,
      device: "auto",
      threads: 2,
    });
    const [byName, byIndex] = await evaluator.evaluate([
      {
        key: "names",
        arch: [
          "nor_conv_3x3",
          "skip_connect",
          "nor_conv_1x1",
          "none",
          "nor_conv_3x3",
          "avg_pool_3x3",
        ],
      },
      { key: "indices", arch: [3, 1, 2, 0, 3, 4] },
    ]);
    await evaluator.close();
    assert.equal(evaluator.images, meta.splits.search.count);
    assert.equal(evaluator.name, "onnx-supernet:supernet.onnx:search");
    assert.ok(byName.ok, `names failed: ${!byName.ok && byName.error}`);
    assert.ok(byIndex.ok, `indices failed: ${!byIndex.ok && byIndex.error}`);
    assert.equal(byName.accuracy, byIndex.accuracy);
    assert.ok(
      byName.accuracy > 50,
      `accuracy ${byName.accuracy} is near chance`,
    );
  });
});
