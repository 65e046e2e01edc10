// Preloaded with `node --import`: when the process exits, writes its peak
// resident set size in KiB (process.resourceUsage().maxRSS) to the file
// that MAX_RSS_FILE names.
import { writeFileSync } from "node:fs";

const file = process.env.MAX_RSS_FILE;
if (file) {
  process.on("exit", () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
