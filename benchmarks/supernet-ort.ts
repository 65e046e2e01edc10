/**
 * onnxruntime-node side of the supernet benchmark. For each subnet listed
 * by supernet/export_subnets.py it measures, on the search split with the
 * contract's batch size and the same threads:
 *
 * - subnet cost: one pass through the supernet (architecture as input)
 *   against one pass through the same subnet exported on its own. The two
 *   are timed in alternation, so load from other processes hits both.
 * - throughput: the supernet's images per second against PyTorch's, read
 *   from the JSON that benchmarks/supernet-torch.py writes.
 * - the evaluator's own wall time per evaluation, which adds the top-1 and
 *   top-5 counting to the runs.
 *
 * Prints Markdown tables. Run through benchmarks/supernet.sh.
 *
 * Usage: node --import tsx benchmarks/supernet-ort.ts --subnets DIR [--torch FILE] [--threads 2] [--repeats 5]
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import {
  loadSupernetSplit,
  OnnxSupernetEvaluator,
  readSupernetMeta,
} from "../src/evaluators/onnx-supernet.ts";

interface Subnet {
  name: string;
  ops: number[];
  arch: string;
  file: string;
}

interface TorchResults {
  torch: string;
  threads: number;
  subnets: Record<
    string,
    { ms: number; imagesPerSecond: number; top1: number }
  >;
}

function option(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const bundle = option("--bundle", "examples/fmnist-nb201")!;
const subnetDir = option("--subnets");
const torchPath = option("--torch");
const threads = Number(option("--threads", "2"));
const repeats = Number(option("--repeats", "5"));
if (!subnetDir) {
  console.error(
    "missing --subnets DIR (the output folder of supernet/export_subnets.py)",
  );
  process.exit(2);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
};

const meta = await readSupernetMeta(join(bundle, "meta.json"));
const { inputs } = await loadSupernetSplit(bundle, meta, "search");
const imageCount = meta.splits.search.count;
const batchSize = meta.batchSize;
const batches: ort.Tensor[] = [];
for (let start = 0; start < imageCount; start += batchSize) {
  const data = inputs.subarray(start * 784, (start + batchSize) * 784);
  batches.push(new ort.Tensor("float32", data, [batchSize, 1, 28, 28]));
}

const sessionOptions: ort.InferenceSession.SessionOptions = {
  executionProviders: ["cpu"],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
  logSeverityLevel: 3,
};
const supernet = await ort.InferenceSession.create(
  join(bundle, "supernet.onnx"),
  sessionOptions,
);
const subnets: Subnet[] = JSON.parse(
  readFileSync(join(subnetDir, "subnets.json"), "utf8"),
);

async function timePass(
  run: (images: ort.Tensor) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  for (const images of batches) await run(images);
  return performance.now() - started;
}

const costRows: string[] = [];
const supernetMs: Record<string, number> = {};
let supernetTotal = 0;
let standaloneTotal = 0;
for (const subnet of subnets) {
  const arch = new ort.Tensor(
    "int64",
    BigInt64Array.from(subnet.ops.map(BigInt)),
    [6],
  );
  const standalone = await ort.InferenceSession.create(
    join(subnetDir, subnet.file),
    sessionOptions,
  );
  const runSupernet = (images: ort.Tensor) => supernet.run({ images, arch });
  const runStandalone = (images: ort.Tensor) => standalone.run({ images });
  await timePass(runSupernet);
  await timePass(runStandalone);
  const superTimes: number[] = [];
  const aloneTimes: number[] = [];
  for (let i = 0; i < repeats; i++) {
    superTimes.push(await timePass(runSupernet));
    aloneTimes.push(await timePass(runStandalone));
  }
  await standalone.release();
  const superMedian = median(superTimes);
  const aloneMedian = median(aloneTimes);
  supernetMs[subnet.name] = superMedian;
  supernetTotal += superMedian;
  standaloneTotal += aloneMedian;
  costRows.push(
    `| ${subnet.name} | \`${subnet.arch}\` | ${superMedian.toFixed(1)} | ` +
      `${aloneMedian.toFixed(1)} | ${(superMedian / aloneMedian).toFixed(2)} |`,
  );
}
await supernet.release();

console.log(
  `Machine: ${cpus().length} CPUs (${cpus()[0].model.trim()}), load average ` +
    `${loadavg()[0].toFixed(2)} at the end; onnxruntime-node ` +
    `${ort.env.versions.common}, ${threads} intra-op threads, ` +
    `${imageCount} images in batches of ${batchSize}, median of ${repeats} passes.\n`,
);
console.log(
  "### Subnet cost: supernet against standalone subnet (ms per pass)\n",
);
console.log("| subnet | cell | supernet | standalone | ratio |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of costRows) console.log(row);
console.log(
  `| all | | ${supernetTotal.toFixed(1)} | ${standaloneTotal.toFixed(1)} | ` +
    `${(supernetTotal / standaloneTotal).toFixed(2)} |\n`,
);

if (torchPath) {
  const torch: TorchResults = JSON.parse(readFileSync(torchPath, "utf8"));
  let torchTotal = 0;
  console.log(
    `### Throughput: onnxruntime-node supernet against PyTorch ${torch.torch} (images/s)\n`,
  );
  console.log("| subnet | onnxruntime-node | PyTorch | ratio |");
  console.log("| --- | --- | --- | --- |");
  for (const subnet of subnets) {
    const theirs = torch.subnets[subnet.name];
    const ours = (imageCount / supernetMs[subnet.name]) * 1000;
    torchTotal += theirs.ms;
    console.log(
      `| ${subnet.name} | ${ours.toFixed(0)} | ${theirs.imagesPerSecond.toFixed(0)} | ` +
        `${(ours / theirs.imagesPerSecond).toFixed(2)} |`,
    );
  }
  const oursAll = (imageCount * subnets.length * 1000) / supernetTotal;
  const theirsAll = (imageCount * subnets.length * 1000) / torchTotal;
  console.log(
    `| all | ${oursAll.toFixed(0)} | ${theirsAll.toFixed(0)} | ${(oursAll / theirsAll).toFixed(2)} |\n`,
  );
}

// End-to-end evaluator time: what one search evaluation costs.
const evaluator = await OnnxSupernetEvaluator.create({
  modelPath: join(bundle, "supernet.onnx"),
  dataDir: bundle,
  device: "cpu",
  threads,
  // Spinning as in the raw sessions above, which keep onnxruntime's default.
  spinning: true,
});
await evaluator.evaluate([{ key: "warm-up", arch: subnets[0].ops }]);
const results = await evaluator.evaluate(
  subnets.map((s) => ({ key: s.name, arch: s.ops })),
);
await evaluator.close();
console.log("### Evaluator: one evaluation on the search split\n");
console.log("| subnet | top-1 (%) | wall ms |");
console.log("| --- | --- | --- |");
let wallTotal = 0;
for (const result of results) {
  if (!result.ok) {
    console.log(`| ${result.key} | failed: ${result.error} | |`);
    continue;
  }
  wallTotal += result.metrics.wallMs;
  console.log(
    `| ${result.key} | ${result.accuracy.toFixed(2)} | ${result.metrics.wallMs} |`,
  );
}
console.log(`| mean | | ${(wallTotal / results.length).toFixed(0)} |`);
