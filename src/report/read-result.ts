import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { SearchResultFile } from "../search/result.ts";

/** A result file that is missing, unreadable or not a search result. */
export class ResultFileError extends Error {
  override name = "ResultFileError";
}

/** Metrics as JSON stores them: a NaN was written as null, read back as absent. */
const metrics = z
  .record(z.string(), z.number().nullable())
  .transform((record) =>
    Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null)),
  ) as z.ZodType<Record<string, number>>;

const roleUsage = z.object({
  calls: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
});

/** Schema of result.json as `buildResult` writes it; unknown fields pass through. */
const resultSchema = z.looseObject({
  strategy: z.string(),
  space: z.string(),
  budget: z.number(),
  evaluations: z.number(),
  stopReason: z.string(),
  llm: z.union([
    z.null(),
    z.literal("offline"),
    z.object({ navigator: z.string(), generator: z.string() }),
  ]),
  settings: z.record(z.string(), z.unknown()),
  best: z
    .object({
      arch: z.unknown(),
      round: z.number(),
      metrics,
      report: z.record(z.string(), z.number()),
    })
    .nullable(),
  history: z.array(
    z.object({
      round: z.number(),
      arch: z.unknown(),
      metrics,
      report: z.record(z.string(), z.number()).optional(),
      source: z.string(),
      repairs: z.array(z.string()).optional(),
      error: z.string().optional(),
    }),
  ),
  strategies: z.array(
    z.object({
      round: z.number(),
      strategy: z.string(),
      author: z.enum(["llm", "offline", "offline fallback"]),
    }),
  ),
  rejections: z.array(z.object({ round: z.number(), proposal: z.string(), reason: z.string() })),
  fallbacks: z.array(
    z.object({ round: z.number(), role: z.enum(["navigator", "generator"]), error: z.string() }),
  ),
  usage: z.object({ navigator: roleUsage, generator: roleUsage }).nullable(),
  usageByRound: z
    .array(z.object({ round: z.number(), navigator: roleUsage, generator: roleUsage }))
    .nullable()
    .optional(),
});

/**
 * Reads and validates the result of a search.
 *
 * @param location a search output directory containing result.json, or the
 *   path of a result file
 * @throws ResultFileError naming the file when it is missing, unreadable,
 *   not JSON, or lacks a field of a search result
 */
export async function readResultFile(location: string): Promise<SearchResultFile> {
  const path = await resolveResultPath(location);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ResultFileError(`failed to read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ResultFileError(`invalid JSON in ${path}: ${(error as Error).message}`);
  }
  const parsed = resultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length > 0 ? issue.path.join(".") : "the top level";
    const problem = valueAt(json, issue.path) === undefined ? "missing" : issue.message;
    throw new ResultFileError(
      `invalid search result in ${path}: ${field}: ${problem}; ` +
        "expected the result.json written by collm-nas search",
    );
  }
  return parsed.data as SearchResultFile;
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let value = json;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

async function resolveResultPath(location: string): Promise<string> {
  let stats;
  try {
    stats = await stat(location);
  } catch {
    throw new ResultFileError(`${location} not found; pass a search output directory`);
  }
  if (!stats.isDirectory()) return location;
  const path = join(location, "result.json");
  try {
    await stat(path);
  } catch {
    throw new ResultFileError(
      `no result.json in ${location}; pass a directory written by collm-nas search --out`,
    );
  }
  return path;
}
