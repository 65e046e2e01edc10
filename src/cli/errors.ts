/** A command-line usage error: the message names the option and the fix. */
export class UsageError extends Error {
  override name = "UsageError";
}
