import { readEnvironment } from "../config.ts";

/** Tokens shaped like OpenAI API keys: "sk-" and at least 8 key characters. */
const API_KEY_PATTERN = /\bsk-[A-Za-z0-9_-]{8,}/g;

/** A bearer credential in an echoed header. */
const BEARER_PATTERN = /\b(Bearer)\s+[^\s"',;]+/gi;

/**
 * Replaces secrets in a text that may be stored or printed, such as an
 * error message echoed by an LLM server: the configured OpenAI API key,
 * anything shaped like an OpenAI key, and bearer credentials.
 *
 * @param secrets exact strings to remove; default: OPENAI_API_KEY
 */
export function redactSecrets(
  text: string,
  secrets: readonly (string | undefined)[] = [readEnvironment().openaiApiKey],
): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would redact ordinary words.
    if (secret && secret.length >= 8) out = out.split(secret).join("[redacted]");
  }
  return out.replace(API_KEY_PATTERN, "sk-[redacted]").replace(BEARER_PATTERN, "$1 [redacted]");
}
