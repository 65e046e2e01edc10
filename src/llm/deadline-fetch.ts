/** A response that did not arrive in full within the deadline. */
export class ResponseTimeoutError extends Error {
  override name = "ResponseTimeoutError";

  constructor(readonly timeoutMs: number) {
    // "timed out" lets the openai client classify this as a timeout.
    super(`request timed out after ${timeoutMs} ms before the response body was complete`);
  }
}

/** Statuses whose responses cannot carry a body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Creates a fetch that bounds a whole request, response body included, by
 * `timeoutMs`, and hands the caller a fully read response.
 *
 * The openai client (6.x) clears its own timer once the response headers
 * arrive, so without this a server that sends headers and then trickles
 * the body could hold a call for as long as it likes.
 *
 * NOTE: buffering the body suits the non-streaming requests this project
 * makes; a streaming request would get its events only at the end.
 */
export function createDeadlineFetch(
  timeoutMs: number,
  baseFetch: typeof fetch = fetch,
): typeof fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const outer = init?.signal ?? undefined;
    const forwardAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) forwardAbort();
    else outer?.addEventListener("abort", forwardAbort, { once: true });
    const timer = setTimeout(
      () => controller.abort(new ResponseTimeoutError(timeoutMs)),
      timeoutMs,
    );
    try {
      const response = await baseFetch(input, { ...init, signal: controller.signal });
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      const reason: unknown = controller.signal.reason;
      if (reason instanceof ResponseTimeoutError && !outer?.aborted) throw reason;
      throw error;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forwardAbort);
    }
  };
}
