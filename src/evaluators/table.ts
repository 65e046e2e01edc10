import { readFile, stat } from "node:fs/promises";
import { EvaluatorInputError } from "./errors.ts";
import type {
  EvaluationRequest,
  EvaluationResult,
  Evaluator,
} from "./types.ts";

/** Default columns per dataset of the NAS-Bench-201 table. */
export const NB201_DATASET_COLUMNS: Record<
  string,
  { test: string; valid12: string; test12: string }
> = {
  cifar10: {
    test: "cifar10_test_acc",
    valid12: "cifar10_valid_acc_hp12",
    test12: "cifar10_test_acc_hp12",
  },
  cifar100: {
    test: "cifar100_test_acc",
    valid12: "cifar100_valid_acc_hp12",
    test12: "cifar100_test_acc_hp12",
  },
  "imagenet16-120": {
    test: "imagenet16_120_test_acc",
    valid12: "imagenet16_120_valid_acc_hp12",
    test12: "imagenet16_120_test_acc_hp12",
  },
};

export interface TableEvaluatorOptions {
  /** CSV file with a header row. */
  path: string;
  /** Column with the architecture string. */
  archColumn?: string;
  /** Column used as the search signal (percent). */
  metric: string;
  /** Columns recorded in results only, never shown to the search. */
  report?: readonly string[];
  /**
   * Turns a request's architecture into the table's string form. The
   * default expects a string.
   */
  toTableKey?: (arch: unknown) => string;
}

/**
 * A benchmark table as an evaluator: each query looks one architecture up.
 * The whole CSV is read once, and only the needed columns are kept.
 */
export class TableEvaluator implements Evaluator {
  readonly name: string;
  readonly rows: number;
  private readonly metricByArch: Map<string, number>;
  private readonly reportByArch: Map<string, Record<string, number>>;
  private readonly toTableKey: (arch: unknown) => string;

  private constructor(
    options: TableEvaluatorOptions,
    metricByArch: Map<string, number>,
    reportByArch: Map<string, Record<string, number>>,
  ) {
    this.name = `table:${options.metric}`;
    this.rows = metricByArch.size;
    this.metricByArch = metricByArch;
    this.reportByArch = reportByArch;
    this.toTableKey = options.toTableKey ?? ((arch) => String(arch));
  }

  /**
   * Loads a table. Throws `EvaluatorInputError` naming the file, column or
   * cell when the file is missing, a column is absent or a cell is not a
   * number.
   */
  static async load(options: TableEvaluatorOptions): Promise<TableEvaluator> {
    const text = await readTableFile(options.path);
    const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
    if (lines.length < 2) {
      throw new EvaluatorInputError(
        `benchmark table ${options.path} has no data rows; expected a header and one row per architecture`,
      );
    }
    const header = lines[0].split(",").map((name) => name.trim());
    const archColumn = options.archColumn ?? "arch_str";
    const report = [...(options.report ?? [])];
    const column = (name: string, role: string) => {
      const index = header.indexOf(name);
      if (index < 0) {
        throw new EvaluatorInputError(
          `column "${name}" (${role}) not found in ${options.path}; ` +
            `available: ${header.join(", ")}`,
        );
      }
      return index;
    };
    const archIndex = column(archColumn, "architecture");
    const metricIndex = column(options.metric, "metric");
    const reportIndex = report.map((name) => column(name, "report"));

    const metricByArch = new Map<string, number>();
    const reportByArch = new Map<string, Record<string, number>>();
    for (let row = 1; row < lines.length; row++) {
      const cells = lines[row].split(",");
      const number = (index: number, name: string) => {
        const value = Number(cells[index]);
        if (cells[index] === undefined || cells[index].trim() === "" || !Number.isFinite(value)) {
          throw new EvaluatorInputError(
            `${options.path} line ${row + 1}, column "${name}": ` +
              `"${cells[index] ?? ""}" is not a number`,
          );
        }
        return value;
      };
      const arch = cells[archIndex]?.trim();
      if (!arch) {
        throw new EvaluatorInputError(
          `${options.path} line ${row + 1}: empty architecture in column "${archColumn}"`,
        );
      }
      metricByArch.set(arch, number(metricIndex, options.metric));
      const values: Record<string, number> = {};
      report.forEach((name, i) => {
        values[name] = number(reportIndex[i], name);
      });
      reportByArch.set(arch, values);
    }
    return new TableEvaluator(options, metricByArch, reportByArch);
  }

  async evaluate(
    requests: readonly EvaluationRequest[],
  ): Promise<EvaluationResult[]> {
    return requests.map((request) => {
      let tableKey: string;
      try {
        tableKey = this.toTableKey(request.arch);
      } catch (error) {
        return { key: request.key, ok: false, error: String(error) };
      }
      const accuracy = this.metricByArch.get(tableKey);
      if (accuracy === undefined) {
        return {
          key: request.key,
          ok: false,
          error: `architecture ${tableKey} not found in the benchmark table`,
        };
      }
      return {
        key: request.key,
        ok: true,
        accuracy,
        metrics: {},
        report: { ...this.reportByArch.get(tableKey) },
      };
    });
  }
}

async function readTableFile(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      throw new EvaluatorInputError(
        `benchmark table ${path} cannot be accessed (${code ?? error}); check the permissions of its directories`,
      );
    }
    throw new EvaluatorInputError(
      `benchmark table ${path} not found; pass an existing CSV file with --benchmark`,
    );
  }
  if (info.isDirectory()) {
    throw new EvaluatorInputError(
      `benchmark table ${path} is a directory; pass a CSV file with --benchmark`,
    );
  }
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new EvaluatorInputError(
      `benchmark table ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? error}); check its permissions`,
    );
  }
}
