import { EvaluatorInputError } from "../evaluators/errors.ts";
import { ConstraintParseError } from "../spaces/constraints.ts";
import { ModelSpecError } from "../llm/models.ts";
import { UsageError } from "./errors.ts";
import { searchCommand, type CommandIO } from "./search.ts";

const HELP = `Usage: collm-nas <command> [options]

Commands:
  search    run a CoLLM-NAS search or a baseline (collm-nas search --help)

collm-nas searches neural architectures with two LLMs (a Navigator and a
Generator) and a deterministic Coordinator, as a LangGraph.js graph.
`;

/** Errors caused by the user's input: printed without a stack trace. */
const INPUT_ERRORS = [
  UsageError,
  EvaluatorInputError,
  ModelSpecError,
  ConstraintParseError,
  RangeError,
];

/** Runs the CLI and returns the exit code. */
export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "search":
        return await searchCommand(rest, io);
      case undefined:
      case "-h":
      case "--help":
      case "help":
        io.stdout(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"; expected one of: search`);
    }
  } catch (error) {
    if (INPUT_ERRORS.some((type) => error instanceof type)) {
      io.stderr(`collm-nas: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}
