import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  getThreadSettings,
  openCheckpointer,
  parseCheckpointLocation,
  type CheckpointLocation,
} from "../graph/checkpointer.ts";
import { UsageError } from "./errors.ts";
import {
  parseSettings,
  readSettingsFile,
  SETTINGS_FILE,
  type SearchSettingsFile,
} from "./search-session.ts";

/** Options of `resume` and `history` that name a search. */
export interface SearchReference {
  out?: string;
  thread?: string;
  checkpoint?: string;
}

/** A search found from its run folder or from its checkpointer and thread. */
export interface LocatedSearch {
  settings: SearchSettingsFile;
  outDir: string;
  /** Null when the search ran with `--checkpoint none`. */
  threadId: string | null;
  location: CheckpointLocation;
  /** Whether the settings came from the checkpointer, as no search.json was read. */
  fromCheckpointer: boolean;
}

/**
 * Finds a search: from DIR/search.json when `out` is given, else from the
 * settings saved with `thread` in the `checkpoint` location. An explicit
 * `thread` or `checkpoint` overrides the one in search.json. Throws
 * `UsageError` when the search cannot be found.
 */
export async function locateSearch(reference: SearchReference): Promise<LocatedSearch> {
  if (reference.out) {
    const outDir = resolve(reference.out);
    const settings = readSettingsFile(outDir);
    const spec = reference.checkpoint ?? settings.checkpoint;
    const location = parseCheckpointLocation(spec, outDir);
    const threadId = location.kind === "none" ? null : (reference.thread ?? settings.threadId);
    if (location.kind !== "none" && threadId === null) {
      throw new UsageError(`${join(outDir, SETTINGS_FILE)} names no thread; pass --thread ID`);
    }
    return { settings, outDir, threadId, location, fromCheckpointer: false };
  }

  if (!reference.thread || !reference.checkpoint) {
    throw new UsageError(
      "name the search with --out DIR (its run folder), or with --thread ID and --checkpoint SPEC",
    );
  }
  const location = parseCheckpointLocation(reference.checkpoint, resolve("."));
  requireCheckpoints(location);
  const opened = await openCheckpointer(location);
  if (!opened) {
    throw new UsageError("--checkpoint none has no threads; pass the search's checkpoint location");
  }
  let saved: Record<string, unknown> | null;
  try {
    saved = await getThreadSettings(opened.saver, reference.thread);
  } finally {
    await opened.close();
  }
  if (!saved) {
    throw new UsageError(
      `thread ${reference.thread} has no saved search settings in ${reference.checkpoint}; ` +
        "check the thread id, or pass the run folder with --out DIR",
    );
  }
  const settings = parseSettings(saved, `settings of thread ${reference.thread}`);
  return {
    settings,
    outDir: settings.outDir,
    threadId: reference.thread,
    location,
    fromCheckpointer: true,
  };
}

/** Throws `UsageError` when a SQLite checkpoint file is missing, instead of creating an empty one. */
export function requireCheckpoints(location: CheckpointLocation): void {
  if (location.kind === "sqlite" && !existsSync(location.path)) {
    throw new UsageError(`checkpoint file ${location.path} not found`);
  }
}
