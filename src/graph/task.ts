import { z } from "zod";
import { ConstraintParseError, parseConstraints } from "../spaces/constraints.ts";
import { SPACE_NAMES } from "../spaces/registry.ts";
import type { SearchTask } from "./state.ts";

function checkConstraints(text: string, context: z.RefinementCtx): void {
  if (text.trim() === "") return;
  try {
    parseConstraints(text);
  } catch (error) {
    if (!(error instanceof ConstraintParseError)) throw error;
    context.addIssue({ code: "custom", message: error.message });
  }
}

/**
 * Settings of a search with their defaults, so that a run started with
 * only some of them set (from LangGraph Studio, say) gets the rest.
 */
export const SearchTaskSchema = z.object({
  space: z.enum(SPACE_NAMES).default("nb201").describe("Search space name"),
  objective: z
    .string()
    .min(1)
    .max(2_000)
    .default("maximize the validation accuracy of the network")
    .describe("What the search maximizes, in words, for the prompts"),
  budget: z.number().int().positive().default(100).describe("Evaluations in all"),
  candidatesPerRound: z.number().int().positive().default(10).describe("Candidates per round"),
  target: z
    .number()
    .min(0)
    .max(100)
    .nullable()
    .default(null)
    .describe("Stop when the best accuracy (percent) reaches this value"),
  maxRounds: z.number().int().positive().nullable().default(null).describe("Round cap"),
  constraints: z
    .string()
    .superRefine(checkConstraints)
    .default("")
    .describe("Constraints such as flops<=100,params<=1.0 (MFLOPs, M params, ms)"),
  maxGeneratorRetries: z
    .number()
    .int()
    .min(0)
    .default(2)
    .describe("Generator calls per round before the round is filled by mutation"),
  seed: z.number().int().min(0).default(0).describe("Random seed"),
  review: z
    .boolean()
    .default(false)
    .describe("Interrupt after each Navigator strategy for a human review (needs a checkpointer)"),
});

/**
 * Fills the defaults of a partial task and validates it. Fields the task
 * leaves out come from `defaults` (a run's configuration) when it sets
 * them, else from `SearchTaskSchema`. Throws a `RangeError` naming the
 * field and the value when a field is invalid, or when the task names a
 * space other than the one in `defaults`.
 */
export function normalizeTask(input: unknown, defaults: Partial<SearchTask> = {}): SearchTask {
  const merged = input === null || input === undefined ? { ...defaults } : withDefaults(input, defaults);
  const result = SearchTaskSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join(".");
    const given = field
      ? JSON.stringify((merged as Record<string, unknown>)?.[field])
      : JSON.stringify(merged);
    throw new RangeError(`invalid search task field "${field}": ${issue.message} (got ${given})`);
  }
  return result.data;
}

/** Adds the defaults a task object leaves out; anything else is returned as given. */
function withDefaults(input: unknown, defaults: Partial<SearchTask>): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  const fields = Object.entries(input).filter(([, value]) => value !== undefined);
  const task: Record<string, unknown> = Object.fromEntries(fields);
  if (task.space !== undefined && defaults.space !== undefined && task.space !== defaults.space) {
    throw new RangeError(
      `search task space ${JSON.stringify(task.space)} differs from the configured space ` +
        `"${defaults.space}"; set the space in the run configuration`,
    );
  }
  return { ...defaults, ...task };
}
