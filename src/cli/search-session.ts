import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import {
  describeLocation,
  openCheckpointer,
  parseCheckpointLocation,
  putThreadSettings,
  redactUrl,
  type CheckpointLocation,
} from "../graph/checkpointer.ts";
import { writeFileAtomic } from "../search/result.ts";
import { UsageError } from "./errors.ts";
import type { SearchArgs } from "./search-options.ts";

/** File name of the settings file inside a run directory. */
export const SETTINGS_FILE = "search.json";

/**
 * The settings file DIR/search.json, written when a search starts. It
 * contains what a resume needs to rebuild the same search: the search
 * options (never an API key, which comes from the environment), where the
 * checkpoints are and the thread id.
 */
export interface SearchSettingsFile {
  /** Format version of this file. */
  version: 1;
  /** Thread of the checkpointed search; null without a checkpointer. */
  threadId: string | null;
  /** `--checkpoint` value, without a password in a URL. */
  checkpoint: string;
  outDir: string;
  /** Search options by name, as `collm-nas search --NAME VALUE` takes them. */
  options: Record<string, string | number | boolean | string[]>;
}

/** Options that describe one invocation, not the search; they are not stored. */
const INVOCATION_OPTIONS = new Set(["out", "json", "quiet", "help", "checkpoint"]);

/** Options that name files; stored as absolute paths, so a resume finds them from any folder. */
const PATH_OPTIONS = new Set(["benchmark", "predictor", "latency-table", "autoformer-config"]);

/** The checkpointed thread a resumed search continues. */
export interface ResumeTarget {
  threadId: string;
  location: CheckpointLocation;
}

/** The checkpointer and thread of one search run. */
export interface SearchSession {
  threadId?: string;
  saver?: BaseCheckpointSaver;
  /** Entries for the settings of result.json. */
  resultSettings: { threadId: string | null; checkpoint: string };
  close(): Promise<void>;
}

/**
 * Opens the checkpointer of a search and writes DIR/search.json. A new
 * search gets a new thread id; a resumed one keeps its thread and its
 * settings file. Baselines run without a checkpointer.
 */
export async function openSearchSession(
  args: SearchArgs,
  outDir: string,
  resume?: ResumeTarget,
): Promise<SearchSession> {
  const location =
    resume?.location ??
    (args.strategy === "collm"
      ? parseCheckpointLocation(args.checkpoint, outDir)
      : ({ kind: "none" } as const));
  if (args.review && args.strategy !== "collm") {
    throw new UsageError(`--review needs --strategy collm, not ${args.strategy}`);
  }
  if (args.review && location.kind === "none") {
    throw new UsageError("--review needs a checkpointer; drop --checkpoint none");
  }

  const threadId = location.kind === "none" ? null : (resume?.threadId ?? randomUUID());
  const settings = settingsFile(args, outDir, threadId, location);
  const settingsPath = join(outDir, SETTINGS_FILE);
  if (!resume || !existsSync(settingsPath)) {
    await writeFileAtomic(settingsPath, `${JSON.stringify(settings, null, 2)}\n`);
  }

  const opened = await openCheckpointer(location);
  if (opened && threadId && !resume) {
    await putThreadSettings(opened.saver, threadId, { ...settings });
  }
  return {
    threadId: threadId ?? undefined,
    saver: opened?.saver,
    resultSettings: { threadId, checkpoint: describeLocation(location) },
    close: async () => {
      await opened?.close();
    },
  };
}

function settingsFile(
  args: SearchArgs,
  outDir: string,
  threadId: string | null,
  location: CheckpointLocation,
): SearchSettingsFile {
  const options: SearchSettingsFile["options"] = {};
  for (const [name, value] of Object.entries(args)) {
    if (INVOCATION_OPTIONS.has(name) || value === undefined) continue;
    options[name] = PATH_OPTIONS.has(name) ? resolve(String(value)) : value;
  }
  return {
    version: 1,
    threadId,
    checkpoint: checkpointSpec(args.checkpoint, location),
    outDir,
    options,
  };
}

/**
 * Returns the `--checkpoint` value that names a location again, without a
 * password. The default stays "sqlite", so it follows a moved run folder.
 */
function checkpointSpec(spec: string, location: CheckpointLocation): string {
  if (location.kind === "postgres") return redactUrl(location.url);
  if (location.kind === "sqlite") return spec === "sqlite" ? spec : location.path;
  return "none";
}

/**
 * Writes the result so far atomically (a temporary file renamed over the
 * target). It writes synchronously: a search on a benchmark table runs
 * its steps as one chain of promise callbacks, which would hold back the
 * callbacks of an asynchronous write until the search ends.
 */
export function writePartialResult(path: string, result: unknown): void {
  const temporary = join(dirname(path), `.result-${process.pid}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(temporary, path);
}

/**
 * Reads DIR/search.json. Throws `UsageError` when it is missing or is not
 * a settings file of this version.
 */
export function readSettingsFile(outDir: string): SearchSettingsFile {
  const path = join(outDir, SETTINGS_FILE);
  if (!existsSync(path)) {
    throw new UsageError(
      `${path} not found; pass the --out directory of a search started by collm-nas search`,
    );
  }
  return parseSettings(JSON.parse(readFileSync(path, "utf8")), path);
}

/** Checks settings read from a file or a checkpointer. */
export function parseSettings(value: unknown, source: string): SearchSettingsFile {
  const settings = value as Partial<SearchSettingsFile> | null;
  if (
    !settings ||
    settings.version !== 1 ||
    typeof settings.checkpoint !== "string" ||
    typeof settings.outDir !== "string" ||
    typeof settings.options !== "object" ||
    settings.options === null
  ) {
    throw new UsageError(`${source} is not a collm-nas search settings file of version 1`);
  }
  return settings as SearchSettingsFile;
}

/**
 * Turns stored options back into `collm-nas search` arguments, so that a
 * resume parses and validates them as a new search would.
 */
export function settingsToArgv(settings: SearchSettingsFile): string[] {
  const argv: string[] = [];
  for (const [name, value] of Object.entries(settings.options)) {
    if (typeof value === "boolean") {
      if (value) argv.push(`--${name}`);
    } else if (Array.isArray(value)) {
      if (value.length > 0) argv.push(`--${name}=${value.join(",")}`);
    } else {
      argv.push(`--${name}=${value}`);
    }
  }
  return argv;
}
