import { writePartialResult } from "./search-session.ts";

/** A rewrite of result.json taking at least this long, in milliseconds, counts as slow. */
export const SLOW_WRITE_MS = 5;

/** After a slow rewrite, rounds are skipped for this many times its duration. */
export const PAUSE_FACTOR = 10;

/**
 * Creates the function that rewrites the partial result after a round. A
 * rewrite under `SLOW_WRITE_MS` is repeated after every round. After a
 * slower one, the rounds that end within `PAUSE_FACTOR` times its duration
 * are skipped, so that rewriting a large result (about 5 MB at 10,000
 * evaluations) takes at most about a tenth of the search's time. The
 * caller writes the final result itself.
 *
 * @param now clock in milliseconds; tests pass a fake one
 * @returns a function that calls `build` and writes its result, or skips
 *   the round without calling it; it returns whether it wrote
 */
export function createPartialResultWriter(
  path: string,
  now: () => number = () => performance.now(),
): (build: () => unknown) => boolean {
  let pausedUntil = Number.NEGATIVE_INFINITY;
  return (build) => {
    const started = now();
    if (started < pausedUntil) return false;
    writePartialResult(path, build());
    const finished = now();
    const duration = finished - started;
    pausedUntil = duration < SLOW_WRITE_MS ? Number.NEGATIVE_INFINITY : finished + PAUSE_FACTOR * duration;
    return true;
  };
}
