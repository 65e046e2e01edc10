import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  emptyCheckpoint,
  type BaseCheckpointSaver,
  type Checkpoint,
  type CheckpointMetadata,
} from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import Database from "better-sqlite3";
import { AppendLogSqliteSaver } from "./append-log-saver.ts";
import { APPEND_CHANNELS } from "./state.ts";

/** File name of the default SQLite checkpointer inside a run directory. */
export const SQLITE_FILE = "checkpoints.sqlite";

/** Location of a search's checkpoints. */
export type CheckpointLocation =
  | { kind: "none" }
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string };

/** A checkpointer ready for a graph, with the connection to release. */
export interface OpenCheckpointer {
  saver: BaseCheckpointSaver;
  location: CheckpointLocation;
  close(): Promise<void>;
}

/**
 * Parses a `--checkpoint` value: "sqlite" (the default file in `outDir`),
 * "none", a postgres:// or postgresql:// URL, or the path of a SQLite file
 * ending in .sqlite, .sqlite3 or .db. Throws a `RangeError` naming the
 * value otherwise.
 */
export function parseCheckpointLocation(spec: string, outDir: string): CheckpointLocation {
  if (spec === "none") return { kind: "none" };
  if (spec === "sqlite") return { kind: "sqlite", path: join(outDir, SQLITE_FILE) };
  if (/^postgres(ql)?:\/\//.test(spec)) {
    try {
      new URL(spec);
    } catch {
      throw new RangeError(`invalid PostgreSQL URL "${redactUrl(spec)}"`);
    }
    return { kind: "postgres", url: spec };
  }
  if (/\.(sqlite3?|db)$/.test(spec)) return { kind: "sqlite", path: resolve(spec) };
  throw new RangeError(
    `invalid checkpoint "${redactUrl(spec)}"; expected sqlite, none, ` +
      "a postgres://USER@HOST:PORT/DB URL or a SQLite file ending in .sqlite or .db",
  );
}

/**
 * Returns a URL without its password, for logs and files. The PostgreSQL
 * client still connects with such a URL when PGPASSWORD or ~/.pgpass
 * supplies the password.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1@");
  }
}

/** Describes a location for people: a file path or a URL without its password. */
export function describeLocation(location: CheckpointLocation): string {
  if (location.kind === "none") return "none";
  if (location.kind === "sqlite") return location.path;
  return redactUrl(location.url);
}

/**
 * Opens the checkpointer of a location, creating the SQLite file and its
 * folder or the PostgreSQL tables when missing. Returns null for "none".
 */
export async function openCheckpointer(
  location: CheckpointLocation,
): Promise<OpenCheckpointer | null> {
  if (location.kind === "none") return null;

  if (location.kind === "sqlite") {
    mkdirSync(dirname(location.path), { recursive: true });
    const saver = new PrunedSqliteSaver(new Database(location.path), APPEND_CHANNELS);
    return {
      saver,
      location,
      close: async () => {
        saver.db.close();
      },
    };
  }

  const saver = PostgresSaver.fromConnString(location.url);
  try {
    await saver.setup();
  } catch (error) {
    await saver.end().catch(() => undefined);
    throw new CheckpointerError(
      `failed to open the PostgreSQL checkpointer at ${redactUrl(location.url)}: ` +
        `${(error as Error).message}; check the URL, that the server runs, and the password ` +
        "(in the URL, PGPASSWORD or ~/.pgpass)",
    );
  }
  return { saver, location, close: () => saver.end() };
}

/**
 * SQLite checkpointer that keeps only the newest checkpoint of each thread
 * and its parent, with their pending writes. That is all a resume reads,
 * and the search state contains the whole history, but `getStateHistory`
 * lists only these two checkpoints. The append-only channels are stored
 * as segments (see `AppendLogSqliteSaver`), which pruning keeps.
 *
 * NOTE: `SqliteSaver` stores the full state in every checkpoint, about six
 * per round, so keeping them all grows with the square of the budget: an
 * offline NB201 search of 1,000 evaluations at 10 per round left a 162 MB
 * file (measured with @langchain/langgraph-checkpoint-sqlite 1.0.4).
 */
class PrunedSqliteSaver extends AppendLogSqliteSaver {
  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
  ): Promise<RunnableConfig> {
    const saved = await super.put(config, checkpoint, metadata);
    const parentId = config.configurable?.checkpoint_id;
    if (typeof parentId === "string") {
      const thread = config.configurable?.thread_id;
      const namespace = config.configurable?.checkpoint_ns ?? "";
      // Checkpoint ids are time-ordered UUIDv6 strings, as SqliteSaver's
      // own "latest checkpoint" query assumes.
      this.db.transaction(() => {
        for (const table of ["checkpoints", "writes"]) {
          this.db
            .prepare(
              `DELETE FROM ${table} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?`,
            )
            .run(thread, namespace, parentId);
        }
      })();
    }
    return saved;
  }
}

/** A checkpointer that cannot be opened, such as an unreachable PostgreSQL server. */
export class CheckpointerError extends Error {
  override name = "CheckpointerError";
}

/**
 * Thread that stores the settings of a search thread. The settings live in
 * the metadata of its only checkpoint, so a search can be resumed from the
 * checkpointer alone, without the run directory.
 */
function settingsThreadId(threadId: string): string {
  return `${threadId}:settings`;
}

/** Saves JSON settings of a search thread in the checkpointer. */
export async function putThreadSettings(
  saver: BaseCheckpointSaver,
  threadId: string,
  settings: Record<string, unknown>,
): Promise<void> {
  const metadata: CheckpointMetadata<{ settings: Record<string, unknown> }> = {
    source: "input",
    step: -1,
    parents: {},
    settings,
  };
  await saver.put(
    { configurable: { thread_id: settingsThreadId(threadId), checkpoint_ns: "" } },
    emptyCheckpoint(),
    metadata,
    {},
  );
}

/** Reads the settings saved by `putThreadSettings`; null when there are none. */
export async function getThreadSettings(
  saver: BaseCheckpointSaver,
  threadId: string,
): Promise<Record<string, unknown> | null> {
  const tuple = await saver.getTuple({
    configurable: { thread_id: settingsThreadId(threadId), checkpoint_ns: "" },
  });
  const settings = (tuple?.metadata as { settings?: unknown } | undefined)?.settings;
  return settings && typeof settings === "object" ? (settings as Record<string, unknown>) : null;
}
