import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@langchain/langgraph-sdk";
import { SearchTaskSchema } from "../src/graph/task.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const GRAPH_ID = "collm_nas";
/** Maximum wait for the server to respond to GET /ok; startup compiles the graph with tsx. */
const STARTUP_TIMEOUT_MS = 90_000;
/** Maximum wait for the server to exit after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 5_000;
const LOG_TAIL_CHARS = 4_000;
const BUDGET = 20;
const PER_ROUND = 10;

/** Settings of the test search, as Studio would send them in the run's context. */
const CONTEXT = { benchmark: NB201_CSV, budget: BUDGET, candidatesPerRound: PER_ROUND, llm: "none" };

/** Documented configuration fields that Studio must show with a description. */
const CONFIG_FIELDS = [
  "space",
  "benchmark",
  "dataset",
  "metric",
  "supernet",
  "supernetData",
  "llm",
  "navigatorLlm",
  "generatorLlm",
  "baseUrl",
  "temperature",
  "navigatorTemperature",
  "generatorTemperature",
  "structuredOutput",
  "budget",
  "candidatesPerRound",
  "target",
  "maxRounds",
  "constraints",
  "seed",
];

/** Finds a port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The dev server started through `npm run dev`'s script, in its own
 * process group so that stopping it also stops the server process it
 * spawns.
 */
class DevServer {
  private log = "";
  private exited: Promise<void>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    const append = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString("utf8")).slice(-LOG_TAIL_CHARS * 4);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        this.exitCode = code;
        resolve();
      }),
    );
  }

  static async start(): Promise<DevServer> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, LANGGRAPH_CLI_NO_ANALYTICS: "1" };
    // Tracing from the developer's environment must not reach LangSmith.
    for (const name of ["LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_TRACING_V2"]) {
      delete env[name];
    }
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, "scripts/dev.mjs"), "--port", String(port), "--no-reload"],
      { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    const server = new DevServer(`http://127.0.0.1:${port}`, child);
    // A test process that ends without `stop` (a crash, say) still ends the server.
    const killGroup = () => server.signalGroup("SIGKILL");
    process.once("exit", killGroup);
    child.once("exit", () => process.off("exit", killGroup));
    try {
      await server.waitUntilReady();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Returns the last lines the server printed, for failure messages. */
  logTail(): string {
    return this.log.slice(-LOG_TAIL_CHARS);
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(
          `dev server exited with code ${this.exitCode} before it was ready; log:\n${this.logTail()}`,
        );
      }
      try {
        const response = await fetch(`${this.url}/ok`, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(
      `dev server did not respond to GET /ok within ${STARTUP_TIMEOUT_MS / 1000} s; log:\n${this.logTail()}`,
    );
  }

  signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  /** Stops the whole process group: SIGTERM, then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    if (this.child.pid === undefined) return;
    this.signalGroup("SIGTERM");
    const stopped = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STOP_TIMEOUT_MS)),
    ]);
    // The group may still hold the server process after the script exited.
    this.signalGroup("SIGKILL");
    if (!stopped) await this.exited;
  }
}

describe("LangGraph dev server", { skip: nb201Skip }, () => {
  let server: DevServer;
  let client: Client;
  let assistantId: string;

  /** Runs a call against the server; a failure message carries the server's log tail. */
  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new Error(`${what} failed: ${String(error)}\nserver log:\n${server.logTail()}`, {
        cause: error,
      });
    }
  }

  before(async () => {
    server = await DevServer.start();
    client = new Client({ apiUrl: server.url, apiKey: null });
    const assistants = await call("listing assistants", () =>
      client.assistants.search({ graphId: GRAPH_ID }),
    );
    assert.equal(assistants.length, 1, `assistants of ${GRAPH_ID}: ${JSON.stringify(assistants)}`);
    assistantId = assistants[0].assistant_id;
  });

  after(async () => {
    await server?.stop();
  });

  describe("schemas", () => {
    let schemas: Awaited<ReturnType<Client["assistants"]["getSchemas"]>>;

    before(async () => {
      schemas = await call("fetching schemas", () => client.assistants.getSchemas(assistantId));
    });

    test("config schema has the documented fields", () => {
      const properties = (schemas.config_schema?.properties ?? {}) as Record<string, unknown>;
      assert.deepEqual(Object.keys(properties).sort(), [...CONFIG_FIELDS].sort());
    });

    test("every config field has a description", () => {
      const properties = (schemas.config_schema?.properties ?? {}) as Record<
        string,
        { description?: string }
      >;
      const undocumented = Object.entries(properties)
        .filter(([, field]) => !field.description || field.description.length < 10)
        .map(([name]) => name);
      assert.deepEqual(undocumented, []);
    });

    test("context schema matches the config schema", () => {
      assert.deepEqual(schemas.context_schema, schemas.config_schema);
    });

    test("input schema has the task fields", () => {
      const task = (schemas.input_schema?.properties as Record<string, any> | undefined)?.task;
      assert.ok(task, `input schema: ${JSON.stringify(schemas.input_schema)}`);
      assert.deepEqual(
        Object.keys(task.properties).sort(),
        Object.keys(SearchTaskSchema.shape).sort(),
      );
    });

    test("input task fields are all optional", () => {
      const task = (schemas.input_schema?.properties as Record<string, any>).task;
      assert.deepEqual(task.required ?? [], []);
      assert.deepEqual(schemas.input_schema?.required ?? [], []);
    });

    test("output schema has the results", () => {
      const properties = Object.keys(schemas.output_schema?.properties ?? {}).sort();
      for (const field of ["best", "history", "strategies", "stopReason", "usage"]) {
        assert.ok(properties.includes(field), `output schema lacks ${field}: ${properties.join(", ")}`);
      }
    });
  });

  describe("streamed search", () => {
    const events: { event: string; data: any }[] = [];
    let threadId: string;

    before(async () => {
      const thread = await call("creating a thread", () => client.threads.create());
      threadId = thread.thread_id;
      await call("streaming a run", async () => {
        const stream = client.runs.stream(threadId, assistantId, {
          input: {},
          context: CONTEXT,
          streamMode: ["custom", "values", "updates"],
        });
        for await (const chunk of stream) events.push(chunk);
      });
    });

    test("no error event", () => {
      const errors = events.filter((chunk) => chunk.event === "error");
      assert.deepEqual(errors, [], `server log:\n${server.logTail()}`);
    });

    test("custom stream has one event per round", () => {
      const rounds = events.filter((chunk) => chunk.event === "custom").map((chunk) => chunk.data);
      assert.deepEqual(
        rounds.map((event) => [event.type, event.round, event.evaluations]),
        [
          ["round", 1, PER_ROUND],
          ["round", 2, BUDGET],
        ],
      );
    });

    test("values and updates arrive", () => {
      const modes = new Set(events.map((chunk) => chunk.event));
      assert.ok(modes.has("values"), `events: ${[...modes].join(", ")}`);
      assert.ok(modes.has("updates"), `events: ${[...modes].join(", ")}`);
    });

    test("updates name the graph's nodes", () => {
      const nodes = new Set(
        events.filter((chunk) => chunk.event === "updates").flatMap((chunk) => Object.keys(chunk.data)),
      );
      for (const node of ["navigator", "review", "generator", "coordinator", "evaluate_architectures"]) {
        assert.ok(nodes.has(node), `updates came from: ${[...nodes].join(", ")}`);
      }
    });

    test("thread state has the whole history", async () => {
      const state = await call("reading the thread state", () => client.threads.getState(threadId));
      const values = state.values as { history: unknown[]; stopReason: string | null; task: any };
      assert.equal(values.history.length, BUDGET);
      assert.equal(values.stopReason, `budget spent: ${BUDGET} evaluations`);
      assert.equal(values.task.budget, BUDGET);
    });
  });

  test("input task overrides the configuration", async () => {
    const values = (await call("waiting for a run", () =>
      client.runs.wait(null, assistantId, {
        input: { task: { budget: 12, candidatesPerRound: 4 } },
        config: { configurable: CONTEXT },
      }),
    )) as { history: unknown[]; stopReason: string };
    assert.equal(values.history.length, 12);
    assert.equal(values.stopReason, "budget spent: 12 evaluations");
  });
});
