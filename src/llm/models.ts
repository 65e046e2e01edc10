import { ChatOpenAI } from "@langchain/openai";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { createDeadlineFetch } from "./deadline-fetch.ts";
import { createRedactingFetch } from "./redacting-fetch.ts";

/** Settings of one role's chat model. */
export interface ModelSettings {
  /** "openai:MODEL": an OpenAI-compatible endpoint. */
  spec: string;
  temperature: number;
  /** Endpoint base URL, e.g. http://127.0.0.1:8000/v1 for vLLM. */
  baseURL?: string;
  /** API key; local servers that need none get a placeholder. */
  apiKey?: string;
  /** Per-request timeout in milliseconds, until the whole response has arrived. */
  timeoutMs: number;
  /**
   * Retries after a failed request, with the backoff of @langchain/core's
   * AsyncCaller (1.4): about 1-2 s, then doubling. A 429 response with a
   * Retry-After of up to 60 s waits at least that long. A 429 without
   * Retry-After, or with a longer one, is not retried.
   */
  maxRetries: number;
}

export class ModelSpecError extends Error {
  override name = "ModelSpecError";
}

/**
 * Creates a chat model from "openai:MODEL". The @langchain/openai client
 * talks to OpenAI and to any OpenAI-compatible server (vLLM, Ollama, a
 * llama.cpp server) given its base URL.
 */
export function createChatModel(settings: ModelSettings): BaseChatModel {
  const match = /^openai:(.+)$/.exec(settings.spec);
  if (!match) {
    throw new ModelSpecError(
      `unknown LLM "${settings.spec}"; expected none or openai:MODEL ` +
        `(for example openai:gpt-4o-mini, or openai:Qwen/Qwen3-30B-A3B with --base-url)`,
    );
  }
  if (!settings.apiKey && !settings.baseURL) {
    throw new ModelSpecError(
      `LLM "${settings.spec}" has no API key and no base URL; set OPENAI_API_KEY ` +
        `for OpenAI, or --base-url (or OPENAI_BASE_URL) for a local server`,
    );
  }
  return new ChatOpenAI({
    model: match[1],
    temperature: settings.temperature,
    // Local OpenAI-compatible servers accept any key; the client needs one.
    apiKey: settings.apiKey ?? "no-key",
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    configuration: {
      ...(settings.baseURL ? { baseURL: settings.baseURL } : {}),
      // The client's own timeout stops at the response headers. Secrets a
      // server echoes are removed before the reply reaches a trace or the state.
      fetch: createRedactingFetch(createDeadlineFetch(settings.timeoutMs), [settings.apiKey]),
    },
  });
}
