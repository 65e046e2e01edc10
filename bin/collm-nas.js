#!/usr/bin/env node
// Entry point of the collm-nas command. The package ships TypeScript
// sources and runs them through tsx, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { EXIT_INTERRUPTED, main } = await import("../src/cli/main.ts");
const { createLineReader } = await import("../src/cli/line-reader.ts");
const { flushTraces, TRACE_FLUSH_TIMEOUT_MS } = await import("../src/cli/tracing.ts");
const stdin = createLineReader(process.stdin, (text) => process.stderr.write(text));

// Sends the LangSmith traces still queued, so that every exit keeps them.
async function flushOrExit() {
  if (await flushTraces()) return;
  process.stderr.write(
    `collm-nas: traces not sent within ${TRACE_FLUSH_TIMEOUT_MS / 1000} s; exiting without them\n`,
  );
  process.exit();
}

// The first Ctrl-C stops the search after its current step and still
// writes the result and the traces; a second one kills the process.
const interrupt = new AbortController();
process.once("SIGINT", () => {
  interrupt.abort();
  stdin.close();
  // A command that does not watch the signal, such as a baseline search, ends here.
  setTimeout(async () => {
    await flushOrExit();
    process.exit(EXIT_INTERRUPTED);
  }, 2_000).unref();
});

try {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    readLine: (prompt) => stdin.readLine(prompt),
    signal: interrupt.signal,
  });
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  stdin.close();
  await flushOrExit();
}
