import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { navigatorStrategy, strategyMarker } from "../fixtures/llm/replies.ts";
import { cellAt, requestedCount } from "./cells.ts";

/** Role of a chat request, read from its system prompt. */
export type RequestRole = "navigator" | "generator" | "unknown";

/** One POST /v1/chat/completions request as the server received it. */
export interface RecordedRequest {
  role: RequestRole;
  headers: IncomingHttpHeaders;
  /** The request body as parsed JSON, typed loosely because tests read many OpenAI fields. */
  body: any;
  /** When the body was read, from `Date.now()`. */
  receivedAt: number;
}

/** A failure or a scripted reply that the server gives one request instead of its own reply. */
export type Fault =
  /** An error response with this status, headers and message. */
  | { kind: "status"; status: number; headers?: Record<string, string>; message?: string }
  /** The connection is destroyed before any response. */
  | { kind: "reset" }
  /** No response at all, until the client gives up. */
  | { kind: "hang" }
  /** Headers at once, then the completion body one byte every `delayMs`. */
  | { kind: "slow-body"; delayMs: number }
  /** Status 200 with a body that is not JSON. */
  | { kind: "invalid-json" }
  /** A normal completion whose message content is `content`. */
  | { kind: "reply"; content: string };

export interface OpenAITestServerOptions {
  /**
   * Chooses a fault for a request, from its role and its index among all
   * requests (from 0); undefined serves the normal reply.
   */
  fault?: (request: RecordedRequest, index: number) => Fault | undefined;
}

/** Token counts the server reports for each reply, per role. */
export const SERVER_USAGE: Record<
  Exclude<RequestRole, "unknown">,
  { prompt: number; completion: number }
> = {
  navigator: { prompt: 200, completion: 50 },
  generator: { prompt: 300, completion: 80 },
};

export interface OpenAITestServer {
  /** Base URL for the OpenAI client, http://127.0.0.1:PORT/v1. */
  baseURL: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a minimal OpenAI-compatible server on 127.0.0.1 with an
 * ephemeral port. It serves non-streaming POST /v1/chat/completions:
 * Navigator requests get a marked strategy, Generator requests get new
 * NAS-Bench-201 cells in the shape the request specifies (a forced tool
 * call, a `json_schema` response format, or JSON in a fenced text block).
 * `options.fault` replaces chosen replies with failures or scripted text.
 */
export async function startOpenAIServer(
  options: OpenAITestServerOptions = {},
): Promise<OpenAITestServer> {
  const requests: RecordedRequest[] = [];
  let strategies = 0;
  let nextCell = 0;

  const server = createServer(async (request, response) => {
    if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
      sendError(response, 404, `no route for ${request.method} ${request.url}`);
      return;
    }
    let body: any;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      sendError(response, 400, `invalid JSON body: ${String(error)}`);
      return;
    }
    const role = requestRole(body);
    const recorded: RecordedRequest = { role, headers: request.headers, body, receivedAt: Date.now() };
    requests.push(recorded);
    const fault = options.fault?.(recorded, requests.length - 1);
    if (fault) {
      applyFault(fault, response, body, role);
      return;
    }
    if (body.stream) {
      sendError(response, 400, "streaming is not supported by this test server");
      return;
    }
    if (role === "navigator") {
      strategies += 1;
      const strategy = navigatorStrategy(strategyMarker(strategies));
      sendCompletion(response, body, role, { content: strategy });
      return;
    }
    if (role === "generator") {
      const count = requestedCount(lastUserText(body));
      const cells = Array.from({ length: count }, () => cellAt(nextCell++));
      sendCompletion(response, body, role, generatorMessage(body, cells));
      return;
    }
    sendError(response, 400, "system prompt is neither the Navigator's nor the Generator's");
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function applyFault(fault: Fault, response: ServerResponse, body: any, role: RequestRole): void {
  switch (fault.kind) {
    case "status":
      response.writeHead(fault.status, { "content-type": "application/json", ...fault.headers });
      response.end(JSON.stringify({ error: { message: fault.message ?? `status ${fault.status}`, type: "server_error", code: null } }));
      return;
    case "reset":
      response.socket?.destroy();
      return;
    case "hang":
      return;
    case "invalid-json":
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"id": "chatcmpl-broken", "choices": [');
      return;
    case "reply":
      sendCompletion(response, body, role === "unknown" ? "generator" : role, { content: fault.content });
      return;
    case "slow-body": {
      const payload = Buffer.from(JSON.stringify(completion(body, "navigator", { content: "slow" })));
      response.writeHead(200, { "content-type": "application/json", "content-length": String(payload.length) });
      let sent = 0;
      const timer = setInterval(() => {
        if (response.destroyed || sent >= payload.length) {
          clearInterval(timer);
          if (!response.destroyed) response.end();
          return;
        }
        response.write(payload.subarray(sent, sent + 1));
        sent += 1;
      }, fault.delayMs);
      response.on("close", () => clearInterval(timer));
      return;
    }
  }
}

function requestRole(body: any): RequestRole {
  const system = (body.messages ?? []).find(
    (message: any) => message.role === "system" || message.role === "developer",
  );
  const text = typeof system?.content === "string" ? system.content : "";
  if (text.startsWith("You are the Navigator")) return "navigator";
  if (text.startsWith("You are the Generator")) return "generator";
  return "unknown";
}

function lastUserText(body: any): string {
  const user = [...(body.messages ?? [])].reverse().find((message: any) => message.role === "user");
  return typeof user?.content === "string" ? user.content : "";
}

/** Builds the assistant message in the shape the request specifies. */
function generatorMessage(body: any, cells: string[]): Record<string, unknown> {
  const json = JSON.stringify({ candidates: cells.map((arch) => ({ arch })) });
  const forced = body.tool_choice?.function?.name ?? body.tools?.[0]?.function?.name;
  if (Array.isArray(body.tools) && forced) {
    return {
      content: null,
      tool_calls: [
        {
          id: `call_${cells.length}_${Date.now()}`,
          type: "function",
          function: { name: forced, arguments: json },
        },
      ],
    };
  }
  if (body.response_format?.type === "json_schema") return { content: json };
  return { content: `Here are the architectures:\n\`\`\`json\n${json}\n\`\`\`` };
}

function sendCompletion(
  response: ServerResponse,
  body: any,
  role: Exclude<RequestRole, "unknown">,
  message: Record<string, unknown>,
): void {
  sendJson(response, 200, completion(body, role, message));
}

function completion(
  body: any,
  role: Exclude<RequestRole, "unknown">,
  message: Record<string, unknown>,
): Record<string, unknown> {
  const usage = SERVER_USAGE[role];
  return {
    id: `chatcmpl-test-${Date.now()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", ...message },
        finish_reason: message.tool_calls ? "tool_calls" : "stop",
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: usage.prompt,
      completion_tokens: usage.completion,
      total_tokens: usage.prompt + usage.completion,
    },
  };
}

function sendError(response: ServerResponse, status: number, message: string): void {
  sendJson(response, status, { error: { message, type: "invalid_request_error", code: null } });
}

function sendJson(response: ServerResponse, status: number, payload: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(payload));
}
