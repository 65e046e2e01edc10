import { EvaluatorInputError } from "../evaluators/errors.ts";
import { ConstraintParseError } from "../spaces/constraints.ts";
import { AutoFormerConfigError } from "../spaces/autoformer.ts";
import { LatencyTableError } from "../spaces/ofa-mbv3.ts";
import { runCost } from "./cost.ts";
import { compareCommand } from "./compare.ts";
import { ModelSpecError } from "../llm/models.ts";
import { UsageError } from "./errors.ts";
import { CheckpointerError } from "../graph/checkpointer.ts";
import { historyCommand } from "./history.ts";
import { resumeCommand } from "./resume.ts";
import { ReviewInputClosedError } from "./review-prompt.ts";
import { searchCommand, type CommandIO } from "./search.ts";

const HELP = `Usage: collm-nas <command> [options]

Commands:
  search    run a CoLLM-NAS search or a baseline (collm-nas search --help)
  cost      print the FLOPs, params and latency of one architecture
  compare   overlay the best-so-far curves of several runs in one SVG
  resume    continue an interrupted search from its last checkpoint
  history   list the rounds of a search with their strategies

collm-nas searches neural architectures with two LLMs (a Navigator and a
Generator) and a deterministic Coordinator, as a LangGraph.js graph.
`;

/** Errors caused by the user's input: printed without a stack trace. */
const INPUT_ERRORS = [
  UsageError,
  EvaluatorInputError,
  ModelSpecError,
  ConstraintParseError,
  AutoFormerConfigError,
  LatencyTableError,
  CheckpointerError,
  ReviewInputClosedError,
  RangeError,
];

/** Exit code of a command stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2. */
export const EXIT_INTERRUPTED = 130;

/** Runs the CLI and returns the exit code. */
export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "search":
        return await searchCommand(rest, io);
      case "compare":
        return await compareCommand(rest, io);
      case "resume":
        return await resumeCommand(rest, io);
      case "history":
        return await historyCommand(rest, io);
      case "cost": {
        const output = await runCost(rest);
        if (output.stdout) io.stdout(output.stdout);
        if (output.stderr) io.stderr(output.stderr);
        return output.exitCode;
      }
      case undefined:
      case "-h":
      case "--help":
      case "help":
        io.stdout(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"; expected one of: search, cost, compare, resume, history`);
    }
  } catch (error) {
    if (io.signal?.aborted) {
      io.stderr("collm-nas: interrupted\n");
      return EXIT_INTERRUPTED;
    }
    if (INPUT_ERRORS.some((type) => error instanceof type)) {
      io.stderr(`collm-nas: ${(error as Error).message}\n`);
      return 2;
    }
    // A damaged checkpoint database or state file is the user's data, not
    // a bug, so the message names it without a stack trace.
    if ((error as Error)?.name === "SqliteError") {
      io.stderr(
        `collm-nas: the checkpoint database cannot be read (${(error as Error).message}); ` +
          `restore checkpoints.sqlite from a copy, or start a new search with another --out\n`,
      );
      return 2;
    }
    if (error instanceof SyntaxError && ["resume", "history", "compare"].includes(command ?? "")) {
      io.stderr(
        `collm-nas: a file of the search folder is not valid JSON (${error.message}); ` +
          `check search.json and result.json, or start a new search\n`,
      );
      return 2;
    }
    throw error;
  }
}
