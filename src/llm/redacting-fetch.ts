import { redactSecrets } from "../util/redact.ts";

/**
 * Creates a fetch that removes secrets from response bodies before the
 * OpenAI client reads them: the given API keys, anything shaped like an
 * OpenAI key, and bearer credentials (see `redactSecrets`). A server that
 * echoes the key in a reply or an error message then cannot put it into
 * the graph state, a LangSmith trace or a log, because all of them record
 * the response as the client parsed it.
 *
 * NOTE: it reads the whole body, which suits the non-streaming requests
 * this project makes; a streaming request would get its events only at
 * the end.
 */
export function createRedactingFetch(
  inner: typeof fetch,
  secrets: readonly (string | undefined)[],
): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.body === null) return response;
    const text = await response.text();
    const redacted = redactSecrets(text, secrets);
    const headers = new Headers(response.headers);
    if (redacted !== text) headers.delete("content-length");
    return new Response(redacted, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };
}
