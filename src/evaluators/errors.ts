/** Invalid evaluator input: a file, column or option that cannot be used. */
export class EvaluatorInputError extends Error {
  override name = "EvaluatorInputError";
}
