import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderCompareSvg, type ComparedRun } from "../report/compare.ts";
import { readResultFile, ResultFileError } from "../report/read-result.ts";
import { writeFileAtomic } from "../search/result.ts";
import { UsageError } from "./errors.ts";
import type { CommandIO } from "./search.ts";

export const COMPARE_HELP = `Usage: collm-nas compare DIR... [--out FILE.svg]

Overlays the best-so-far accuracy of several searches in one SVG chart,
one step line per run against the number of evaluations, labelled by the
run's strategy and directory. Each DIR is an output directory of
collm-nas search (the path of its result.json works too).

Options:
  --out FILE.svg  chart to write (default: compare.svg in the current directory)
  -h, --help      this help

Example:
  collm-nas compare runs/collm-1 runs/rea-1 runs/random-1 --out compare.svg
`;

/**
 * Runs `collm-nas compare`. Input errors (options, a missing or invalid
 * result file) are printed to standard error with exit code 2.
 *
 * @returns the process exit code
 */
export async function compareCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  try {
    return await compare(argv, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ResultFileError) {
      io.stderr(`collm-nas: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function compare(argv: readonly string[], io: CommandIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see collm-nas compare --help`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(COMPARE_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("missing DIR; pass one or more search output directories");
  }
  if (values.out === "") throw new UsageError("empty --out; pass the path of the SVG file");

  const runs: ComparedRun[] = [];
  for (const directory of positionals) {
    const result = await readResultFile(directory);
    runs.push({ label: result.strategy, detail: directory, result });
  }
  const outPath = resolve(values.out ?? "compare.svg");
  if (existsSync(outPath) && statSync(outPath).isDirectory()) {
    throw new UsageError(`--out ${outPath} is a directory; pass the path of the SVG file`);
  }
  await writeFileAtomic(outPath, renderCompareSvg(runs));
  io.stdout(`Wrote ${outPath} (${runs.length} run${runs.length === 1 ? "" : "s"})\n`);
  return 0;
}
