import { z } from "zod";
import { taskDefaultFields } from "./configuration.ts";
import { SearchTaskSchema } from "./task.ts";

/**
 * Makes a task field optional and drops its default, so that a field the
 * input leaves out stays out and the run's configuration can fill it. The
 * description names the default instead.
 */
function optionalTaskField(name: string, field: z.ZodType): z.ZodType {
  const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
  const fallback =
    field instanceof z.ZodDefault ? JSON.stringify(field.def.defaultValue) : "none";
  const configured = (taskDefaultFields as readonly string[]).includes(name)
    ? `the configuration's ${name}, else ${fallback}`
    : fallback;
  return inner.optional().describe(`${field.description}. Default: ${configured}`);
}

const taskInputFields = Object.fromEntries(
  Object.entries(SearchTaskSchema.shape).map(([name, field]) => [
    name,
    optionalTaskField(name, field as z.ZodType),
  ]),
);

/**
 * Input of the served graph: the search task, every field optional. A run
 * started with no input searches with the configuration's settings.
 */
export const SearchInputSchema = z.object({
  task: z
    .object(taskInputFields)
    .optional()
    .describe("Settings of the search; fields left out come from the configuration"),
});

const EvaluationRecordSchema = z.object({
  round: z.number().int().describe("Round of the evaluation, from 1"),
  key: z.string().describe("Canonical key of the architecture"),
  arch: z.unknown().describe("The architecture in the search space's JSON form"),
  source: z.string().describe("Where the candidate came from, e.g. generator or fallback mutation"),
  metrics: z
    .record(z.string(), z.number())
    .describe("Search signal (accuracy, percent) and cost (MFLOPs, M params, ms)"),
  report: z.record(z.string(), z.number()).describe("Report-only metrics, never shown to the search"),
  repairs: z.array(z.string()).optional().describe("Repairs the Coordinator applied"),
  error: z.string().optional().describe("Why the evaluation failed"),
});

const RoleUsageSchema = z.object({
  calls: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
});

/** Output of the served graph: the results of the search. */
export const SearchOutputSchema = z.object({
  best: z
    .object({
      key: z.string(),
      arch: z.unknown(),
      accuracy: z.number().describe("Accuracy in percent"),
      round: z.number().int(),
    })
    .nullable()
    .describe("Best architecture so far"),
  history: z.array(EvaluationRecordSchema).describe("Every evaluation, in order"),
  strategies: z
    .array(
      z.object({
        round: z.number().int(),
        strategy: z.string(),
        author: z.enum(["llm", "offline", "offline fallback", "reviewer"]),
      }),
    )
    .describe("The Navigator's strategy of every round and who wrote it"),
  stopReason: z.string().nullable().describe("Why the search stopped; null while it runs"),
  usage: z
    .object({ navigator: RoleUsageSchema, generator: RoleUsageSchema })
    .describe("LLM calls and tokens per role"),
  roundUsage: z
    .array(
      z.object({
        round: z.number().int(),
        role: z.enum(["navigator", "generator"]),
        promptTokens: z.number(),
        completionTokens: z.number(),
      }),
    )
    .describe("Prompt and completion tokens of every LLM call, with its round"),
  rejections: z
    .array(z.object({ round: z.number().int(), proposal: z.string(), reason: z.string() }))
    .describe("Proposals the Coordinator rejected, with the reason"),
  fallbacks: z
    .array(z.object({ round: z.number().int(), role: z.string(), error: z.string() }))
    .describe("LLM calls replaced by the offline policy"),
});
