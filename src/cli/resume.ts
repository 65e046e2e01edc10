import { parseArgs } from "node:util";
import { openCheckpointer } from "../graph/checkpointer.ts";
import { UsageError } from "./errors.ts";
import { locateSearch, requireCheckpoints, type LocatedSearch } from "./locate-search.ts";
import { runParsedSearch, type CommandIO } from "./search.ts";
import { parseSearchArgs } from "./search-options.ts";
import { settingsToArgv } from "./search-session.ts";

export const RESUME_HELP = `Usage: collm-nas resume --out DIR [options]
       collm-nas resume --thread ID --checkpoint SPEC [options]

Continues an interrupted collm search from its last checkpoint. The search
is rebuilt from the settings saved when it started (DIR/search.json, or the
checkpointer); API keys come from the environment as for a new search.
Evaluations saved before the interruption are kept and not run again, and
a reviewed search asks again for the review it was waiting for.

Options:
  --out DIR               run folder of the search; result.json is written
                          there (default with --thread: the search's folder)
  --thread ID             thread to continue (default: the one in search.json)
  --checkpoint SPEC       where the checkpoints are (default: as in
                          search.json): sqlite, FILE.sqlite or a
                          postgres:// URL, which may carry the password
  --json                  print result.json to standard output
  --quiet                 no progress lines
  -h, --help              this help
`;

/** Runs `collm-nas resume`. Returns the process exit code. */
export async function resumeCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const options = parseReferenceArgs(argv, "resume", { json: true, quiet: true });
  if (options.help) {
    io.stdout(RESUME_HELP);
    return 0;
  }
  const search = await locateSearch(options);
  if (search.threadId === null || search.location.kind === "none") {
    throw new UsageError(
      `the search in ${search.outDir} ran with --checkpoint none, so there is nothing to ` +
        "resume from; run it again with collm-nas search",
    );
  }
  requireCheckpoints(search.location);
  if (options.thread && !search.fromCheckpointer) {
    await requireThread(search);
  }

  const checkpointSpec =
    search.location.kind === "sqlite" ? search.location.path : search.location.url;
  const argvOfSearch = [
    ...settingsToArgv(search.settings),
    `--out=${options.out ?? search.outDir}`,
    `--checkpoint=${checkpointSpec}`,
    ...(options.json ? ["--json"] : []),
    ...(options.quiet ? ["--quiet"] : []),
  ];
  const args = parseSearchArgs(argvOfSearch);
  if (args.strategy !== "collm") {
    throw new UsageError(
      `the search in ${search.outDir} is a ${args.strategy} baseline, which keeps no ` +
        "checkpoints; run it again with collm-nas search",
    );
  }
  return runParsedSearch(args, io, { threadId: search.threadId, location: search.location });
}

/** Throws `UsageError` when an explicitly named thread has no checkpoint. */
async function requireThread(search: LocatedSearch): Promise<void> {
  const opened = await openCheckpointer(search.location);
  if (!opened || search.threadId === null) return;
  try {
    const tuple = await opened.saver.getTuple({ configurable: { thread_id: search.threadId } });
    if (!tuple) {
      throw new UsageError(`thread ${search.threadId} has no checkpoint in ${search.outDir}`);
    }
  } finally {
    await opened.close();
  }
}

/** Options shared by `resume` and `history`, which name a search. */
export interface ReferenceArgs {
  out?: string;
  thread?: string;
  checkpoint?: string;
  json: boolean;
  quiet: boolean;
  full: boolean;
  help: boolean;
}

/**
 * Parses --out, --thread, --checkpoint, --help and the flags a command
 * allows. Throws `UsageError` naming an unknown option.
 */
export function parseReferenceArgs(
  argv: readonly string[],
  command: string,
  flags: { json?: boolean; quiet?: boolean; full?: boolean },
): ReferenceArgs {
  const booleanFlags = Object.entries(flags)
    .filter(([, allowed]) => allowed)
    .map(([name]) => [name, { type: "boolean" as const }]);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        out: { type: "string" },
        thread: { type: "string" },
        checkpoint: { type: "string" },
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(booleanFlags),
      },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}; run collm-nas ${command} --help for the options`,
    );
  }
  return {
    out: values.out as string | undefined,
    thread: values.thread as string | undefined,
    checkpoint: values.checkpoint as string | undefined,
    json: values.json === true,
    quiet: values.quiet === true,
    full: values.full === true,
    help: values.help === true,
  };
}
