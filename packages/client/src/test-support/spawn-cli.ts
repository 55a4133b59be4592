import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout contains `text`. */
  waitForStdout(text: string): Promise<void>;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The CLI from source, as `pnpm chat` runs it: node + tsx's loader, workspace packages by their "source" export. */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): CliProcess {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/cli.ts", ...args], {
    cwd: packageDir,
    env: { ...process.env, NO_COLOR: "1", CHAT_URL: undefined, CHAT_TOKEN: undefined, ...env },
  });
  let out = "";
  let err = "";
  const watchers: Array<{ text: string; resolve: () => void }> = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const w of [...watchers]) {
      if (out.includes(w.text)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  if (stdin !== undefined) child.stdin.end(stdin);
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout: out, stderr: err })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout: (text) =>
      out.includes(text) ? Promise.resolve() : new Promise((resolve) => watchers.push({ text, resolve })),
    exited,
  };
}
