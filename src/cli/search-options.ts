import { parseArgs } from "node:util";
import { z } from "zod";
import { ConstraintParseError, parseConstraints } from "../spaces/constraints.ts";
import { SPACE_NAMES } from "../spaces/registry.ts";
import { UsageError } from "./errors.ts";

export const SEARCH_HELP = `Usage: collm-nas search [options]

Runs a CoLLM-NAS search (or a baseline) and writes DIR/result.json.

Search space and evaluator:
  --space NAME            search space (default nb201)
  --benchmark FILE        benchmark table CSV to evaluate with
  --dataset NAME          cifar10, cifar100 or imagenet16-120 (default
                          cifar10); picks the default metric column
  --metric COLUMN         search signal column (default: the dataset's
                          200-epoch test accuracy)
  --report COL,...        columns recorded in result.json only, never shown
                          to the search
  --isomorphic on|off     treat cells that compute the same function as one
                          architecture (default on)
  --constraint EXPR       e.g. flops<=100,params<=1.0 (MFLOPs, M params, ms)
  --predictor FILE        ONNX accuracy predictor (ofa-mbv3: OFA's encoding)
  --supernet FILE         ONNX weight-sharing supernet (nb201; default: the
                          bundled Fashion-MNIST supernet when no --benchmark
                          or --predictor is given)
  --data DIR              its data folder with meta.json (default: the
                          supernet's folder)
  --device NAME           auto, cpu, cuda or webgpu (default cpu); auto tries
                          cuda, then webgpu, then cpu
  --threads N             ONNX Runtime intra-op threads (default: its choice,
                          or the machine's cores with --concurrency)
  --concurrency N         candidates of a round evaluated at once (default
                          1); a supernet opens N sessions with --threads / N
                          intra-op threads each; results keep their order
  --width 1.0|1.2         ofa-mbv3 width multiplier (default 1.2)
  --latency-table FILE    ofa-mbv3 per-layer latency table (JSON)
  --autoformer-config F   AutoFormer supernet YAML (autoformer-t|s|b)
  --evaluation-timeout SEC
                          longest time one batch of evaluations may take;
                          its architectures then fail (default: no limit)

Strategy:
  --strategy NAME         collm, random or rea (default collm)
  --llm SPEC              none or openai:MODEL for both roles (default: the
                          COLLM_NAS_LLM variable, else none)
  --navigator-llm SPEC    model of the Navigator only
  --generator-llm SPEC    model of the Generator only
  --base-url URL          OpenAI-compatible endpoint (default OPENAI_BASE_URL);
                          the key comes from OPENAI_API_KEY
  --temperature T         both roles (default 0.6)
  --navigator-temperature T, --generator-temperature T
  --structured-output M   auto, json_schema, tool or text (default auto)
  --llm-timeout SEC       per LLM request (default 120)
  --llm-retries N         retries with backoff per LLM request (default 3)
  --population N          regularized evolution population (default 10)
  --sample-size N         regularized evolution tournament size (default 3)

Budget and stopping:
  --budget N              evaluations (default 100)
  --candidates N          candidates per round (default 10)
  --retries N             Generator retries per round (default 2)
  --target ACC            stop when the best accuracy reaches ACC percent
  --rounds R              stop after R rounds
  --seed S                random seed (default 0)

Checkpoints and review:
  --checkpoint SPEC       where collm searches save a checkpoint after every
                          step, for collm-nas resume and history: sqlite
                          (DIR/checkpoints.sqlite, the default), a SQLite
                          FILE.sqlite or FILE.db, postgres://USER@HOST/DB
                          (the password may come from PGPASSWORD), or none
  --review                after each Navigator strategy, ask on standard
                          input to approve, edit or stop (needs a checkpoint)

Output:
  --out DIR               output directory (default runs/<strategy>-<time>);
                          result.json is rewritten after every round, less
                          often once one rewrite takes over 5 ms
  --json                  print result.json to standard output
  --quiet                 no progress lines
  -h, --help              this help
`;

const positiveInt = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${name} must be a positive integer` })
    .transform(Number)
    .refine((n) => n > 0 && Number.isSafeInteger(n), {
      message: `${name} must be a positive integer`,
    });

const nonNegativeInt = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${name} must be a non-negative integer` })
    .transform(Number)
    .refine(Number.isSafeInteger, { message: `${name} must be a non-negative integer` });

const finite = (name: string, min: number, max: number) =>
  z
    .string()
    // Number("") is 0, so an empty value would pass as zero.
    .transform((text) => (text.trim() === "" ? Number.NaN : Number(text)))
    .refine((n) => Number.isFinite(n) && n >= min && n <= max, {
      message: `${name} must be a number from ${min} to ${max}`,
    });

/** A path option: any non-empty string; the loader checks the file itself. */
const path = (name: string) => z.string().min(1, { message: `${name} must not be empty` });

const constraintExpression = z.string().superRefine((text, context) => {
  if (text.trim() === "") return;
  try {
    parseConstraints(text);
  } catch (error) {
    if (!(error instanceof ConstraintParseError)) throw error;
    context.addIssue({ code: "custom", message: `--constraint: ${error.message}` });
  }
});

const llmSpec = z
  .string()
  .regex(/^(none|openai:.+)$/, { message: "must be none or openai:MODEL" });

const SearchArgs = z.object({
  space: z
    .enum(SPACE_NAMES, { message: `--space must be one of: ${SPACE_NAMES.join(", ")}` })
    .default("nb201"),
  benchmark: path("--benchmark").optional(),
  dataset: z
    .enum(["cifar10", "cifar100", "imagenet16-120"], {
      message: "--dataset must be cifar10, cifar100 or imagenet16-120",
    })
    .default("cifar10"),
  metric: z.string().min(1, { message: "--metric must not be empty" }).optional(),
  report: z
    .string()
    .transform((s) => s.split(",").map((c) => c.trim()).filter((c) => c.length > 0))
    .optional(),
  isomorphic: z.enum(["on", "off"], { message: "--isomorphic must be on or off" }).default("on"),
  constraint: constraintExpression.default(""),
  predictor: path("--predictor").optional(),
  supernet: path("--supernet").optional(),
  data: path("--data").optional(),
  device: z
    .enum(["auto", "cpu", "cuda", "webgpu"], { message: "--device must be auto, cpu, cuda or webgpu" })
    .default("cpu"),
  threads: positiveInt("--threads").optional(),
  concurrency: positiveInt("--concurrency").default(1),
  width: z.enum(["1.0", "1.2", "1"], { message: "--width must be 1.0 or 1.2" }).transform(Number).optional(),
  "latency-table": path("--latency-table").optional(),
  "autoformer-config": path("--autoformer-config").optional(),
  "evaluation-timeout": finite("--evaluation-timeout", 0.001, 604_800).optional(),
  strategy: z
    .enum(["collm", "random", "rea"], { message: "--strategy must be collm, random or rea" })
    .default("collm"),
  llm: llmSpec.optional(),
  "navigator-llm": llmSpec.optional(),
  "generator-llm": llmSpec.optional(),
  "base-url": z
    .url({
      protocol: /^https?$/,
      message: "--base-url must be an http or https URL such as http://127.0.0.1:8000/v1",
    })
    .optional(),
  temperature: finite("--temperature", 0, 2).optional(),
  "navigator-temperature": finite("--navigator-temperature", 0, 2).optional(),
  "generator-temperature": finite("--generator-temperature", 0, 2).optional(),
  "structured-output": z
    .enum(["auto", "json_schema", "tool", "text"], {
      message: "--structured-output must be auto, json_schema, tool or text",
    })
    .default("auto"),
  "llm-timeout": finite("--llm-timeout", 1, 86_400).default(120),
  "llm-retries": nonNegativeInt("--llm-retries").default(3),
  population: positiveInt("--population").optional(),
  "sample-size": positiveInt("--sample-size").optional(),
  budget: positiveInt("--budget").default(100),
  candidates: positiveInt("--candidates").default(10),
  retries: nonNegativeInt("--retries").default(2),
  target: finite("--target", 0, 100).optional(),
  rounds: positiveInt("--rounds").optional(),
  seed: nonNegativeInt("--seed").default(0),
  checkpoint: z.string().min(1, { message: "--checkpoint must not be empty" }).default("sqlite"),
  review: z.boolean().default(false),
  out: path("--out").optional(),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
  help: z.boolean().default(false),
});

export type SearchArgs = z.output<typeof SearchArgs>;

const BOOLEAN_OPTIONS = ["json", "quiet", "help", "review"];

const STRING_OPTIONS = Object.keys(SearchArgs.shape).filter(
  (name) => !BOOLEAN_OPTIONS.includes(name),
);

/**
 * Parses and validates the options of `collm-nas search`. Throws
 * `UsageError` naming the option, the value given and what is expected.
 */
export function parseSearchArgs(argv: readonly string[]): SearchArgs {
  // parseArgs reads "--budget -5" as a missing value; joining the pair
  // lets the validation below report the number itself.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2) : "";
    if (STRING_OPTIONS.includes(name) && /^-\d/.test(argv[i + 1] ?? "")) {
      args.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else {
      args.push(argv[i]);
    }
  }
  let values: Record<string, unknown>;
  try {
    const parsed = parseArgs({
      args,
      options: {
        ...Object.fromEntries(STRING_OPTIONS.map((name) => [name, { type: "string" as const }])),
        json: { type: "boolean" },
        quiet: { type: "boolean" },
        review: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    values = parsed.values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; run collm-nas search --help for the options`);
  }
  const result = SearchArgs.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0];
    const option = String(issue.path[0] ?? "");
    const given = values[option];
    const message = issue.message.startsWith("--") ? issue.message : `--${option} ${issue.message}`;
    throw new UsageError(`${message}, got ${JSON.stringify(given)}`);
  }
  return result.data;
}
