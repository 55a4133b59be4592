import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout contains `text`. */
  waitForStdout(text: string): Promise<void>;
  /** Resolves once stderr contains `text`. */
  waitForStderr(text: string): Promise<void>;
  /** `signal`: the signal that ended the process when it did not exit by itself (its default action). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** The CLI from source, as `pnpm chat` runs it: node + tsx's loader, workspace packages by their "source" export. */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): CliProcess {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/cli.ts", ...args], {
    cwd: packageDir,
    env: { ...process.env, NO_COLOR: "1", CHAT_URL: undefined, CHAT_TOKEN: undefined, ...env },
  });
  const output = { stdout: "", stderr: "" };
  const watchers: Array<{ stream: keyof typeof output; text: string; resolve: () => void }> = [];
  const collect = (stream: keyof typeof output) => (chunk: string) => {
    output[stream] += chunk;
    for (const w of [...watchers]) {
      if (w.stream === stream && output[stream].includes(w.text)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.setEncoding("utf8").on("data", collect("stdout"));
  child.stderr.setEncoding("utf8").on("data", collect("stderr"));
  const waitFor = (stream: keyof typeof output, text: string) =>
    output[stream].includes(text) ? Promise.resolve() : new Promise<void>((resolve) => watchers.push({ stream, text, resolve }));
  if (stdin !== undefined) child.stdin.end(stdin);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, ...output })),
  );
  return {
    child,
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    waitForStdout: (text) => waitFor("stdout", text),
    waitForStderr: (text) => waitFor("stderr", text),
    exited,
  };
}
