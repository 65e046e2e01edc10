import { randomUUID } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint, CheckpointMetadata, CheckpointTuple } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type Database from "better-sqlite3";

type ChannelVersions = Checkpoint["channel_versions"];
type CheckpointListOptions = Parameters<SqliteSaver["list"]>[1];

/** Key that marks a channel value stored as segments in place of the array. */
const SEGMENT_REFERENCE = "__appendLogSegment";

/** Reference to the latest segment of an append-only channel, stored in a checkpoint. */
interface SegmentReference {
  [SEGMENT_REFERENCE]: string;
  length: number;
}

/** The items of a channel already stored, as the latest segment ends them. */
interface StoredTail {
  segment: string;
  length: number;
  first: unknown;
  last: unknown;
}

/**
 * SQLite checkpointer that stores the channels named in `appendChannels`
 * (arrays that only grow at the end, such as a search's history) as a
 * chain of segments, each with the items added since the previous one. A
 * checkpoint then contains a reference to its channel's latest segment in
 * place of the whole array, so saving a step costs the size of what the
 * step added, not the size of the history.
 *
 * A saver recognizes items it stored by object identity: an array whose
 * first item and item at the stored length are the objects it stored last
 * is saved as a new segment of the items after them. Any other array, as
 * after a fork, is saved whole as a segment with no parent, so segments
 * are never changed once written. Items must not be changed in place
 * after they are saved.
 *
 * NOTE: a checkpoint written by this saver contains references in place
 * of those channels, so a plain `SqliteSaver` cannot read it. Checkpoints
 * written by a plain `SqliteSaver` are read unchanged.
 */
export class AppendLogSqliteSaver extends SqliteSaver {
  private readonly tails = new Map<string, StoredTail>();
  private segmentsReady = false;

  constructor(
    db: Database.Database,
    private readonly appendChannels: readonly string[],
  ) {
    super(db);
  }

  protected override setup(): void {
    super.setup();
    if (this.segmentsReady) return;
    this.db.exec(`
CREATE TABLE IF NOT EXISTS append_segments (
  thread_id TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  parent_segment_id TEXT,
  start INTEGER NOT NULL,
  type TEXT,
  items BLOB,
  PRIMARY KEY (thread_id, checkpoint_ns, channel, segment_id)
);`);
    this.segmentsReady = true;
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    _newVersions?: ChannelVersions,
  ): Promise<RunnableConfig> {
    const thread = config.configurable?.thread_id;
    // Without a thread the parent class raises its own error.
    if (typeof thread !== "string") return super.put(config, checkpoint, metadata);
    this.setup();
    const namespace: string = config.configurable?.checkpoint_ns ?? "";
    const values = { ...checkpoint.channel_values };
    for (const channel of this.appendChannels) {
      const value = values[channel];
      if (Array.isArray(value) && value.length > 0) {
        values[channel] = await this.storeItems(thread, namespace, channel, value);
      }
    }
    return super.put(config, { ...checkpoint, channel_values: values }, metadata);
  }

  override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const tuple = await super.getTuple(config);
    if (tuple) await this.restoreItems(tuple);
    return tuple;
  }

  override async *list(
    config: RunnableConfig,
    options?: CheckpointListOptions,
  ): AsyncGenerator<CheckpointTuple> {
    for await (const tuple of super.list(config, options)) {
      await this.restoreItems(tuple);
      yield tuple;
    }
  }

  override async deleteThread(threadId: string): Promise<void> {
    await super.deleteThread(threadId);
    this.setup();
    this.db.prepare("DELETE FROM append_segments WHERE thread_id = ?").run(threadId);
    for (const key of this.tails.keys()) {
      if (JSON.parse(key)[0] === threadId) this.tails.delete(key);
    }
  }

  /** Saves the items not yet stored as a new segment and returns the reference. */
  private async storeItems(
    thread: string,
    namespace: string,
    channel: string,
    items: readonly unknown[],
  ): Promise<SegmentReference> {
    const key = JSON.stringify([thread, namespace, channel]);
    const tail = this.tails.get(key);
    const extendsTail =
      tail !== undefined &&
      items.length >= tail.length &&
      items[0] === tail.first &&
      items[tail.length - 1] === tail.last;
    if (extendsTail && items.length === tail.length) {
      return { [SEGMENT_REFERENCE]: tail.segment, length: tail.length };
    }

    const start = extendsTail ? tail.length : 0;
    const segment = randomUUID();
    const [type, serialized] = await this.serde.dumpsTyped(items.slice(start));
    this.db
      .prepare(
        `INSERT INTO append_segments
         (thread_id, checkpoint_ns, channel, segment_id, parent_segment_id, start, type, items)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(thread, namespace, channel, segment, extendsTail ? tail.segment : null, start, type, serialized);
    this.tails.set(key, { segment, length: items.length, first: items[0], last: items.at(-1) });
    return { [SEGMENT_REFERENCE]: segment, length: items.length };
  }

  /**
   * Replaces the segment references of a loaded checkpoint with the items.
   * The first load of a channel also records its tail, so that a resumed
   * search goes on saving only new items.
   */
  private async restoreItems(tuple: CheckpointTuple): Promise<void> {
    const thread = tuple.config.configurable?.thread_id as string;
    const namespace: string = tuple.config.configurable?.checkpoint_ns ?? "";
    const values = tuple.checkpoint.channel_values;
    for (const channel of this.appendChannels) {
      const reference = values[channel];
      if (!isSegmentReference(reference)) continue;
      const segment = reference[SEGMENT_REFERENCE];
      const items = await this.readItems(thread, namespace, channel, segment);
      if (items.length !== reference.length) {
        throw new Error(
          `checkpoint ${tuple.checkpoint.id} of thread ${thread} has ${items.length} ` +
            `stored items in channel "${channel}"; expected ${reference.length}. ` +
            "The append_segments table is incomplete",
        );
      }
      values[channel] = items;
      const key = JSON.stringify([thread, namespace, channel]);
      if (!this.tails.has(key) && items.length > 0) {
        this.tails.set(key, { segment, length: items.length, first: items[0], last: items.at(-1) });
      }
    }
  }

  /** Reads a segment and its ancestors and returns their items in order. */
  private async readItems(
    thread: string,
    namespace: string,
    channel: string,
    segment: string,
  ): Promise<unknown[]> {
    this.setup();
    const rows = this.db
      .prepare(
        `WITH RECURSIVE chain(segment_id, parent_segment_id, start, type, items) AS (
           SELECT segment_id, parent_segment_id, start, type, items FROM append_segments
           WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? AND segment_id = ?
           UNION ALL
           SELECT s.segment_id, s.parent_segment_id, s.start, s.type, s.items
           FROM append_segments AS s JOIN chain AS c ON s.segment_id = c.parent_segment_id
           WHERE s.thread_id = ? AND s.checkpoint_ns = ? AND s.channel = ?
         )
         SELECT start, type, items FROM chain ORDER BY start`,
      )
      .all(thread, namespace, channel, segment, thread, namespace, channel) as {
      start: number;
      type: string;
      items: Uint8Array;
    }[];
    const items: unknown[] = [];
    for (const row of rows) {
      if (row.start !== items.length) {
        throw new Error(
          `segment chain of channel "${channel}" in thread ${thread} has a gap at item ` +
            `${items.length} (next segment starts at ${row.start})`,
        );
      }
      const part = (await this.serde.loadsTyped(row.type, row.items)) as unknown[];
      for (const item of part) items.push(item);
    }
    return items;
  }
}

function isSegmentReference(value: unknown): value is SegmentReference {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<string, unknown>)[SEGMENT_REFERENCE] === "string"
  );
}
