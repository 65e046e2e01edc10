import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { AIMessage } from "@langchain/core/messages";
import { main } from "../src/cli/main.ts";
import { resolveConfiguredRuntime } from "../src/graph/configured-runtime.ts";
import { normalizeTask } from "../src/graph/task.ts";
import { readProposals } from "../src/llm/call.ts";
import { loadAutoFormerConfig } from "../src/spaces/autoformer.ts";
import { createSpace } from "../src/spaces/registry.ts";
import { AUTOFORMER_T_YAML, autoformerSkip, NB201_CSV, nb201Skip } from "./helpers/data.ts";
import { startOpenAIServer, type OpenAITestServer } from "./helpers/openai-server.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(REPO_ROOT, "bin", "collm-nas.js");
const runFile = promisify(execFile);

/** A fake key: no file, trace or log line of a search may contain it. */
const SECRET_KEY = "sk-test-SECRET";

/** Runs `collm-nas search ARGS --quiet` in this process and returns its exit code and output. */
async function search(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const code = await main(["search", ...args, "--quiet"], {
    stdout: () => {},
    stderr: (text) => (stderr += text),
  });
  return { code, stderr };
}

/** Lists every file under `dir`, recursively, as paths relative to it. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe("search options", () => {
  const cases: [string, string[], RegExp][] = [
    ["zero budget", ["--budget", "0"], /^collm-nas: --budget must be a positive integer, got "0"\n$/],
    ["negative budget", ["--budget", "-1"], /--budget must be a positive integer, got "-1"/],
    ["fractional budget", ["--budget", "2.5"], /--budget must be a positive integer, got "2.5"/],
    ["budget beyond 2^53", ["--budget", "9007199254740993"], /--budget must be a positive integer/],
    ["zero candidates", ["--candidates", "0"], /--candidates must be a positive integer, got "0"/],
    ["negative rounds", ["--rounds", "-3"], /--rounds must be a positive integer, got "-3"/],
    ["negative retries", ["--retries", "-1"], /--retries must be a non-negative integer, got "-1"/],
    ["huge seed", ["--seed", "1e400"], /--seed must be a non-negative integer, got "1e400"/],
    ["unknown space", ["--space", "darts"], /--space must be one of: nb201, ofa-mbv3, spos-shufflenet, autoformer-t, autoformer-s, autoformer-b, got "darts"/],
    ["space with a path", ["--space", "../nb201"], /--space must be one of: .*got "..\/nb201"/],
    ["constraint with no operator", ["--constraint", "flops"], /--constraint: invalid constraint "flops"/],
    ["constraint with a bad number", ["--constraint", "flops<=abc"], /--constraint: invalid constraint "flops<=abc"/],
    ["constraint on an unknown metric", ["--constraint", "energy<=3"], /--constraint: .*energy/],
    ["empty temperature", ["--temperature", ""], /--temperature must be a number from 0 to 2, got ""/],
    ["NaN target", ["--target", "NaN"], /--target must be a number from 0 to 100, got "NaN"/],
    ["zero LLM timeout", ["--llm-timeout", "0"], /--llm-timeout must be a number from 1 to 86400, got "0"/],
    ["zero evaluation timeout", ["--evaluation-timeout", "0"], /--evaluation-timeout must be a number from 0.001 to 604800, got "0"/],
    ["file base URL", ["--base-url", "file:///etc/passwd"], /--base-url must be an http or https URL/],
    ["empty out", ["--out", ""], /--out must not be empty, got ""/],
    ["empty benchmark", ["--benchmark", ""], /--benchmark must not be empty, got ""/],
    ["bad LLM spec", ["--llm", "gpt-4o"], /--llm must be none or openai:MODEL, got "gpt-4o"/],
    ["unknown width", ["--width", "2"], /--width must be 1.0 or 1.2, got "2"/],
    ["unknown option", ["--budegt", "3"], /Unknown option '--budegt'/],
    ["positional argument", ["nb201"], /Unexpected argument 'nb201'/],
  ];
  for (const [name, args, expected] of cases) {
    test(name, async () => {
      const { code, stderr } = await search(args);
      assert.equal(code, 2, stderr);
      assert.match(stderr, expected);
    });
  }
});

describe("input files", () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "collm-nas-hostile-"));
    mkdirSync(file("a-directory"));
    writeFileSync(file("empty.csv"), "");
    writeFileSync(file("missing-columns.csv"), "arch_str,score\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n");
    const header = nb201Skip
      ? "arch_str,cifar10_test_acc"
      : readFileSync(NB201_CSV, "utf8").split("\n", 1)[0];
    const cells: string[] = header
      .split(",")
      .map((name) => (name === "arch_str" ? "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|" : "1"));
    cells[header.split(",").indexOf("cifar10_test_acc")] = "ninety";
    writeFileSync(file("non-numeric.csv"), `${header}\n${cells.join(",")}\n`);
    writeFileSync(file("not-onnx.onnx"), "this is not a protobuf\n");
    writeFileSync(file("bad.json"), "{ latency: ");
    writeFileSync(file("bad.yaml"), "SUPERNET: [unclosed\n");
    writeFileSync(file("a-file"), "x");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, () => string[], RegExp][] = [
    ["missing benchmark", () => ["--benchmark", file("nope.csv")], /benchmark table .*nope\.csv not found; pass an existing CSV file with --benchmark/],
    ["benchmark is a directory", () => ["--benchmark", file("a-directory")], /benchmark table .*a-directory is a directory; pass a CSV file with --benchmark/],
    ["empty benchmark", () => ["--benchmark", file("empty.csv")], /has no data rows; expected a header and one row per architecture/],
    ["benchmark missing a column", () => ["--benchmark", file("missing-columns.csv")], /column "cifar10_test_acc" \(metric\) not found in .*missing-columns\.csv; available: arch_str, score/],
    ["non-numeric benchmark cell", () => ["--benchmark", file("non-numeric.csv")], /non-numeric\.csv line 2, column "cifar10_test_acc": "ninety" is not a number/],
    ["unknown metric column", () => ["--benchmark", file("non-numeric.csv"), "--metric", "top1"], /column "top1" \(metric\) not found/],
    ["missing predictor", () => ["--space", "ofa-mbv3", "--predictor", file("nope.onnx")], /cannot read ONNX model .*nope\.onnx: ENOENT/],
    ["predictor is a directory", () => ["--space", "ofa-mbv3", "--predictor", file("a-directory")], /ONNX model .*a-directory is a directory; pass an \.onnx file/],
    ["predictor is not ONNX", () => ["--space", "ofa-mbv3", "--predictor", file("not-onnx.onnx")], /failed to load ONNX model .*not-onnx\.onnx, which may not be an ONNX file: .*Protobuf parsing failed/],
    ["CSV as predictor", () => ["--space", "ofa-mbv3", "--predictor", file("non-numeric.csv")], /failed to load ONNX model .*non-numeric\.csv, which may not be an ONNX file/],
    ["missing latency table", () => ["--space", "ofa-mbv3", "--latency-table", file("nope.json")], /cannot read latency table .*nope\.json: ENOENT/],
    ["latency table is a directory", () => ["--space", "ofa-mbv3", "--latency-table", file("a-directory")], /cannot read latency table .*a-directory: EISDIR/],
    ["latency table is not JSON", () => ["--space", "ofa-mbv3", "--latency-table", file("bad.json")], /latency table .*bad\.json is not valid JSON/],
    ["missing AutoFormer config", () => ["--space", "autoformer-t", "--autoformer-config", file("nope.yaml")], /cannot read AutoFormer config .*nope\.yaml: ENOENT/],
    ["AutoFormer config is a directory", () => ["--space", "autoformer-t", "--autoformer-config", file("a-directory")], /cannot read AutoFormer config .*a-directory: EISDIR/],
    ["AutoFormer config is not YAML", () => ["--space", "autoformer-t", "--autoformer-config", file("bad.yaml")], /AutoFormer config .*bad\.yaml: expected top-level SUPERNET and SEARCH_SPACE sections/],
    ["out is a file", () => ["--benchmark", NB201_CSV, "--out", file("a-file")], /--out .*a-file exists and is not a directory; choose another path/],
    ["out is under a file", () => ["--benchmark", NB201_CSV, "--out", join(file("a-file"), "run")], /cannot create --out directory .*a-file\/run \(ENOTDIR\); choose another path/],
    ["constraint the space cannot check", () => ["--benchmark", NB201_CSV, "--constraint", "latency<=3"], /constraint latency<=3ms cannot be checked in space nb201: its cost model has no latency/],
  ];
  for (const [name, args, expected] of cases) {
    test(name, { skip: nb201Skip }, async () => {
      const { code, stderr } = await search(args());
      assert.equal(code, 2, stderr);
      assert.match(stderr, expected);
    });
  }

  test("unreadable benchmark", { skip: nb201Skip }, async (t) => {
    const locked = file("locked.csv");
    writeFileSync(locked, readFileSync(file("missing-columns.csv")));
    chmodSync(locked, 0o000);
    if (process.getuid?.() !== 0) {
      const { code, stderr } = await search(["--benchmark", locked]);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /cannot be read \(EACCES\); check its permissions/);
      return;
    }
    // Root reads any file, so the CLI runs as the unprivileged user nobody,
    // who may enter the directory but not read the file.
    chmodSync(dir, 0o755);
    let result: { code: number; stderr: string };
    try {
      await runFile(process.execPath, [CLI, "search", "--benchmark", locked, "--quiet"], {
        uid: 65534,
        gid: 65534,
        env: { PATH: process.env.PATH, HOME: dir },
      });
      result = { code: 0, stderr: "" };
    } catch (error) {
      const failure = error as { code?: unknown; stderr?: string };
      if (typeof failure.code !== "number") {
        t.skip(`cannot run the CLI as user nobody: ${String(error)}`);
        return;
      }
      result = { code: failure.code, stderr: failure.stderr ?? "" };
    }
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /benchmark table .*locked\.csv cannot be read \(EACCES\); check its permissions/);
  });
});

describe("task fields", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["zero budget", { budget: 0 }, /invalid search task field "budget": .*\(got 0\)/],
    ["negative budget", { budget: -10 }, /invalid search task field "budget".*\(got -10\)/],
    ["budget as text", { budget: "100" }, /invalid search task field "budget".*\(got "100"\)/],
    ["fractional candidates", { candidatesPerRound: 1.5 }, /invalid search task field "candidatesPerRound"/],
    ["unknown space", { space: "darts" }, /invalid search task field "space".*\(got "darts"\)/],
    ["constraint that does not parse", { constraints: "flops<<3" }, /invalid search task field "constraints": invalid constraint "flops<<3"/],
    ["empty objective", { objective: "" }, /invalid search task field "objective"/],
    ["target above 100", { target: 101 }, /invalid search task field "target"/],
    ["negative seed", { seed: -1 }, /invalid search task field "seed"/],
  ];
  for (const [name, task, expected] of cases) {
    test(name, () => {
      assert.throws(() => normalizeTask(task), (error: Error) => {
        assert.ok(error instanceof RangeError, error.name);
        assert.match(error.message, expected);
        return true;
      });
    });
  }
});

describe("configurable settings", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["unknown space", { space: "darts" }, /invalid configurable setting "space"/],
    ["temperature as text", { temperature: "hot" }, /invalid configurable setting "temperature"/],
    ["file base URL", { baseUrl: "file:///etc/passwd" }, /invalid configurable setting "baseUrl"/],
    ["bad LLM spec", { llm: "gpt-4o" }, /invalid configurable setting "llm": expected none or openai:MODEL/],
    ["empty benchmark", { benchmark: "" }, /invalid configurable setting "benchmark"/],
  ];
  for (const [name, configurable, expected] of cases) {
    test(name, async () => {
      await assert.rejects(resolveConfiguredRuntime({ configurable }), (error: Error) => {
        assert.ok(error instanceof RangeError, error.name);
        assert.match(error.message, expected);
        return true;
      });
    });
  }
});

describe("rule: nothing from a model runs", () => {
  const CODE_DIRS = ["src", "tools", "graphs", "bin"];
  /** Files allowed to start processes, with why. */
  const PROCESS_ALLOWED: Record<string, string> = {
    // Opens the reviewer's own editor (VISUAL or EDITOR) on a strategy file.
    "src/cli/review-prompt.ts": "node:child_process",
  };

  function sourceFiles(): string[] {
    return CODE_DIRS.flatMap((dir) =>
      listFiles(join(REPO_ROOT, dir))
        .filter((path) => /\.(ts|js|mjs)$/.test(path))
        .map((path) => join(dir, path)),
    );
  }

  test("source has no eval", () => {
    const patterns = [/\beval\s*\(/, /\bnew\s+Function\b/, /(^|[^\w.])Function\s*\(/, /["']node:vm["']/];
    const found = sourceFiles().filter((path) => {
      const text = readFileSync(join(REPO_ROOT, path), "utf8");
      return patterns.some((pattern) => pattern.test(text));
    });
    assert.deepEqual(found, []);
  });

  test("source has no dynamic module path", () => {
    const found = sourceFiles().filter((path) =>
      /\bimport\s*\(\s*[^"'`\s]/.test(readFileSync(join(REPO_ROOT, path), "utf8")),
    );
    assert.deepEqual(found, []);
  });

  test("only the review editor starts processes", () => {
    const found = sourceFiles().filter((path) =>
      /child_process|(^|[^.\w])(spawn|exec|execFile)(Sync)?\(/m.test(readFileSync(join(REPO_ROOT, path), "utf8")),
    );
    assert.deepEqual(found, Object.keys(PROCESS_ALLOWED));
  });

  test("payloads pollute no prototype", { skip: autoformerSkip }, async () => {
    const payload =
      '{"candidates": [{"arch": "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", ' +
      '"__proto__": {"polluted": "yes", "arch": "x"}}, ' +
      '{"constructor": {"prototype": {"polluted": "yes"}}, "r": 224}, ' +
      '{"__proto__": {"embed_dim": 192, "depth": 12, "mlp_ratio": 4, "num_heads": 3}}], ' +
      '"__proto__": {"candidates": []}}';
    const { proposals } = readProposals(new AIMessage(payload));
    assert.equal(proposals.length, 3);
    const autoformerConfig = await loadAutoFormerConfig(AUTOFORMER_T_YAML);
    for (const name of ["nb201", "ofa-mbv3", "spos-shufflenet", "autoformer-t"]) {
      const space = createSpace(name, { autoformerConfig });
      for (const proposal of proposals) space.parse(proposal);
    }
    assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.hasOwn(Object.prototype, "candidates"), false);
  });

  test("prototype keys are no inherited fields", async () => {
    const autoformerConfig = await loadAutoFormerConfig(AUTOFORMER_T_YAML);
    const space = createSpace("autoformer-t", { autoformerConfig });
    const parsed = space.parse(
      JSON.parse('{"__proto__": {"embed_dim": 192, "depth": 12, "mlp_ratio": 4, "num_heads": 3}}'),
    );
    assert.equal(parsed.ok, false);
  });
});

describe("cli against a hostile LLM server", { skip: nb201Skip }, () => {
  let server: OpenAITestServer;
  /** Working directory of the CLI: nothing may appear here but the output directory. */
  let workDir: string;
  let outDir: string;
  let tempDir: string;
  let stdout = "";
  let stderr = "";
  let exitCode: number | undefined;
  let navigatorCalls = 0;
  let generatorCalls = 0;

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), "collm-nas-work-"));
    tempDir = mkdtempSync(join(tmpdir(), "collm-nas-tmp-"));
    outDir = join(workDir, "run");
    rmSync("/tmp/collm-escape", { force: true });
    server = await startOpenAIServer({
      fault: (request) => {
        const echoed = String(request.headers.authorization ?? "").replace(/^Bearer /, "");
        if (request.role === "navigator") {
          navigatorCalls++;
          if (navigatorCalls === 1) {
            // Echoes the key, as some proxies do in their error messages.
            return { kind: "status", status: 401, message: `Incorrect API key provided: ${echoed}` };
          }
          if (navigatorCalls === 2) {
            return { kind: "reply", content: `## Summary\nYour key ${echoed} works. Favour nor_conv_3x3.` };
          }
        }
        if (request.role === "generator") {
          generatorCalls++;
          if (generatorCalls === 1) {
            const candidates = [
              { arch: "../../../tmp/collm-escape" },
              { arch: `../${echoed}/result.json` },
              { arch: "/tmp/collm-escape" },
            ];
            return { kind: "reply", content: JSON.stringify({ candidates, key: echoed }) };
          }
        }
        return undefined;
      },
    });
    try {
      const output = await runFile(
        process.execPath,
        [
          CLI, "search", "--benchmark", NB201_CSV, "--budget", "10", "--candidates", "5",
          "--llm", "openai:test-model", "--base-url", server.baseURL, "--llm-retries", "0",
          "--structured-output", "text", "--out", outDir, "--json",
        ],
        {
          cwd: workDir,
          env: {
            PATH: process.env.PATH,
            HOME: join(workDir, "home"),
            TMPDIR: tempDir,
            OPENAI_API_KEY: SECRET_KEY,
          },
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      stdout = output.stdout;
      stderr = output.stderr;
      exitCode = 0;
    } catch (error) {
      const failure = error as { code?: number; stdout?: string; stderr?: string };
      exitCode = failure.code;
      stdout = failure.stdout ?? "";
      stderr = failure.stderr ?? String(error);
    }
  });
  after(async () => {
    await server.close();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(tempDir, { recursive: true, force: true });
  });

  test("search completes", () => {
    assert.equal(exitCode, 0, stderr);
    assert.equal(JSON.parse(stdout).evaluations, 10);
  });

  test("server received the key", () => {
    assert.ok(server.requests.length > 0);
    assert.ok(server.requests.every((r) => r.headers.authorization === `Bearer ${SECRET_KEY}`));
  });

  test("fallbacks are reported", () => {
    assert.match(stderr, /LLM calls that failed and were replaced by the offline policy: navigator 1, generator 0/);
  });

  test("hostile replies were served", () => {
    assert.ok(navigatorCalls >= 2, `${navigatorCalls} navigator calls`);
    assert.ok(generatorCalls >= 1, `${generatorCalls} generator calls`);
  });

  test("rule: files stay in the output directory", () => {
    const outside = listFiles(workDir).filter((path) => !path.startsWith(`run/`));
    assert.deepEqual(outside, []);
    assert.equal(existsSync("/tmp/collm-escape"), false);
    for (const path of listFiles(outDir)) {
      assert.doesNotMatch(path, /\.\.|escape|sk-/, path);
    }
  });

  test("rule: no file or output holds the key", () => {
    const files = listFiles(outDir);
    for (const expected of ["result.json", "search.json", "checkpoints.sqlite"]) {
      assert.ok(files.includes(expected), `${expected} not written; files: ${files.join(", ")}`);
    }
    const leaks = listFiles(outDir).filter((path) =>
      readFileSync(join(outDir, path)).includes(SECRET_KEY),
    );
    assert.deepEqual(leaks, []);
    assert.equal(stdout.includes(SECRET_KEY), false, "key in standard output");
    assert.equal(stderr.includes(SECRET_KEY), false, "key in standard error");
  });

  test("echoed key is redacted", () => {
    const result = JSON.parse(readFileSync(join(outDir, "result.json"), "utf8"));
    const fallback = result.fallbacks.find((f: { role: string }) => f.role === "navigator");
    assert.match(fallback.error, /Incorrect API key provided: \[redacted\]/);
    assert.match(result.strategies[1].strategy, /Your key \[redacted\] works/);
  });

  test("path-like architectures are rejected", () => {
    const result = JSON.parse(readFileSync(join(outDir, "result.json"), "utf8"));
    const reasons = result.rejections
      .filter((r: { proposal: string }) => r.proposal.includes("collm-escape"))
      .map((r: { reason: string }) => r.reason);
    assert.equal(reasons.length, 2);
    assert.ok(reasons.every((reason: string) => reason.startsWith("invalid cell")), String(reasons));
  });
});
