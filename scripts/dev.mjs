#!/usr/bin/env node
// Starts the LangGraph dev server (`langgraphjs dev`) with the graph from
// langgraph.json on 127.0.0.1, without analytics and without opening a
// browser.
//
//   npm run dev                    port 2024, or the next free one
//   npm run dev -- --port 2931     exactly this port
//   PORT=2931 npm run dev          the same
//
// Other arguments go to `langgraphjs dev` (for example --no-reload).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HOST = "127.0.0.1";
const DEFAULT_PORT = 2024;
/** Ports tried after a taken default before an ephemeral one is taken. */
const PORTS_TO_TRY = 50;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Splits `--port N` or `--port=N` off the arguments. */
function readPortArgument(args) {
  const rest = [];
  let port;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--port" || arg === "-p") {
      port = args[++i];
    } else if (arg.startsWith("--port=")) {
      port = arg.slice("--port=".length);
    } else if (arg === "--host" || arg.startsWith("--host=") || arg === "--tunnel") {
      throw new Error(`${arg.split("=")[0]} is not supported: the dev server listens on ${HOST} only`);
    } else {
      rest.push(arg);
    }
  }
  return { port, rest };
}

function parsePort(text, source) {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid port ${JSON.stringify(text)} from ${source}; expected 1-65535`);
  }
  return port;
}

/** Resolves to the port it could listen on, or null when `port` is taken. */
function tryListen(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(null));
    server.listen(port, HOST, () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
    });
  });
}

async function choosePort(requested) {
  if (requested !== undefined) {
    if ((await tryListen(requested)) === null) {
      throw new Error(`port ${requested} on ${HOST} is in use; choose another with --port or PORT`);
    }
    return requested;
  }
  for (let port = DEFAULT_PORT; port < DEFAULT_PORT + PORTS_TO_TRY; port++) {
    if ((await tryListen(port)) !== null) return port;
  }
  return tryListen(0);
}

async function main() {
  const { port: portArgument, rest } = readPortArgument(process.argv.slice(2));
  const requested =
    portArgument !== undefined
      ? parsePort(portArgument, "--port")
      : process.env.PORT
        ? parsePort(process.env.PORT, "PORT")
        : undefined;
  const port = await choosePort(requested);
  if (requested === undefined && port !== DEFAULT_PORT) {
    console.error(`collm-nas dev: port ${DEFAULT_PORT} is in use; using port ${port}`);
  }
  console.error(`collm-nas dev: starting the LangGraph dev server on http://${HOST}:${port}`);

  const require = createRequire(import.meta.url);
  const cli = join(
    dirname(require.resolve("@langchain/langgraph-cli/package.json")),
    "dist/cli/cli.mjs",
  );
  const child = spawn(
    process.execPath,
    [cli, "dev", "--no-browser", "--host", HOST, "--port", String(port), ...rest],
    {
      cwd: repoRoot,
      stdio: "inherit",
      env: { ...process.env, LANGGRAPH_CLI_NO_ANALYTICS: "1", BROWSER: "none" },
    },
  );
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => {
    process.exitCode = code ?? (signal === "SIGINT" ? 130 : 1);
  });
}

main().catch((error) => {
  console.error(`collm-nas dev: ${error.message}`);
  process.exitCode = 1;
});
