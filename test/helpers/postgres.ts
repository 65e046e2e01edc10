import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A PostgreSQL server for tests: the one at COLLM_NAS_TEST_POSTGRES_URL,
 * else a throwaway cluster in a temporary folder, started with the
 * binaries of Debian's postgresql package and listening on 127.0.0.1.
 */
export interface TestPostgres {
  url: string;
  /** Stops a cluster this helper started and deletes its folder. */
  stop(): void;
}

/** User that runs the cluster when the tests run as root, which initdb refuses. */
const CLUSTER_OWNER = "postgres";

const externalUrl = process.env.COLLM_NAS_TEST_POSTGRES_URL;

function findBinaries(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"))) return bin;
  }
  return null;
}

function ownerIds(): { uid: number; gid: number } | null {
  const uid = spawnSync("id", ["-u", CLUSTER_OWNER], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", CLUSTER_OWNER], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const binaries = externalUrl ? null : findBinaries();
const runningAsRoot = process.getuid?.() === 0;
const owner = runningAsRoot ? ownerIds() : null;

/** Reason to skip PostgreSQL tests, or false when a server is available. */
export const postgresSkip: string | false = externalUrl
  ? false
  : !binaries
    ? "no PostgreSQL: set COLLM_NAS_TEST_POSTGRES_URL or install Debian's postgresql package"
    : runningAsRoot && !owner
      ? `running as root and no "${CLUSTER_OWNER}" user to own a throwaway cluster`
      : false;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Runs a PostgreSQL binary as the cluster owner; throws with its output when it fails. */
function runAsOwner(bin: string, args: string[]): void {
  const command = runningAsRoot ? "runuser" : join(binaries!, bin);
  const fullArgs = runningAsRoot ? ["-u", CLUSTER_OWNER, "--", join(binaries!, bin), ...args] : args;
  const run = spawnSync(command, fullArgs, { encoding: "utf8", timeout: 60_000 });
  if (run.status !== 0) {
    throw new Error(
      `${bin} ${args.join(" ")} failed (${run.error?.message ?? `exit ${run.status}`}):\n` +
        `${run.stdout}\n${run.stderr}`,
    );
  }
}

/**
 * Starts the test server. A started cluster is also stopped when the
 * process exits, so a failing test leaves no server behind.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  if (externalUrl) return { url: externalUrl, stop: () => {} };
  if (postgresSkip) throw new Error(postgresSkip);

  const folder = mkdtempSync(join(tmpdir(), "collm-pg-"));
  const data = join(folder, "data");
  if (owner) chownSync(folder, owner.uid, owner.gid);
  const port = await freePort();

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      runAsOwner("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // The cluster may not have started; the folder goes either way.
    }
    rmSync(folder, { recursive: true, force: true });
  };
  process.once("exit", stop);

  try {
    runAsOwner("initdb", ["-D", data, "-U", "collm", "--auth=trust", "--no-sync", "-E", "UTF8"]);
    const serverOptions = `-h 127.0.0.1 -p ${port} -k ${folder} -c fsync=off`;
    runAsOwner("pg_ctl", ["-D", data, "-l", join(folder, "server.log"), "-o", serverOptions, "-w", "start"]);
  } catch (error) {
    stop();
    throw error;
  }
  return { url: `postgres://collm@127.0.0.1:${port}/postgres`, stop };
}
