import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { main } from "../src/cli/main.ts";
import { Rng } from "../src/util/random.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(REPO_ROOT, "bin", "collm-nas.js");
const BUDGET = 300;
const KILLS = 10;

function searchArgs(outDir: string, extra: string[] = []): string[] {
  return [
    "search", "--benchmark", NB201_CSV, "--budget", String(BUDGET),
    "--candidates", "10", "--seed", "11", "--out", outDir, ...extra,
  ];
}

/**
 * Runs the CLI as a child process and kills it with SIGKILL once it prints
 * the progress line of a round at or past `killAtRound`. Resolves with the
 * signal (null when the process finished first) and the last round seen.
 */
function runUntilKilled(args: string[], killAtRound: number) {
  return new Promise<{ signal: string | null; lastRound: number; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      let lastRound = 0;
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (text: string) => {
        stderr += text;
        for (const match of text.matchAll(/^round (\d+) /gm)) lastRound = Number(match[1]);
        if (lastRound >= killAtRound) child.kill("SIGKILL");
      });
      child.once("error", reject);
      child.once("exit", (_code, signal) => resolve({ signal, lastRound, stderr }));
    },
  );
}

function readResult(outDir: string) {
  return JSON.parse(readFileSync(join(outDir, "result.json"), "utf8"));
}

describe("crash and resume", { skip: nb201Skip }, () => {
  test("ten SIGKILLs give the uninterrupted history", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "collm-crash-"));
    const rng = new Rng(2024);
    let round = 0;
    let kills = 0;
    let args = searchArgs(outDir);
    while (kills < KILLS) {
      // Kill one to three rounds after the last round seen.
      const run = await runUntilKilled(args, round + 1 + rng.int(3));
      if (run.signal !== "SIGKILL") break;
      kills++;
      round = Math.max(round, run.lastRound);

      // The result file is whole after every kill: written atomically.
      const partial = readResult(outDir);
      const keys = partial.history.map((r: { arch: unknown }) => JSON.stringify(r.arch));
      assert.equal(new Set(keys).size, keys.length, `duplicate after kill ${kills}`);
      args = ["resume", "--out", outDir];
    }
    assert.equal(kills, KILLS, "the search finished before it was killed ten times");

    let stdout = "";
    const finished = await main(["resume", "--out", outDir, "--quiet"], {
      stdout: (text) => (stdout += text),
      stderr: () => {},
    });
    assert.equal(finished, 0, stdout);
    const result = readResult(outDir);

    const referenceDir = mkdtempSync(join(tmpdir(), "collm-crash-ref-"));
    const code = await main(searchArgs(referenceDir, ["--checkpoint", "none", "--quiet"]), {
      stdout: () => {},
      stderr: () => {},
    });
    assert.equal(code, 0);
    const expected = readResult(referenceDir);

    const archs = result.history.map((r: { arch: unknown }) => r.arch);
    assert.equal(archs.length, BUDGET);
    assert.equal(new Set(archs.map((a: unknown) => JSON.stringify(a))).size, BUDGET, "duplicates");
    assert.deepEqual(archs, expected.history.map((r: { arch: unknown }) => r.arch));
    assert.deepEqual(result.best, expected.best);
    assert.deepEqual(result.strategies, expected.strategies);
  });
});
