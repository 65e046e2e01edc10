import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
// Debian's python3-torch and python3-onnx install into the system Python.
const PYTHON = "/usr/bin/python3";

const probe = spawnSync(PYTHON, ["-c", "import torch, onnx"], { encoding: "utf8" });
const skip =
  probe.status === 0
    ? false
    : `torch and onnx are not importable by ${PYTHON} (install python3-torch and python3-onnx)`;

test("python export tests pass", { skip, timeout: 300_000 }, () => {
  const run = spawnSync(PYTHON, ["-m", "unittest", "supernet.test_export"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, /^OK/m);
});
