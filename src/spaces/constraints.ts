import type { Cost } from "./types.ts";

/** A cost metric a constraint can bound. */
export type ConstraintMetric = "flops" | "params" | "latency";

/** One bound on a cost metric, in the metric's unit (M FLOPs, M params, ms). */
export interface Constraint {
  metric: ConstraintMetric;
  op: "<=" | ">=";
  value: number;
}

/** A constraint string that does not parse, or constraints no value can meet. */
export class ConstraintParseError extends Error {
  override name = "ConstraintParseError";
}

const METRIC_ALIASES: Record<string, ConstraintMetric> = {
  flops: "flops",
  mflops: "flops",
  macs: "flops",
  params: "params",
  parameters: "params",
  latency: "latency",
  lat: "latency",
};

/** Unit of each metric, and the suffixes accepted with their factor to that unit. */
const UNITS: Record<ConstraintMetric, { unit: string; suffixes: Record<string, number> }> = {
  flops: { unit: "M", suffixes: { "": 1, m: 1, mflops: 1, g: 1000, gflops: 1000 } },
  params: { unit: "M", suffixes: { "": 1, m: 1, k: 0.001 } },
  latency: { unit: "ms", suffixes: { "": 1, ms: 1, s: 1000 } },
};

const COST_FIELD: Record<ConstraintMetric, keyof Cost> = {
  flops: "flopsM",
  params: "paramsM",
  latency: "latencyMs",
};

const ACCEPTED_FORM =
  "expected METRIC<=VALUE or METRIC>=VALUE joined by commas, with METRIC one of " +
  "flops (M multiply-adds), params (M parameters), latency (ms), e.g. flops<=400,params>=5";

/** Parses one `metric op value` term. */
function parseTerm(term: string, whole: string): Constraint {
  const match =
    /^([a-z]+)\s*(<=|>=|=<|=>|<|>|=)\s*([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)\s*([a-z]*)$/i.exec(term);
  if (!match) {
    throw new ConstraintParseError(`invalid constraint "${term}" in "${whole}"; ${ACCEPTED_FORM}`);
  }

  const [, name, rawOp, number, rawSuffix] = match;
  const metric = METRIC_ALIASES[name.toLowerCase()];
  if (!metric) {
    throw new ConstraintParseError(
      `unknown metric "${name}" in constraint "${term}"; expected flops, params or latency`,
    );
  }
  if (rawOp === "<" || rawOp === ">" || rawOp === "=") {
    throw new ConstraintParseError(
      `invalid operator "${rawOp}" in constraint "${term}"; use <= or >=`,
    );
  }
  let op: "<=" | ">=" = "<=";
  if (rawOp === ">=" || rawOp === "=>") op = ">=";

  const { unit, suffixes } = UNITS[metric];
  const factor = suffixes[rawSuffix.toLowerCase()];
  if (factor === undefined) {
    const accepted = Object.keys(suffixes).filter((suffix) => suffix !== "");
    throw new ConstraintParseError(
      `invalid unit "${rawSuffix}" in constraint "${term}"; ${metric} is in ${unit} ` +
        `(write a plain number or one of: ${accepted.join(", ")})`,
    );
  }

  const value = Number(number) * factor;
  if (!Number.isFinite(value) || value < 0) {
    throw new ConstraintParseError(`invalid value "${number}" in constraint "${term}"`);
  }
  return { metric, op, value };
}

/**
 * Parses `--constraint` strings such as `flops<=400`, `params>=5,params<=6`
 * or `latency<=30ms`. FLOPs are in millions of multiply-adds (suffix G for
 * billions), parameters in millions (suffix K for thousands), latency in
 * milliseconds (suffix s for seconds). Several strings combine as one list.
 *
 * @throws ConstraintParseError naming the term that does not parse, or two
 *   bounds on one metric that no value can meet
 * @example
 * parseConstraints("flops<=400,params>=5"); // two constraints
 */
export function parseConstraints(input: string | readonly string[]): Constraint[] {
  const strings = typeof input === "string" ? [input] : input;
  const constraints: Constraint[] = [];
  for (const text of strings) {
    const terms = text.split(",").map((term) => term.trim());
    if (terms.every((term) => term === "")) {
      throw new ConstraintParseError(`empty constraint "${text}"; ${ACCEPTED_FORM}`);
    }
    for (const term of terms) {
      if (term === "") {
        throw new ConstraintParseError(`empty term in constraint "${text}"; ${ACCEPTED_FORM}`);
      }
      constraints.push(parseTerm(term, text));
    }
  }
  checkFeasible(constraints);
  return constraints;
}

/** Rejects a lower bound above an upper bound on the same metric. */
function checkFeasible(constraints: readonly Constraint[]): void {
  for (const metric of ["flops", "params", "latency"] as const) {
    const uppers = constraints.filter((c) => c.metric === metric && c.op === "<=");
    const lowers = constraints.filter((c) => c.metric === metric && c.op === ">=");
    if (uppers.length === 0 || lowers.length === 0) continue;
    const upper = uppers.reduce((a, b) => (b.value < a.value ? b : a));
    const lower = lowers.reduce((a, b) => (b.value > a.value ? b : a));
    if (lower.value > upper.value) {
      throw new ConstraintParseError(
        `constraints ${formatConstraint(lower)} and ${formatConstraint(upper)} leave no ` +
          `feasible ${metric}; the lower bound must not exceed the upper bound`,
      );
    }
  }
}

/** Formats a number with at most two decimals: 431.2, 400, 5.87. */
function formatAmount(value: number): string {
  return String(Number(value.toFixed(2)));
}

/** Formats a constraint as `flops<=400M`. */
export function formatConstraint(constraint: Constraint): string {
  const { unit } = UNITS[constraint.metric];
  return `${constraint.metric}${constraint.op}${formatAmount(constraint.value)}${unit}`;
}

/** How far a cost misses one constraint. */
export interface ConstraintViolation {
  constraint: Constraint;
  /** The cost's value, in the constraint's unit. */
  actual: number;
  /** How far the value is beyond the bound, in the constraint's unit. */
  excess: number;
  /** `excess` as a fraction of the bound; Infinity when the bound is 0. */
  relative: number;
  /** E.g. "flops 431.2M exceeds 400M by 31.2M (7.8%)". */
  message: string;
}

/** Result of checking one cost against constraints. */
export interface ConstraintCheck {
  /** True when every constraint is met and none is unknown. */
  ok: boolean;
  violations: ConstraintViolation[];
  /** Constraints on a metric the cost does not have, such as latency without a table. */
  unknown: Constraint[];
}

/**
 * Checks a cost against constraints. A constraint on a metric the cost
 * lacks counts as unknown and makes the check fail, so a search never
 * treats an unmeasured latency as meeting a bound.
 *
 * @example
 * checkConstraints({ flopsM: 431.2 }, parseConstraints("flops<=400"))
 *   .violations[0].message; // "flops 431.2M exceeds 400M by 31.2M (7.8%)"
 */
export function checkConstraints(cost: Cost, constraints: readonly Constraint[]): ConstraintCheck {
  const violations: ConstraintViolation[] = [];
  const unknown: Constraint[] = [];
  for (const constraint of constraints) {
    const actual = cost[COST_FIELD[constraint.metric]];
    if (actual === undefined || !Number.isFinite(actual)) {
      unknown.push(constraint);
      continue;
    }
    const excess = constraint.op === "<=" ? actual - constraint.value : constraint.value - actual;
    if (excess <= 0) continue;
    const relative = constraint.value === 0 ? Infinity : excess / constraint.value;
    const { unit } = UNITS[constraint.metric];
    const verb = constraint.op === "<=" ? "exceeds" : "is below";
    const percent = Number.isFinite(relative) ? ` (${(relative * 100).toFixed(1)}%)` : "";
    violations.push({
      constraint,
      actual,
      excess,
      relative,
      message:
        `${constraint.metric} ${formatAmount(actual)}${unit} ${verb} ` +
        `${formatAmount(constraint.value)}${unit} by ${formatAmount(excess)}${unit}${percent}`,
    });
  }
  return { ok: violations.length === 0 && unknown.length === 0, violations, unknown };
}

/**
 * Joins the messages of a failed check, such as "flops 431.2M exceeds 400M
 * by 31.2M (7.8%)". Returns undefined when the check passed.
 */
export function describeConstraintCheck(check: ConstraintCheck): string | undefined {
  if (check.ok) return undefined;
  const messages = check.violations.map((violation) => violation.message);
  for (const constraint of check.unknown) {
    messages.push(`${constraint.metric} is unknown for ${formatConstraint(constraint)}`);
  }
  return messages.join("; ");
}
