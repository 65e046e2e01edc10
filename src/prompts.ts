import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const PROMPT_DIR = fileURLToPath(new URL("../prompts/", import.meta.url));

/** Names of the prompt templates in prompts/. */
export type PromptName =
  | "navigator-system"
  | "navigator-initial"
  | "navigator-update"
  | "navigator-round-summary"
  | "generator-system"
  | "generator-user";

const cache = new Map<PromptName, string>();

/** Loads a template once from prompts/NAME.md. */
export function loadPrompt(name: PromptName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(`${PROMPT_DIR}${name}.md`, "utf8");
    cache.set(name, text);
  }
  return text;
}

/**
 * Fills `{{name}}` placeholders. Throws when the template names a value
 * that is not given, so a renamed placeholder cannot pass unnoticed.
 */
export function renderPrompt(
  name: PromptName,
  values: Record<string, string | number>,
): string {
  return loadPrompt(name).replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    if (!(key in values)) {
      throw new Error(`prompt ${name} needs a value for {{${key}}}`);
    }
    return String(values[key]);
  }).trim();
}
