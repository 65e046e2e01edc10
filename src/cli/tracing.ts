import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";

/** Maximum wait for pending traces before the CLI exits without them, in milliseconds. */
export const TRACE_FLUSH_TIMEOUT_MS = 10_000;

/**
 * Waits until LangChain's background callbacks have run and the LangSmith
 * client has sent the runs it queued, so that a short CLI run exits with
 * its trace complete. Without tracing there is nothing to wait for and it
 * returns at once.
 *
 * @returns false when the wait timed out (LangSmith unreachable, say)
 */
export async function flushTraces(timeoutMs = TRACE_FLUSH_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([awaitAllCallbacks().then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
