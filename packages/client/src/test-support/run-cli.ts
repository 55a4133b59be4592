import { PassThrough } from "node:stream";
import { runCli } from "../cli/main.js";

/** runCli in this process with captured output (the spawned-process tests are in src/cli.test.ts). */
export async function runCliCaptured(argv: string[], env: Record<string, string | undefined> = {}, input?: string | Uint8Array) {
  let stdout = "";
  let stderr = "";
  const stdin = new PassThrough();
  if (input !== undefined) stdin.end(input);
  const code = await runCli(argv, {
    stdin,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    onInterrupt: () => () => {},
    exit: (code) => {
      throw new Error(`unexpected exit ${code}`);
    },
  });
  return { code, stdout, stderr };
}

/** runCli in this process, with its Ctrl-C handler in reach (`interrupt`) and each stdout write seen as it happens. */
export function runWithInterrupt(argv: string[], env: Record<string, string>, onStdout: (text: string, interrupt: () => void) => void) {
  let stdout = "";
  let stderr = "";
  let handler = () => {};
  const code = runCli(argv, {
    stdin: new PassThrough(),
    stdout: {
      write: (text: string) => {
        stdout += text;
        onStdout(text, () => handler());
        return true;
      },
    },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    onInterrupt: (h) => {
      handler = h;
      return () => (handler = () => {});
    },
    exit: (code) => {
      throw new Error(`unexpected exit ${code}`);
    },
  });
  return code.then((code) => ({ code, stdout, stderr }));
}
