/**
 * Opens the bundled supernet on one execution provider, prints the
 * provider report, then the accuracy and wall time of one subnet on the
 * search split. Exits with status 1 when the provider or the evaluation
 * fails, after printing why.
 *
 * Usage: node --import tsx scripts/gpu-check.ts --device cuda|webgpu|cpu|auto [--bundle DIR]
 */
import { join } from "node:path";
import {
  OnnxSupernetEvaluator,
  type Device,
} from "../src/evaluators/onnx-supernet.ts";

const argv = process.argv.slice(2);
const valueOf = (name: string) => {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
};
const device = (valueOf("--device") ?? "auto") as Device;
const bundle = valueOf("--bundle") ?? "examples/fmnist-nb201";
const arch = [
  "nor_conv_3x3",
  "nor_conv_3x3",
  "nor_conv_3x3",
  "skip_connect",
  "nor_conv_3x3",
  "nor_conv_3x3",
];

try {
  const loadStarted = performance.now();
  const evaluator = await OnnxSupernetEvaluator.create({
    modelPath: join(bundle, "supernet.onnx"),
    dataDir: bundle,
    device,
  });
  const loadMs = performance.now() - loadStarted;
  console.log(`[${device}] provider: ${evaluator.providerReport.provider}`);
  for (const attempt of evaluator.providerReport.attempts) {
    console.log(
      `[${device}]   ${attempt.provider}: ${attempt.ok ? "ok" : "not used"} (${attempt.reason})`,
    );
  }
  console.log(`[${device}] session and data loaded in ${loadMs.toFixed(0)} ms`);
  // The first run includes kernel setup on GPU providers, so it is timed apart.
  const [first] = await evaluator.evaluate([{ key: "first", arch }]);
  const [second] = await evaluator.evaluate([{ key: "second", arch }]);
  await evaluator.close();
  for (const result of [first, second]) {
    if (!result.ok) {
      console.log(
        `[${device}] evaluation ${result.key} failed: ${result.error}`,
      );
      process.exitCode = 1;
      continue;
    }
    console.log(
      `[${device}] evaluation ${result.key}: top-1 ${result.accuracy.toFixed(2)}% ` +
        `top-5 ${result.metrics.top5.toFixed(2)}% on ${result.metrics.images} images ` +
        `in ${result.metrics.wallMs} ms`,
    );
  }
} catch (error) {
  console.log(
    `[${device}] failed: ${(error as Error).name}: ${(error as Error).message}`,
  );
  process.exitCode = 1;
}
