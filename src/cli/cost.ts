import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { AutoFormerConfigError, loadAutoFormerConfig } from "../spaces/autoformer.ts";
import {
  ArchitectureCostError,
  costOf,
  MACRO_SPACE_NAMES,
  type MacroSpaceOptions,
} from "../spaces/cost.ts";
import { LatencyTableError, loadOfaLatencyTable } from "../spaces/ofa-mbv3.ts";
import type { Cost } from "../spaces/types.ts";
import { UsageError } from "./errors.ts";

export const COST_HELP = `Usage: collm-nas cost --space NAME --arch ARCH [options]

Prints the analytic cost of one architecture as JSON: {"flopsM", "paramsM"}
and "latencyMs" where a latency table applies. FLOPs are millions of
multiply-adds, parameters millions, latency milliseconds. Warnings (values
outside the space's choices) and repairs go to standard error.

Options:
  --space NAME              ${MACRO_SPACE_NAMES.join(", ")}
  --arch ARCH               the architecture's JSON form, or @FILE to read it
  --width 1.0|1.2           OFA MobileNetV3 width multiplier (default 1.2)
  --latency-table FILE      OFA per-layer latency table (JSON); adds latencyMs
  --autoformer-config FILE  AutoFormer supernet YAML (required for autoformer-*)
  -h, --help                this help

Example:
  collm-nas cost --space spos-shufflenet --arch "[2,1,0,1,2,0,2,0,2,0,2,3,0,0,0,0,3,2,3,3]"
`;

/** Output of a command run as a function. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

interface CostArgs {
  space: string;
  arch: string;
  width?: number;
  latencyTable?: string;
  autoformerConfig?: string;
}

/** Reads and checks the options; throws `UsageError` naming the option. */
function parseCostArgs(argv: readonly string[]): CostArgs | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        space: { type: "string" },
        arch: { type: "string" },
        width: { type: "string" },
        "latency-table": { type: "string" },
        "autoformer-config": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see collm-nas cost --help`);
  }
  if (values.help) return "help";
  const { space, arch } = values;
  if (space === undefined) throw new UsageError("missing --space NAME; see collm-nas cost --help");
  if (!(MACRO_SPACE_NAMES as readonly string[]).includes(space)) {
    throw new UsageError(
      `unknown space "${space}" for --space; expected one of: ${MACRO_SPACE_NAMES.join(", ")}`,
    );
  }
  if (arch === undefined) {
    throw new UsageError(
      "missing --arch ARCH (the JSON form, or @FILE); see collm-nas cost --help",
    );
  }

  const isOfa = space === "ofa-mbv3";
  const isAutoFormer = space.startsWith("autoformer-");
  if (!isOfa && values.width !== undefined) {
    throw new UsageError(`--width applies only to --space ofa-mbv3, not "${space}"`);
  }
  if (!isOfa && values["latency-table"] !== undefined) {
    throw new UsageError(`--latency-table applies only to --space ofa-mbv3, not "${space}"`);
  }
  if (!isAutoFormer && values["autoformer-config"] !== undefined) {
    throw new UsageError(
      `--autoformer-config applies only to the autoformer-* spaces, not "${space}"`,
    );
  }
  if (isAutoFormer && values["autoformer-config"] === undefined) {
    throw new UsageError(
      `--space ${space} needs --autoformer-config FILE, ` +
        `a supernet YAML with SUPERNET and SEARCH_SPACE sections`,
    );
  }

  let width: number | undefined;
  if (values.width !== undefined) {
    width = Number(values.width);
    if (values.width.trim() === "" || (width !== 1 && width !== 1.2)) {
      throw new UsageError(`invalid --width "${values.width}"; expected 1.0 or 1.2`);
    }
  }
  return {
    space,
    arch,
    width,
    latencyTable: values["latency-table"],
    autoformerConfig: values["autoformer-config"],
  };
}

/** Reads ARCH: `@FILE` or inline text; JSON when it parses, else the space's string form. */
async function readArchitecture(arch: string): Promise<unknown> {
  let text = arch;
  if (arch.startsWith("@")) {
    const path = arch.slice(1);
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new ArchitectureCostError(
        `cannot read architecture file ${path}: ${(error as Error).message}`,
      );
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    return text.trim();
  }
}

/** Rounds each value to 4 decimals for printing. */
function roundCost(cost: Cost): Cost {
  const out: Cost = {};
  for (const key of ["flopsM", "paramsM", "latencyMs"] as const) {
    const value = cost[key];
    if (value !== undefined) out[key] = Math.round(value * 1e4) / 1e4;
  }
  return out;
}

/**
 * Runs `collm-nas cost`: prints the cost of one architecture as JSON.
 * Exit code 0 on success, 1 when a file or the architecture is invalid, 2
 * for a usage error.
 *
 * @example
 * const { stdout } = await runCost(["--space", "spos-shufflenet", "--arch", "[0,0,...]"]);
 */
export async function runCost(argv: readonly string[]): Promise<CommandOutput> {
  let args: CostArgs | "help";
  try {
    args = parseCostArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      return { stdout: "", stderr: `collm-nas cost: ${error.message}\n`, exitCode: 2 };
    }
    throw error;
  }
  if (args === "help") return { stdout: COST_HELP, stderr: "", exitCode: 0 };

  try {
    const options: MacroSpaceOptions = { width: args.width };
    if (args.latencyTable !== undefined) {
      options.latencyTable = await loadOfaLatencyTable(args.latencyTable);
    }
    if (args.autoformerConfig !== undefined) {
      options.autoformerConfig = await loadAutoFormerConfig(args.autoformerConfig);
    }
    const input = await readArchitecture(args.arch);
    const report = costOf(args.space, input, options);
    const notes = [
      ...report.repairs.map((repair) => `repair: ${repair}`),
      ...report.warnings.map((warning) => `warning: ${warning}`),
    ];
    return {
      stdout: `${JSON.stringify(roundCost(report.cost))}\n`,
      stderr: notes.map((note) => `collm-nas cost: ${note}\n`).join(""),
      exitCode: 0,
    };
  } catch (error) {
    // Files, configurations and architectures the user supplied: report
    // the message without a stack trace. Anything else is a bug.
    const inputErrors = [
      ArchitectureCostError,
      LatencyTableError,
      AutoFormerConfigError,
      RangeError,
    ];
    if (inputErrors.some((type) => error instanceof type)) {
      return { stdout: "", stderr: `collm-nas cost: ${(error as Error).message}\n`, exitCode: 1 };
    }
    throw error;
  }
}
