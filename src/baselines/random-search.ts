import { Rng } from "../util/random.ts";
import { BaselineRun, type BaselineOptions, type BaselineResult } from "./common.ts";

/** Random search: uniform samples from the space, without repeats. */
export async function randomSearch(options: BaselineOptions): Promise<BaselineResult> {
  const rng = new Rng(options.seed);
  const run = new BaselineRun(options, "random");
  while (!run.done) {
    const arch = run.draw(() => options.space.sample(rng));
    if (arch === null) return run.result("search space exhausted");
    await run.evaluate(arch);
  }
  return run.result("budget spent");
}
