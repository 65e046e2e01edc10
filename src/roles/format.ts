import type { SearchSpace } from "../spaces/types.ts";
import type { Best, EvaluationRecord, Rejection } from "../graph/state.ts";

/** One line per evaluated architecture: architecture; accuracy; cost. */
export function formatResults(
  space: SearchSpace,
  records: readonly EvaluationRecord[],
): string {
  if (records.length === 0) return "(none)";
  return records
    .map((record) => {
      const arch = formatArch(space, record.arch);
      if (record.error !== undefined) return `- ${arch}; failed: ${record.error}`;
      return `- ${arch}; ${record.metrics.accuracy!.toFixed(2)}; ${formatCost(record.metrics)}`;
    })
    .join("\n");
}

/** Architecture in the space's compact form, or its JSON when it no longer parses. */
export function formatArch(space: SearchSpace, json: unknown): string {
  const parsed = space.parse(json);
  return parsed.ok ? space.format(parsed.arch) : JSON.stringify(json);
}

export function formatCost(metrics: Record<string, number | undefined>): string {
  const parts: string[] = [];
  if (metrics.flopsM !== undefined) parts.push(`${metrics.flopsM.toFixed(1)} MFLOPs`);
  if (metrics.paramsM !== undefined) parts.push(`${metrics.paramsM.toFixed(3)} M params`);
  if (metrics.latencyMs !== undefined) parts.push(`${metrics.latencyMs.toFixed(1)} ms`);
  return parts.length > 0 ? parts.join(", ") : "cost unknown";
}

export function formatBest(space: SearchSpace, best: Best | null): string {
  if (!best) return "none yet";
  return `${best.accuracy.toFixed(2)}% (${formatArch(space, best.arch)}, round ${best.round})`;
}

export function formatRejections(rejections: readonly Rejection[], max = 10): string {
  if (rejections.length === 0) return "(none)";
  const lines = rejections.slice(0, max).map((r) => `- ${r.proposal}: ${r.reason}`);
  if (rejections.length > max) lines.push(`- ... and ${rejections.length - max} more`);
  return lines.join("\n");
}
