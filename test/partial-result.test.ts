import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createPartialResultWriter, PAUSE_FACTOR, SLOW_WRITE_MS } from "../src/cli/partial-result.ts";

function resultPath(): string {
  return join(mkdtempSync(join(tmpdir(), "collm-partial-")), "result.json");
}

/**
 * Makes a fake clock that advances by `writeMs` inside each write and by
 * what `advance` adds between rounds.
 */
function fakeClock(writeMs: number) {
  let time = 0;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
    build: (round: number) => () => {
      time += writeMs;
      return { round };
    },
  };
}

describe("partial result writer", () => {
  test("fast writes happen every round", () => {
    const path = resultPath();
    const clock = fakeClock(SLOW_WRITE_MS - 1);
    const write = createPartialResultWriter(path, clock.now);
    const written: boolean[] = [];
    for (let round = 1; round <= 5; round++) {
      written.push(write(clock.build(round)));
      clock.advance(1);
    }

    assert.deepEqual(written, [true, true, true, true, true]);
    assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), { round: 5 });
  });

  test("slow write pauses the next rounds", () => {
    const path = resultPath();
    const writeMs = 20;
    const clock = fakeClock(writeMs);
    const write = createPartialResultWriter(path, clock.now);
    const written: number[] = [];
    for (let round = 1; round <= 30; round++) {
      if (write(clock.build(round))) written.push(round);
      clock.advance(writeMs);
    }

    // A write of 20 ms pauses writing for PAUSE_FACTOR * 20 ms after it
    // ends. The write and the 20 ms after each round fill that pause in
    // PAUSE_FACTOR rounds.
    const gap = PAUSE_FACTOR;
    assert.deepEqual(written, [1, 1 + gap, 1 + 2 * gap]);
    assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), { round: 1 + 2 * gap });
  });

  test("skipped round does not build", () => {
    const clock = fakeClock(SLOW_WRITE_MS * 2);
    const write = createPartialResultWriter(resultPath(), clock.now);
    write(clock.build(1));
    let built = false;

    const wrote = write(() => {
      built = true;
      return {};
    });

    assert.equal(wrote, false);
    assert.equal(built, false);
  });
});
