import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReviewDecision, ReviewRequest } from "../graph/review.ts";
import type { CommandIO } from "./search.ts";

/** Standard input closed while a review decision was pending. */
export class ReviewInputClosedError extends Error {
  override name = "ReviewInputClosedError";
}

export interface ReviewPromptOptions {
  /** Editor command for an edit; used only when `io.isTTY` is set. */
  editor?: string;
  /** Run folder, named in the resume command printed when input ends. */
  outDir: string;
}

/** Line that ends a pasted strategy. */
const PASTE_END = ".";

/**
 * Creates the reviewer of `--review`: it prints each round's strategy and
 * reads approve, edit or stop from standard input. An edit opens the
 * editor on a terminal, else reads a pasted strategy. Throws
 * `ReviewInputClosedError` when standard input ends, which leaves the
 * thread waiting at the review, so `collm-nas resume` prompts for it again.
 */
export function createReviewPrompt(
  io: CommandIO,
  options: ReviewPromptOptions,
): (request: ReviewRequest) => Promise<ReviewDecision> {
  const readLine = io.readLine;
  if (!readLine) {
    throw new Error("a review prompt needs io.readLine to read standard input");
  }
  const read = async (prompt: string, round: number): Promise<string> => {
    const line = await readLine(prompt);
    if (line === null) {
      throw new ReviewInputClosedError(
        `standard input closed during the review of round ${round}; the search is saved ` +
          `there, continue it with: collm-nas resume --out ${options.outDir}`,
      );
    }
    return line;
  };

  return async (request) => {
    io.stderr(`\nStrategy for round ${request.round} (${request.author}):\n`);
    io.stderr(`${indent(request.strategy)}\n`);
    for (;;) {
      const choice = (await read("Approve, edit or stop? [A/e/s] ", request.round))
        .trim()
        .toLowerCase();
      if (choice === "" || choice === "a" || choice === "approve") return { action: "approve" };
      if (choice === "s" || choice === "stop") return { action: "stop" };
      if (choice !== "e" && choice !== "edit") {
        io.stderr(`invalid choice "${choice}"; type a (approve), e (edit) or s (stop)\n`);
        continue;
      }

      const edited =
        options.editor && io.isTTY
          ? editInEditor(request.strategy, options.editor, io)
          : await readPasted((prompt) => read(prompt, request.round), io);
      if (edited === null) continue;
      if (edited.trim() === "") {
        io.stderr("the edited strategy is empty; the round still waits for a decision\n");
        continue;
      }
      return { action: "edit", strategy: edited.trim() };
    }
  };
}

async function readPasted(
  read: (prompt: string) => Promise<string>,
  io: CommandIO,
): Promise<string> {
  io.stderr(`Paste the new strategy, then a line with only "${PASTE_END}":\n`);
  const lines: string[] = [];
  for (;;) {
    const line = await read("");
    if (line.trim() === PASTE_END) return lines.join("\n");
    lines.push(line);
  }
}

/** Opens the strategy in the editor; returns the saved text, or null when the editor failed. */
function editInEditor(strategy: string, editor: string, io: CommandIO): string | null {
  const folder = mkdtempSync(join(tmpdir(), "collm-nas-review-"));
  const path = join(folder, "strategy.md");
  try {
    writeFileSync(path, `${strategy}\n`);
    // The editor may be a command with arguments, such as "code --wait".
    // It runs without a shell, so no part of the path is interpreted.
    const [command, ...args] = editor.trim().split(/\s+/);
    const run = spawnSync(command, [...args, path], { stdio: "inherit" });
    if (run.error || run.status !== 0) {
      const reason = run.error?.message ?? `exit status ${run.status}`;
      io.stderr(`editor "${editor}" failed (${reason}); the round still waits for a decision\n`);
      return null;
    }
    return readFileSync(path, "utf8");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
