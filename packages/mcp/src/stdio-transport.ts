import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { statSync } from "node:fs";
import { deserializeMessage, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/**
 * Variables a stdio server inherits from the API's environment; everything else of it (OPENAI_API_KEY,
 * AUTH_TOKENS, DATABASE_URL…) stays out. The list of the MCP SDK's getDefaultEnvironment (sudo's), plus
 * locale and temp-dir settings that programs need to behave.
 */
export const inheritedEnvVars = ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "TMPDIR", "TZ"] as const;

/** The environment of a stdio server: the inherited variables, then the server's configured `env`. */
export function serverEnvironment(configured: Record<string, string>, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of inheritedEnvVars) {
    const value = parent[key];
    // A value starting with "()" is an exported shell function (Shellshock): never pass it on.
    if (value !== undefined && !value.startsWith("()")) env[key] = value;
  }
  return { ...env, ...configured };
}

export interface StdioProcessOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Waited for after closing stdin, and again after SIGTERM, before the next step. */
  graceMs: number;
  onStderrLine?: (line: string) => void;
  /** Longest message (one line of stdout) taken from the server; a longer one stops it. Default 32 MiB. */
  maxMessageBytes?: number;
}

/** Default longest message from a stdio server: far beyond a useful tool result, far below a threat to the heap. */
export const defaultMaxMessageBytes = 32 * 1024 * 1024;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const stderrTailLines = 5;
/** After the server process exited, how long its output may still arrive before the session ends. */
const exitToCloseMs = 500;

/**
 * The MCP stdio transport over a child process, with what the SDK's StdioClientTransport does not give:
 * the exit code (for a failure's reason), the tail of stderr (for the log), and a process group, so that close()
 * also reaches what the server started itself (`npx` → node, `uvx` → python).
 *
 * Closing follows the MCP lifecycle: end stdin, wait, SIGTERM, wait, SIGKILL. If the API itself is
 * killed, the server sees stdin end, which is when a stdio server must exit.
 */
export class StdioProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child: ChildProcess | undefined;
  private readonly lines: LineReader;
  /** The process sent a message longer than maxMessageBytes: it is being stopped, and its output is dropped. */
  private oversized = false;
  private readonly lastStderr: string[] = [];
  private exited: ProcessExit | undefined;
  private closed = false;

  constructor(private readonly options: StdioProcessOptions) {
    this.lines = new LineReader(options.maxMessageBytes ?? defaultMaxMessageBytes);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get exit(): ProcessExit | undefined {
    return this.exited;
  }

  /**
   * Why the process ended, for a server's `failed` state and the calls it cut short, which users see. Never what
   * it wrote to stderr: a server may print a token or a connection string as it crashes. That is `stderrTail`, for
   * the log.
   */
  describeExit(): string {
    if (this.oversized) return `it sent a message larger than ${formatBytes(this.lines.maxBytes)} (the limit) and was stopped`;
    const exit = this.exited;
    return !exit ? "the connection closed" : exit.signal ? `the process was killed by ${exit.signal}` : `the process exited with code ${exit.code}`;
  }

  /** The last lines the process wrote to stderr (each already logged as it came), oldest first. */
  get stderrTail(): string[] {
    return [...this.lastStderr];
  }

  start(): Promise<void> {
    if (this.child) throw new Error("StdioProcessTransport already started");
    const { command, args, env, cwd } = this.options;
    const child = spawn(command, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"], detached: true, windowsHide: true });
    this.child = child;
    child.stdout?.on("data", (chunk: Buffer) => {
      if (this.oversized) return;
      // Never throws: an exception here would be uncaught and end the whole API (the SDK's ReadBuffer threw at 10 MB).
      const lines = this.lines.push(chunk);
      for (const line of lines) {
        let message: JSONRPCMessage;
        try {
          message = deserializeMessage(line.replace(/\r$/, ""));
        } catch (error) {
          // A line that is not JSON-RPC (a server printing to stdout): report it, keep reading.
          this.onerror?.(error instanceof Error ? error : new Error(String(error)));
          continue;
        }
        this.onmessage?.(message);
      }
      if (this.lines.overflowed) {
        // The message cannot be read (its id is in it), so the call it answers cannot be told apart: the session
        // ends, the calls on it fail saying why, and the server is restarted like one that exited.
        this.oversized = true;
        this.lines.clear();
        this.onerror?.(new Error(`the server sent a message larger than ${formatBytes(this.lines.maxBytes)}`));
        void this.close();
      }
    });
    let partial = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? "";
      if (partial.length > 4096) partial = partial.slice(-4096);
      for (const line of lines) this.stderrLine(line);
    });
    child.stderr?.on("end", () => {
      if (partial) this.stderrLine(partial);
      partial = "";
    });
    // EPIPE when the server died between our check and the write: its exit is reported by "close".
    child.stdin?.on("error", () => undefined);
    child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      // "close" waits for stdout and stderr to end, which never happens while something the server
      // started outside its group still holds them: give the last output a moment, then stop waiting.
      setTimeout(() => this.finish(), exitToCloseMs).unref();
    });
    child.on("close", (code, signal) => {
      this.exited ??= { code, signal };
      this.finish();
    });
    return new Promise((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (error) => {
        // Before "spawn": the command is missing or not executable. After: a failed kill, nothing to do.
        if (child.pid === undefined) {
          reject(new Error(`cannot start "${command}": ${cwd !== undefined && !isDirectory(cwd) ? `its working directory (cwd) ${cwd} is not a directory` : error.message}`));
          this.finish();
        }
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.exited || !stdin.writable) return Promise.reject(new Error("the server process is not running"));
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once("drain", resolve);
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) {
      this.finish();
      return;
    }
    if (!this.exited) {
      const gone = once(child, "exit").then(() => true);
      const wait = (ms: number) => Promise.race([gone, new Promise<false>((r) => setTimeout(() => r(false), ms).unref())]);
      child.stdin?.end();
      if (!(await wait(this.options.graceMs))) {
        signalGroup(child, "SIGTERM");
        if (!(await wait(this.options.graceMs))) {
          signalGroup(child, "SIGKILL");
          // Only a process stuck in the kernel survives SIGKILL; do not wait for that forever.
          await wait(Math.max(this.options.graceMs, 5_000));
        }
      }
    }
    // The server has exited; what it started in its group may not have.
    signalGroup(child, "SIGTERM");
    child.stdout?.destroy();
    child.stderr?.destroy();
    this.finish();
  }

  private stderrLine(line: string): void {
    const trimmed = line.trim();
    if (!trimmed) return;
    this.lastStderr.push(trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed);
    if (this.lastStderr.length > stderrTailLines) this.lastStderr.shift();
    this.options.onStderrLine?.(trimmed);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.lines.clear();
    this.onclose?.();
  }
}

/**
 * Splits a byte stream into lines (JSON-RPC messages) in linear time: chunks are kept as they came and joined once
 * per line (the SDK's ReadBuffer copied the whole buffer on every chunk: a 5 MB message took seconds of CPU). A line
 * longer than `maxBytes` sets `overflowed` instead of growing without bound.
 */
class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  overflowed = false;

  constructor(readonly maxBytes: number) {}

  /** The complete lines this chunk ends, decoded as UTF-8 (a line is decoded whole: no character is split). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, start);
      if (end === -1) break;
      if (this.pendingBytes + end - start > this.maxBytes) {
        this.overflowed = true;
        return lines;
      }
      const part = chunk.subarray(start, end);
      lines.push(this.pending.length === 0 ? part.toString("utf8") : Buffer.concat([...this.pending, part]).toString("utf8"));
      this.pending = [];
      this.pendingBytes = 0;
      start = end + 1;
    }
    if (start < chunk.length) {
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > this.maxBytes) this.overflowed = true;
      else this.pending.push(chunk.subarray(start));
    }
    return lines;
  }

  clear(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/**
 * A missing cwd fails spawn with the same ENOENT as a missing command ("spawn node ENOENT"), which sends an operator
 * looking for a program that is there.
 */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    // detached: the child leads its own process group, whose id is its pid.
    process.kill(-child.pid!, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
