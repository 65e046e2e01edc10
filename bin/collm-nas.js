#!/usr/bin/env node
// Entry point of the collm-nas command. The package ships TypeScript
// sources and runs them through tsx, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
const { createLineReader } = await import("../src/cli/line-reader.ts");
const stdin = createLineReader(process.stdin, (text) => process.stderr.write(text));
try {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    readLine: (prompt) => stdin.readLine(prompt),
  });
} finally {
  stdin.close();
}
