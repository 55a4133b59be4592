import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/**
 * A private PostgreSQL cluster as a child process of the test, for tests that stop and restart the server (the
 * shared one from STREAMCHAT_TEST_DATABASE_URL serves every test file at once and must stay up). Same recipe as
 * scripts/test-services.sh: initdb with trust auth, a free loopback port, the socket in the temp dir; as root the
 * server runs as the `postgres` user (initdb refuses root), spawned with its uid/gid so it stays in our process tree.
 */
export function postgresBinDir(): string | undefined {
  const configured = process.env.STREAMCHAT_TEST_PG_BIN;
  if (configured) return existsSync(join(configured, "initdb")) ? configured : undefined;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface PrivateCluster {
  url: string;
  /** Stops the server the hard way (SIGQUIT: immediate shutdown, as in a crash) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory (crash recovery included) and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
}

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL binaries not found (set STREAMCHAT_TEST_PG_BIN)");
  const dir = mkdtempSync(join(tmpdir(), "streamchat-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot
    ? { uid: Number(execFileSync("id", ["-u", "postgres"]).toString()), gid: Number(execFileSync("id", ["-g", "postgres"]).toString()) }
    : {};
  if (asRoot) chownSync(dir, ids.uid!, ids.gid!);
  execFileSync(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"], {
    ...ids,
    stdio: "ignore",
  });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let server: ChildProcess | undefined;

  async function answers(): Promise<boolean> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  }

  async function start(): Promise<void> {
    const child = spawn(
      join(bin!, "postgres"),
      ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
      { ...ids, stdio: "ignore" },
    );
    server = child;
    const deadline = Date.now() + 60_000;
    while (!(await answers())) {
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("postgres did not start within 60 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function stop(signal: NodeJS.Signals): Promise<void> {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }

  await start();
  return {
    url,
    kill: () => stop("SIGQUIT"),
    start,
    async destroy() {
      await stop("SIGINT");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
