import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * NAS-Bench-201 table shipped beside the repository for tests and
 * benchmarks (not part of the package). Tests that need it skip when it
 * is absent.
 */
export const NB201_CSV = fileURLToPath(
  new URL("../../../shared/data/nb201/nb201.csv", import.meta.url),
);

export const nb201Skip = existsSync(NB201_CSV)
  ? false
  : `NAS-Bench-201 table not found at ${NB201_CSV}`;
