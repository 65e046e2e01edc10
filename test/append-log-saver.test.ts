import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { emptyCheckpoint, type Checkpoint } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import Database from "better-sqlite3";
import { AppendLogSqliteSaver } from "../src/graph/append-log-saver.ts";

const THREAD = "thread-1";

function openSaver(path: string): AppendLogSqliteSaver {
  return new AppendLogSqliteSaver(new Database(path), ["history"]);
}

function tempDatabase(): string {
  return join(mkdtempSync(join(tmpdir(), "collm-append-log-")), "checkpoints.sqlite");
}

function checkpointWith(history: unknown[], round: number): Checkpoint {
  const checkpoint = emptyCheckpoint();
  checkpoint.channel_values = { history, round };
  return checkpoint;
}

/** Puts a checkpoint on the thread and returns its id. */
async function put(
  saver: AppendLogSqliteSaver,
  checkpoint: Checkpoint,
  parentId?: string,
): Promise<string> {
  const saved = await saver.put(
    { configurable: { thread_id: THREAD, checkpoint_ns: "", checkpoint_id: parentId } },
    checkpoint,
    { source: "loop", step: 0, parents: {} },
    {},
  );
  return saved.configurable!.checkpoint_id as string;
}

async function historyOf(saver: AppendLogSqliteSaver, checkpointId?: string) {
  const tuple = await saver.getTuple({
    configurable: { thread_id: THREAD, checkpoint_ns: "", checkpoint_id: checkpointId },
  });
  return tuple?.checkpoint.channel_values.history;
}

function segmentRows(saver: AppendLogSqliteSaver) {
  return saver.db
    .prepare("SELECT start, parent_segment_id FROM append_segments ORDER BY start")
    .all() as { start: number; parent_segment_id: string | null }[];
}

function checkpointBytes(saver: AppendLogSqliteSaver, id: string): number {
  const row = saver.db
    .prepare("SELECT length(checkpoint) AS bytes FROM checkpoints WHERE checkpoint_id = ?")
    .get(id) as { bytes: number };
  return row.bytes;
}

const record = (i: number) => ({ key: `k${i}`, round: Math.floor(i / 10) + 1, accuracy: i });

describe("append log saver", () => {
  test("round trip of a growing array", async () => {
    const saver = openSaver(tempDatabase());
    let history: unknown[] = [];
    let parent: string | undefined;
    const ids: string[] = [];
    for (let round = 1; round <= 5; round++) {
      history = history.concat(Array.from({ length: 10 }, (_v, i) => record((round - 1) * 10 + i)));
      parent = await put(saver, checkpointWith(history, round), parent);
      ids.push(parent);
    }

    assert.deepEqual(await historyOf(saver), history);
    assert.deepEqual(await historyOf(saver, ids[1]), history.slice(0, 20));
    const rows = segmentRows(saver);
    assert.deepEqual(
      rows.map((row) => row.start),
      [0, 10, 20, 30, 40],
    );
    assert.equal(rows[0].parent_segment_id, null);
    assert.equal(checkpointBytes(saver, ids[0]), checkpointBytes(saver, ids[4]));
  });

  test("unchanged array writes no segment", async () => {
    const saver = openSaver(tempDatabase());
    const history = [record(0), record(1)];
    const first = await put(saver, checkpointWith(history, 1));
    await put(saver, checkpointWith(history, 2), first);

    assert.equal(segmentRows(saver).length, 1);
    assert.deepEqual(await historyOf(saver), history);
  });

  test("fork keeps both branches", async () => {
    const saver = openSaver(tempDatabase());
    const base = [record(0), record(1)];
    const parent = await put(saver, checkpointWith(base, 1));
    const left = base.concat([record(2)]);
    const leftId = await put(saver, checkpointWith(left, 2), parent);
    // A branch from the parent, loaded anew, so its items are other objects.
    const loaded = (await historyOf(saver, parent)) as unknown[];
    const right = loaded.concat([{ key: "other", round: 2, accuracy: -1 }]);
    const rightId = await put(saver, checkpointWith(right, 2), parent);

    assert.deepEqual(await historyOf(saver, leftId), left);
    assert.deepEqual(await historyOf(saver, rightId), right);
  });

  test("array with the same length but new items", async () => {
    const saver = openSaver(tempDatabase());
    const first = await put(saver, checkpointWith([record(0), record(1)], 1));
    const replaced = [record(0), { key: "changed", round: 1, accuracy: 0 }];
    await put(saver, checkpointWith(replaced, 2), first);

    assert.deepEqual(await historyOf(saver), replaced);
  });

  test("resume saves only new items", async () => {
    const path = tempDatabase();
    const writer = openSaver(path);
    const history = Array.from({ length: 30 }, (_v, i) => record(i));
    const last = await put(writer, checkpointWith(history, 3));
    writer.db.close();

    const reader = openSaver(path);
    const loaded = (await historyOf(reader)) as unknown[];
    assert.deepEqual(loaded, history);
    await put(reader, checkpointWith(loaded.concat([record(30)]), 4), last);

    const rows = segmentRows(reader);
    assert.deepEqual(
      rows.map((row) => row.start),
      [0, 30],
    );
    assert.notEqual(rows[1].parent_segment_id, null);
    assert.equal(((await historyOf(reader)) as unknown[]).length, 31);
  });

  test("plain sqlite checkpoints read unchanged", async () => {
    const path = tempDatabase();
    const plain = new SqliteSaver(new Database(path));
    const history = [record(0), record(1)];
    await plain.put(
      { configurable: { thread_id: THREAD, checkpoint_ns: "" } },
      checkpointWith(history, 1),
      { source: "loop", step: 0, parents: {} },
    );
    plain.db.close();

    assert.deepEqual(await historyOf(openSaver(path)), history);
  });

  test("deleteThread removes the segments", async () => {
    const saver = openSaver(tempDatabase());
    await put(saver, checkpointWith([record(0)], 1));
    await saver.deleteThread(THREAD);

    assert.equal(segmentRows(saver).length, 0);
    assert.equal(await historyOf(saver), undefined);
  });

  test("missing segment fails with the channel", async () => {
    const saver = openSaver(tempDatabase());
    await put(saver, checkpointWith([record(0)], 1));
    saver.db.prepare("DELETE FROM append_segments").run();

    await assert.rejects(historyOf(saver), /0 stored items in channel "history"; expected 1/);
  });
});
