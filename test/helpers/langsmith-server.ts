import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** A run as the recording server assembled it from its create and update operations. */
export interface RecordedRun {
  id: string;
  name?: string;
  run_type?: string;
  parent_run_id?: string | null;
  trace_id?: string;
  dotted_order?: string;
  tags?: string[];
  extra?: { metadata?: Record<string, unknown>; [key: string]: unknown };
  inputs?: unknown;
  outputs?: unknown;
  error?: string | null;
  end_time?: unknown;
  [key: string]: unknown;
}

export interface LangSmithRecorder {
  /** Endpoint for LANGSMITH_ENDPOINT, http://127.0.0.1:PORT. */
  url: string;
  /** Runs by id, merged from every operation received. */
  runs: Map<string, RecordedRun>;
  /** Every request body as received after decompression, as text, for secret scans. */
  bodies: string[];
  /** Method and path of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 that records what the LangSmith client
 * sends. It serves the endpoints the langsmith 0.12 client uses to ingest
 * runs: GET /info, which asks for the multipart endpoint without
 * compression, POST /runs/multipart, POST /runs/batch, POST /runs and
 * PATCH /runs/:id. It decompresses gzip bodies and returns 404 for any
 * other request.
 */
export async function startLangSmithRecorder(): Promise<LangSmithRecorder> {
  const runs = new Map<string, RecordedRun>();
  const bodies: string[] = [];
  const requests: string[] = [];

  const merge = (operation: Record<string, unknown>) => {
    const id = String(operation.id);
    const run = runs.get(id) ?? { id };
    for (const [key, value] of Object.entries(operation)) {
      if (value !== undefined) run[key] = value;
    }
    runs.set(id, run);
  };

  const server = createServer(async (request, response) => {
    const path = (request.url ?? "").split("?")[0];
    requests.push(`${request.method} ${path}`);
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      sendJson(response, 400, { detail: `unreadable body: ${String(error)}` });
      return;
    }
    bodies.push(body.toString("utf8"));

    if (request.method === "GET" && path === "/info") {
      sendJson(response, 200, {
        version: "0.0.0-recorder",
        batch_ingest_config: { use_multipart_endpoint: true },
        instance_flags: {},
      });
      return;
    }
    if (request.method === "POST" && path === "/runs/multipart") {
      const contentType = request.headers["content-type"] ?? "";
      const form = await new Response(new Uint8Array(body), {
        headers: { "content-type": contentType },
      }).formData();
      const operations = new Map<string, Record<string, unknown>>();
      for (const [name, value] of form.entries()) {
        const [method, id, field] = name.split(".");
        if (method !== "post" && method !== "patch") continue;
        const text = typeof value === "string" ? value : await value.text();
        const key = `${method}.${id}`;
        const operation = operations.get(key) ?? { id };
        if (field === undefined) Object.assign(operation, JSON.parse(text));
        else operation[field] = JSON.parse(text);
        operations.set(key, operation);
      }
      // Creates first, so that an update in the same request applies over its create.
      const creates = [...operations].filter(([key]) => key.startsWith("post."));
      const updates = [...operations].filter(([key]) => key.startsWith("patch."));
      for (const [, operation] of [...creates, ...updates]) merge(operation);
      sendJson(response, 202, {});
      return;
    }
    if (request.method === "POST" && path === "/runs/batch") {
      const batch = JSON.parse(body.toString("utf8")) as { post?: object[]; patch?: object[] };
      for (const operation of batch.post ?? []) merge(operation as Record<string, unknown>);
      for (const operation of batch.patch ?? []) merge(operation as Record<string, unknown>);
      sendJson(response, 202, {});
      return;
    }
    if (request.method === "POST" && path === "/runs") {
      merge(JSON.parse(body.toString("utf8")));
      sendJson(response, 202, {});
      return;
    }
    const update = /^\/runs\/([^/]+)$/.exec(path);
    if (request.method === "PATCH" && update) {
      merge({ ...JSON.parse(body.toString("utf8")), id: update[1] });
      sendJson(response, 202, {});
      return;
    }
    sendJson(response, 404, { detail: `no route for ${request.method} ${path}` });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    runs,
    bodies,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const encoding = request.headers["content-encoding"];
  if (encoding === "gzip") return gunzipSync(raw);
  if (encoding !== undefined && encoding !== "identity") {
    throw new Error(`unsupported content-encoding ${encoding}`);
  }
  return raw;
}

function sendJson(response: ServerResponse, status: number, payload: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(payload));
}
