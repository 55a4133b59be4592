import { Worker } from "node:worker_threads";
import { ChatError } from "../errors.js";
import type { CalculatorReady, CalculatorReply, CalculatorRequest } from "./calculator-worker.js";

/**
 * Expressions are evaluated in worker threads: mathjs work is synchronous, so on the main thread a
 * few characters (`diag(1:30000)`, a recursive function) could exhaust the server's heap or block its
 * event loop for minutes, out of reach of any timeout. A worker has its own small heap (running out
 * of it ends only that worker) and is terminated when the tool's timeout passes or the run is cancelled.
 */

/** Per worker. The restricted mathjs instance itself takes ~40 MB of heap. */
const resourceLimits = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };

/**
 * Workers at most; more concurrent calculations wait for one (within their own timeout). One is kept warm: after
 * the first calculation, or from `prepareCalculator()` on (the server calls it at start-up, so that the first
 * call does not pay a worker's start, about a second of CPU for the mathjs instance).
 */
const maxWorkers = 2;

// Next to this module: calculator-worker.ts when running from source (vitest, tsx; Node strips the
// types of the self-contained worker), calculator-worker.js from dist.
const workerUrl = new URL(import.meta.url.endsWith(".ts") ? "./calculator-worker.ts" : "./calculator-worker.js", import.meta.url);

/** What the pool holds now; for tests. */
export interface CalculatorPoolState {
  /** Workers alive (busy or idle). */
  workers: number;
  /** Of those, the ones that have built their mathjs instance (a request to them starts at once). */
  ready: number;
  /** Workers started since the process started. */
  started: number;
}

const isReady = (message: CalculatorReply | CalculatorReady): message is CalculatorReady => "ready" in message;

class CalculatorPool {
  private readonly workers = new Set<Worker>();
  private readonly ready = new WeakSet<Worker>();
  private readonly idle: Worker[] = [];
  private readonly waiters = new Set<() => void>();
  private nextId = 1;
  private started = 0;
  /** prepare() was called: an idle worker is kept ready, also after one was terminated (timeout, cancel, heap). */
  private keepWarm = false;
  /** Promises of prepare(), settled once an idle worker is ready or none is starting (see prepared()). */
  private readonly preparing = new Set<() => boolean>();

  state(): CalculatorPoolState {
    let ready = 0;
    for (const worker of this.workers) if (this.ready.has(worker)) ready++;
    return { workers: this.workers.size, ready, started: this.started };
  }

  /**
   * Starts a worker now unless one is idle (or the pool is full), and keeps one warm from then on. Resolves once an
   * idle worker is ready, or no worker is starting any more (one that could not start: the first call reports it).
   */
  prepare(): Promise<void> {
    this.keepWarm = true;
    this.replenish();
    return new Promise<void>((resolve) => {
      const settled = () => {
        if (!this.prepared()) return false;
        this.preparing.delete(settled);
        resolve();
        return true;
      };
      if (!settled()) this.preparing.add(settled);
    });
  }

  private prepared(): boolean {
    if (this.idle.some((worker) => this.ready.has(worker))) return true;
    for (const worker of this.workers) if (!this.ready.has(worker)) return false;
    return true;
  }

  private settlePrepares(): void {
    for (const settled of [...this.preparing]) settled();
  }

  private replenish(): void {
    if (!this.keepWarm || this.idle.length > 0 || this.waiters.size > 0 || this.workers.size >= maxWorkers) return;
    this.idle.push(this.spawn());
  }

  async evaluate(expression: string, signal: AbortSignal): Promise<CalculatorReply> {
    const worker = await this.acquire(signal);
    return this.run(worker, expression, signal);
  }

  private async acquire(signal: AbortSignal): Promise<Worker> {
    for (;;) {
      if (signal.aborted) throw abortError(signal);
      const worker = this.idle.pop();
      if (worker) return worker;
      if (this.workers.size < maxWorkers) return this.spawn();
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          this.waiters.delete(wake);
          reject(abortError(signal));
        };
        this.waiters.add(wake);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
  }

  private spawn(): Worker {
    // execArgv []: the parent's flags are not the worker's business (`--input-type`, a loader) and some
    // make a file worker fail to start.
    const worker = new Worker(workerUrl, { resourceLimits, execArgv: [], stdout: false, stderr: false });
    this.workers.add(worker);
    this.started++;
    // An idle worker must not keep a process alive; a busy one is ref'd for the duration of its work.
    worker.unref();
    const onReady = (message: CalculatorReply | CalculatorReady) => {
      if (!isReady(message)) return;
      this.ready.add(worker);
      worker.off("message", onReady);
      this.settlePrepares();
    };
    worker.on("message", onReady);
    worker.once("exit", () => {
      worker.off("message", onReady);
      this.workers.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      this.wakeOne();
      // A worker that never became ready (it could not start) is not replaced here: that would loop. The next
      // calculation starts one and reports the failure.
      if (this.ready.has(worker)) this.replenish();
      this.settlePrepares();
    });
    // Errors are handled per calculation in run(); this keeps one between calculations from being unhandled.
    worker.on("error", () => undefined);
    return worker;
  }

  private run(worker: Worker, expression: string, signal: AbortSignal): Promise<CalculatorReply> {
    const id = this.nextId++;
    worker.ref();
    return new Promise<CalculatorReply>((resolve, reject) => {
      const cleanup = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        signal.removeEventListener("abort", onAbort);
        worker.unref();
      };
      const onMessage = (reply: CalculatorReply | CalculatorReady) => {
        if (isReady(reply) || reply.id !== id) return;
        cleanup();
        // One warm worker is kept (starting one costs a mathjs instance); a second idle one only holds memory.
        if (this.idle.length === 0 || this.waiters.size > 0) this.idle.push(worker);
        else void worker.terminate();
        this.wakeOne();
        resolve(reply);
      };
      // The worker exits after an error (heap limit reached, or it could not start); its exit frees the slot.
      const onError = (error: Error & { code?: string }) => {
        cleanup();
        if (error.code === "ERR_WORKER_OUT_OF_MEMORY") {
          reject(new ChatError("tool_failed", `"${expression}" needs more memory than the calculator allows. Try a smaller calculation.`, { cause: error }));
        } else {
          reject(new ChatError("tool_failed", "The calculator stopped unexpectedly.", { cause: error }));
        }
      };
      const onExit = () => {
        cleanup();
        reject(new ChatError("tool_failed", "The calculator stopped unexpectedly."));
      };
      const onAbort = () => {
        cleanup();
        void worker.terminate();
        reject(abortError(signal));
      };
      if (signal.aborted) return onAbort();
      worker.on("message", onMessage);
      worker.once("error", onError);
      worker.once("exit", onExit);
      signal.addEventListener("abort", onAbort, { once: true });
      const request: CalculatorRequest = { id, expression };
      worker.postMessage(request);
    });
  }

  private wakeOne(): void {
    const [next] = this.waiters;
    if (!next) return;
    this.waiters.delete(next);
    next();
  }
}

function abortError(signal: AbortSignal): ChatError {
  return signal.reason instanceof ChatError ? signal.reason : new ChatError("cancelled", "The answer was stopped.");
}

const pool = new CalculatorPool();

/** Calculator workers alive now (busy or idle); for tests. */
export function calculatorWorkers(): number {
  return pool.state().workers;
}

/** The calculator's workers now; for tests. */
export function calculatorPoolState(): CalculatorPoolState {
  return pool.state();
}

/**
 * Starts a calculator worker ahead of need and keeps one idle and ready from then on (also after a calculation
 * was terminated): the first calculation then does not wait for a worker to build its mathjs instance. Call it
 * where the tool is offered (a server's start-up), not on import: the idle worker holds ~50–90 MB of RSS. Cheap to call again.
 * Resolves once the worker is ready (or could not start), e.g. for a benchmark that measures after start-up.
 */
export function prepareCalculator(): Promise<void> {
  return pool.prepare();
}

/**
 * Evaluates an arithmetic expression (units, complex numbers, matrices, trigonometry…) in a worker and
 * formats the result to 14 significant digits. Throws ChatError: invalid_tool_args for an expression
 * that is wrong or refused (with mathjs' reason), tool_failed for a result too large to return or a
 * calculation that ran out of memory; aborting `signal` terminates the calculation.
 */
export async function calculate(expression: string, signal: AbortSignal): Promise<string> {
  const reply = await pool.evaluate(expression, signal);
  if (reply.ok) return reply.result;
  throw new ChatError(reply.kind === "invalid" ? "invalid_tool_args" : "tool_failed", reply.message);
}
