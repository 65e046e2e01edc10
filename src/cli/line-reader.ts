import { createInterface, type Interface } from "node:readline";

/** Reads standard input line by line for prompts. */
export interface LineReader {
  /** Writes the prompt and returns the next line, or null at the end of input. */
  readLine(prompt: string): Promise<string | null>;
  /** Releases the input, so that it no longer keeps the process alive. */
  close(): void;
}

/**
 * Creates a line reader over `input`. It opens the input on the first
 * read only, so a command that never prompts leaves standard input alone.
 */
export function createLineReader(
  input: NodeJS.ReadableStream,
  writePrompt: (text: string) => void,
): LineReader {
  let lines: Interface | undefined;
  let iterator: AsyncIterator<string> | undefined;
  return {
    async readLine(prompt) {
      writePrompt(prompt);
      if (!iterator) {
        lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
        iterator = lines[Symbol.asyncIterator]();
      }
      const next = await iterator.next();
      return next.done ? null : next.value;
    },
    close() {
      lines?.close();
    },
  };
}
