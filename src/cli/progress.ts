import type { RoundEvent } from "../roles/coordinator.ts";
import type { CommandIO } from "./search.ts";

/** Shows the progress of a search from its round events. */
export interface ProgressReporter {
  update(event: RoundEvent): void;
  /** Ends the bar's line, so later output starts on a new line. */
  finish(): void;
}

const BAR_WIDTH = 30;

/**
 * Creates the progress display of a search: a bar redrawn in place when
 * standard error is a terminal (`io.isTTY`), else one line per round, or
 * per tenth evaluation for the baselines, which report every evaluation.
 */
export function createProgressReporter(strategy: string, io: CommandIO): ProgressReporter {
  return io.isTTY ? progressBar(strategy, io) : progressLines(strategy, io);
}

function progressLines(strategy: string, io: CommandIO): ProgressReporter {
  return {
    update(event) {
      if (
        strategy !== "collm" &&
        event.evaluations % 10 !== 0 &&
        event.evaluations !== event.budget
      ) {
        return;
      }
      const label = strategy === "collm" ? `round ${event.round}` : `step ${event.round}`;
      io.stderr(
        `${label}  evaluations ${event.evaluations}/${event.budget}  best ${formatBest(event)}\n`,
      );
    },
    finish() {},
  };
}

function progressBar(strategy: string, io: CommandIO): ProgressReporter {
  let drawn = false;
  return {
    update(event) {
      const fraction = event.budget > 0 ? Math.min(1, event.evaluations / event.budget) : 1;
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = `${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}`;
      const label = strategy === "collm" ? `round ${event.round}` : `step ${event.round}`;
      const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
      // \r returns to the line start and \x1b[K clears the rest of the line.
      io.stderr(
        `\r[${bar}] ${percent} ${event.evaluations}/${event.budget}  ${label}  ` +
          `best ${formatBest(event)}\x1b[K`,
      );
      drawn = true;
    },
    finish() {
      if (drawn) io.stderr("\n");
      drawn = false;
    },
  };
}

function formatBest(event: RoundEvent): string {
  return event.bestAccuracy === null ? "none" : `${event.bestAccuracy.toFixed(2)}%`;
}
