import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { getEncoding, type Tiktoken } from "js-tiktoken";
import { z } from "zod";
import type { RoleUsage } from "../graph/state.ts";
import { redactSecrets } from "../util/redact.ts";
import { extractJsonDetailed } from "./extract-json.ts";

/**
 * How the Generator asks for structured output: a JSON schema response
 * format, a forced tool call, or plain text from which JSON is extracted.
 * `auto` uses the JSON schema where the model supports structured output
 * and text otherwise.
 */
export type StructuredOutputMode = "auto" | "json_schema" | "tool" | "text";

/** Name of the structured output the Generator returns. */
export const GENERATOR_OUTPUT_NAME = "propose_architectures";

/**
 * Builds the Generator's output schema: an object at the root with every
 * field required, as OpenAI's strict structured output demands.
 */
export function generatorOutputSchema(candidate: z.ZodType) {
  return z.object({
    candidates: z
      .array(candidate)
      .describe("New architectures, each valid in the search space"),
  });
}

/** Adds one call's token counts to a role's totals. */
export function addUsage(total: RoleUsage, message: AIMessage, prompt: BaseMessage[]): RoleUsage {
  const { promptTokens, completionTokens } = callTokens(message, prompt);
  return {
    calls: total.calls + 1,
    promptTokens: total.promptTokens + promptTokens,
    completionTokens: total.completionTokens + completionTokens,
  };
}

/** Returns the prompt and completion tokens of one call. */
export function callTokens(
  message: AIMessage,
  prompt: BaseMessage[],
): { promptTokens: number; completionTokens: number } {
  const reported = message.usage_metadata;
  // Without reported usage, tokens are counted with OpenAI's o200k_base
  // encoding: exact for recent OpenAI models, an estimate for others.
  const promptTokens =
    reported?.input_tokens ?? prompt.reduce((sum, m) => sum + countTokens(contentText(m)), 0);
  const completionTokens =
    reported?.output_tokens ?? countTokens(contentText(message));
  return { promptTokens, completionTokens };
}

let encoder: Tiktoken | undefined;

/** Maximum text length that `countTokens` encodes. Longer texts get an estimate. */
const MAX_ENCODED_CHARS = 100_000;

/**
 * Counts tokens with the o200k_base encoding (loaded on first use). A text
 * over 100,000 characters is estimated at 4 characters per token instead,
 * because encoding megabytes takes seconds.
 */
export function countTokens(text: string): number {
  if (text.length > MAX_ENCODED_CHARS) return Math.ceil(text.length / 4);
  encoder ??= getEncoding("o200k_base");
  return encoder.encode(text).length;
}

/** Text of a message, joining the text parts of multi-part content. */
export function contentText(message: BaseMessage): string {
  const content = message.content;
  if (typeof content === "string") return content;
  return content
    .map((part) => ("text" in part && typeof part.text === "string" ? part.text : ""))
    .join("");
}

/**
 * Calls the Generator and returns the proposals it wrote, unvalidated: the
 * Coordinator validates each one on its own, so one bad candidate does not
 * discard the batch.
 */
export async function callGenerator(
  model: BaseChatModel,
  messages: BaseMessage[],
  candidate: z.ZodType,
  mode: StructuredOutputMode,
  config?: RunnableConfig,
): Promise<{ proposals: unknown[]; message: AIMessage; note?: string }> {
  const schema = generatorOutputSchema(candidate);
  const method = resolveMode(model, mode);
  let message: AIMessage;
  if (method === "text") {
    message = (await model.invoke(messages, config)) as AIMessage;
  } else {
    const structured = model.withStructuredOutput(schema, {
      name: GENERATOR_OUTPUT_NAME,
      method: method === "tool" ? "functionCalling" : "jsonSchema",
      strict: true,
      includeRaw: true,
    });
    try {
      const output = (await structured.invoke(messages, config)) as {
        raw: AIMessage;
      };
      message = output.raw;
    } catch (error) {
      // A server that rejects the request itself with HTTP 400, as some local
      // servers without JSON schema or tool support do, is asked again in
      // text mode. Other failures propagate to the caller's fallback.
      if (!isBadRequest(error)) throw error;
      message = (await model.invoke(messages, config)) as AIMessage;
      const found = readProposals(message);
      const note = `structured output rejected by the server (${method}); read the reply as text`;
      return { proposals: found.proposals, message, note: found.note ? `${note}; ${found.note}` : note };
    }
  }
  const found = readProposals(message);
  return { proposals: found.proposals, message, note: found.note };
}

function isBadRequest(error: unknown): boolean {
  const status = (error as { status?: unknown })?.status;
  return status === 400 || status === 422;
}

function resolveMode(
  model: BaseChatModel,
  mode: StructuredOutputMode,
): Exclude<StructuredOutputMode, "auto"> {
  if (mode !== "auto") return mode;
  const capable =
    typeof model.withStructuredOutput === "function" &&
    typeof (model as { bindTools?: unknown }).bindTools === "function";
  return capable ? "json_schema" : "text";
}

/**
 * Maximum reply length, in characters, read for JSON. A longer reply is cut
 * to this length, so that one runaway reply cannot stall the search. The
 * limit is far above a reply of a few hundred candidates.
 */
export const MAX_REPLY_CHARS = 1_000_000;

/** Most proposals read from one reply; the rest are dropped with a note. */
export const MAX_PROPOSALS = 100;

/**
 * Reads the candidate list from tool-call arguments or the text. The note
 * lists what was wrong with the reply as a whole, joined by "; ".
 */
export function readProposals(message: AIMessage): {
  proposals: unknown[];
  note?: string;
} {
  const notes: string[] = [];
  const call = message.tool_calls?.[0];
  let value: unknown;
  if (call && call.name === GENERATOR_OUTPUT_NAME) {
    // Round-tripped through JSON so that a secret echoed into the arguments
    // is redacted before the proposals reach the state and its checkpoints.
    value = JSON.parse(redactSecrets(JSON.stringify(call.args)));
  } else {
    if (call) notes.push(`reply called the unknown tool "${call.name.slice(0, 40)}"; the call was ignored`);
    let text = redactSecrets(contentText(message));
    if (text.length > MAX_REPLY_CHARS) {
      notes.push(`reply has ${text.length} characters; read the first ${MAX_REPLY_CHARS}`);
      text = text.slice(0, MAX_REPLY_CHARS);
    }
    const found = extractJsonDetailed(text);
    if (found === undefined) {
      notes.push("no JSON found in the reply");
      return { proposals: [], note: notes.join("; ") };
    }
    value = found.value;
    if (found.truncated) notes.push("reply JSON was truncated; its incomplete last item was dropped");
    if (found.repairs.length > 0) notes.push(`reply JSON repaired: ${found.repairs.join(", ")}`);
  }
  const note = () => (notes.length > 0 ? notes.join("; ") : undefined);

  let proposals: unknown[];
  if (Array.isArray(value)) {
    proposals = value;
  } else if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const list = Object.hasOwn(record, "candidates") ? record.candidates : record.architectures;
    if (Array.isArray(list)) {
      proposals = list;
    } else {
      notes.push('reply has no "candidates" list');
      proposals = [value];
    }
  } else {
    notes.push(`reply JSON is a ${value === null ? "null" : typeof value}, not an object`);
    return { proposals: [], note: note() };
  }
  if (proposals.length > MAX_PROPOSALS) {
    notes.push(`reply has ${proposals.length} candidates; read the first ${MAX_PROPOSALS}`);
    proposals = proposals.slice(0, MAX_PROPOSALS);
  }
  return { proposals, note: note() };
}
