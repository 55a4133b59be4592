import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ContentBlockSchema, ErrorCode, McpError, ToolListChangedNotificationSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { STATUS_CODES } from "node:http";
import { ChatError, linkedController, timerDelay } from "@streamchat/core";
import { z } from "zod";
import { isStdioServer, type McpServerConfig } from "./config.js";
import { errorText, toToolResult, type McpToolResult } from "./result.js";
import { InputSchemaCompiler, type InputSchemaCheck, type ToolArgs } from "./schema.js";
import { watchedFetch } from "./http-stream-watch.js";
import { nodeFetch, RequestNotDeliveredError, RequestOutcomeUnknownError } from "./http-fetch.js";
import { McpCallOutcomeUnknownError, McpHttpAnswerError } from "./call-errors.js";
import { ResponseTooLargeError } from "./response-limit.js";
import { StderrLog } from "./stderr-log.js";
import { StdioProcessTransport, formatBytes, serverEnvironment } from "./stdio-transport.js";
import type { McpLogger, McpServerState, McpServerStatus, RestartPolicy } from "./types.js";
import { isRecord } from "./records.js";

/** One tool of a server's last listing. */
export interface ListedTool {
  mcpName: string;
  description: string;
  /** As the server gave it. */
  inputSchema: Record<string, unknown>;
  check: InputSchemaCheck;
  requiresApproval: boolean;
}

export interface ConnectionOptions {
  log: McpLogger;
  toolTimeoutMs: number;
  connectTimeoutMs: number;
  shutdownGraceMs: number;
  restart: Required<RestartPolicy>;
  parentEnv: NodeJS.ProcessEnv;
  /** Longest message a stdio server may send (stdio-transport.ts). */
  maxMessageBytes: number;
  /** After every change of state or of the tool list. */
  onChange: () => void;
}

const clientInfo = { name: "streamchat", version: "0.1.0" };
/** A server paging without end must not keep a listing going forever. */
const maxListPages = 50;

// Looser than the SDK's CallToolResultSchema on purpose: a content block of a type this SDK does not know is passed
// on (result.ts summarizes it for the model), not a reason to fail the call. Known blocks are checked by callResult.
const callResultSchema = z.looseObject({
  content: z.array(z.looseObject({ type: z.string() })).optional(),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean().optional(),
  // Protocol version 2024-10-07's form of a result.
  toolResult: z.unknown().optional(),
});

/** The reason a call's HTTP response ended without its answer (http-stream-watch.ts); told apart by the error's data. */
const responseCut = "the server closed the connection before answering";
/** The reason a call's HTTP response was cut by the message limit (response-limit.ts). */
const responseTooLarge = "the server sent a message over the limit";

const knownBlockTypes: ReadonlySet<string> = new Set(["text", "image", "audio", "resource_link", "resource"]);

function invalidResult(offeredName: string, server: string): ChatError {
  return new ChatError("tool_failed", `Tool ${offeredName} failed: the MCP server "${server}" returned a result that is not valid MCP.`);
}

/** The call's result with its content blocks checked: a known block must be whole (a text block without text is no result). */
function callResult(result: z.infer<typeof callResultSchema>, offeredName: string, server: string): CallToolResult {
  if (result.content === undefined) {
    const content = "toolResult" in result ? [{ type: "text" as const, text: JSON.stringify(result.toolResult ?? null) }] : [];
    return { ...result, content };
  }
  for (const block of result.content) {
    if (knownBlockTypes.has(block.type) && !ContentBlockSchema.safeParse(block).success) throw invalidResult(offeredName, server);
  }
  return result as CallToolResult;
}

// Looser than the SDK's ListToolsResultSchema on purpose: one tool with a broken schema must not take
// the whole listing (and every other tool of the server) down with it.
const listPageSchema = z.object({ tools: z.array(z.unknown()), nextCursor: z.string().optional() });
const listedToolSchema = z.looseObject({
  name: z.string().min(1),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: z.unknown(),
});

/**
 * One configured MCP server: connects, lists its tools (again on `tools/list_changed`), calls them, and
 * restarts it with back-off after a crash or a failed start. Every session has a generation number;
 * callbacks of a session that has ended ignore themselves.
 */
export class McpServerConnection {
  private state: McpServerState = "starting";
  private error: string | undefined;
  private nextRetryAt: number | undefined;
  private restarts = 0;
  private failuresInARow = 0;
  private listed: ListedTool[] = [];

  private generation = 0;
  private client: Client | undefined;
  private transport: Transport | undefined;
  private connectedAt: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly closing = new Set<Promise<void>>();
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private stateChanged = deferred();
  private readonly firstAttempt = deferred();
  private connecting = false;

  constructor(
    readonly name: string,
    private readonly config: McpServerConfig,
    private readonly options: ConnectionOptions,
  ) {}

  get transportKind(): "stdio" | "http" {
    return isStdioServer(this.config) ? "stdio" : "http";
  }

  /** Settles once the first connection attempt has (connected, failed, or the server is disabled). */
  get settled(): Promise<void> {
    return this.firstAttempt.promise;
  }

  get tools(): readonly ListedTool[] {
    return this.listed;
  }

  get isConnected(): boolean {
    return this.state === "connected";
  }

  start(): void {
    if (!this.config.enabled) {
      this.setState("disabled");
      this.firstAttempt.resolve();
      return;
    }
    void this.connect();
  }

  status(): Omit<McpServerStatus, "tools"> {
    const status: Omit<McpServerStatus, "tools"> = { name: this.name, transport: this.transportKind, state: this.state, restarts: this.restarts };
    if (this.error !== undefined && this.state !== "connected") status.error = this.error;
    if (this.nextRetryAt !== undefined && this.state === "failed") status.nextRetryAt = this.nextRetryAt;
    if (this.transport instanceof StdioProcessTransport && this.transport.pid !== undefined && !this.transport.exit) status.pid = this.transport.pid;
    return status;
  }

  /**
   * Calls a tool. Waits while the server is (re)starting, for as long as `signal` and toolTimeoutMs allow; fails at
   * once when it is failed, disabled or shut down. Every failure is a ChatError with a message for the model.
   */
  async call(tool: ListedTool, offeredName: string, args: ToolArgs, signal: AbortSignal): Promise<McpToolResult> {
    // One deadline for the whole call: a call sent again (below), and the wait for the new session it goes in, get what
    // is left of toolTimeoutMs, or the user would see a failure only after a multiple of it.
    const deadline = Date.now() + this.options.toolTimeoutMs;
    let result: z.infer<typeof callResultSchema> | undefined;
    // Each way of sending a call again is used at most once; both are for requests the server provably did not run.
    let renewed = false;
    let resent = false;
    while (result === undefined) {
      const { client, generation } = await this.connectedClient(offeredName, signal, deadline);
      const timeout = deadline - Date.now();
      if (timeout <= 0) throw this.timedOut(offeredName);
      // The run's signal (aborted on cancel and on TOOL_TIMEOUT_MS) reaches the SDK through a signal of this call's
      // own, unlinked once the call is over: the SDK keeps its abort listener on the signal it is given, and would send
      // notifications/cancelled for a call long answered when the run ends.
      const { controller, unlink } = linkedController(signal);
      try {
        result = await client.request({ method: "tools/call", params: { name: tool.mcpName, arguments: args } }, callResultSchema, {
          signal: controller.signal,
          timeout: timerDelay(timeout),
        });
      } catch (error) {
        // MCP: 404 to a request with a session id means the server no longer knows the session (it restarted, or
        // expired it) and did not run the request; the client must start a new session. Once, then call again.
        if (!renewed && !signal.aborted && error instanceof StreamableHTTPError && error.code === 404) {
          renewed = true;
          this.renewSession(generation);
          continue;
        }
        // The connection could not be made (refused: the server restarting?), so the call never reached the server: send
        // it again at once; a session the restarted server no longer knows is then renewed by the 404 above.
        if (!resent && !signal.aborted && error instanceof RequestNotDeliveredError) {
          resent = true;
          this.options.log.info({ server: this.name, tool: tool.mcpName, err: error.message }, "MCP tool call did not reach the server; sending it again");
          continue;
        }
        throw this.callError(error, offeredName, generation, signal);
      } finally {
        unlink();
      }
    }
    const normalized = callResult(result, offeredName, this.name);
    if (normalized.isError) throw new ChatError("tool_failed", `Tool ${offeredName} failed: ${errorText(normalized)}`);
    return toToolResult(normalized);
  }

  /** Starts a new session at once (no back-off), unless another call already did since `generation`. */
  private renewSession(generation: number): void {
    if (generation !== this.generation || this.stopped) return;
    this.options.log.info({ server: this.name }, "MCP server no longer knows the session; starting a new one");
    this.endSession();
    this.restarts++;
    void this.connect();
  }

  /** Stops restarts and ends the session; a stdio server is asked to exit, then terminated, then killed. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.nextRetryAt = undefined;
    this.endSession();
    this.firstAttempt.resolve();
    this.stateChanged.resolve();
    await Promise.all([...this.closing]);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.nextRetryAt = undefined;
    this.setState("starting");
    const client = new Client(clientInfo, { capabilities: {} });
    const transport = this.createTransport();
    this.client = client;
    this.transport = transport;
    client.onclose = () => {
      // While connecting, the failed connect() itself reports why (and in a better order than onclose).
      if (generation !== this.generation || this.connecting) return;
      if (transport instanceof StdioProcessTransport) this.failExited(transport);
      else this.fail("the connection closed");
    };
    client.onerror = (error) => {
      if (generation === this.generation) this.options.log.warn({ server: this.name, err: error.message }, "MCP server connection error");
    };
    let listChangedWhileStarting = false;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      if (generation !== this.generation) return;
      if (this.state === "starting") listChangedWhileStarting = true;
      else this.refreshTools(client, generation);
    });
    this.connecting = true;
    try {
      // One deadline for the whole start-up: a server that answers each request just in time (initialize, then every
      // page of tools/list) would otherwise stay "starting" for connectTimeoutMs times the number of requests.
      const deadline = Date.now() + this.options.connectTimeoutMs;
      await client.connect(transport, { timeout: this.options.connectTimeoutMs });
      const tools = await this.listTools(client, deadline);
      this.connecting = false;
      if (generation !== this.generation) return;
      this.listed = tools;
      this.connectedAt = Date.now();
      this.error = undefined;
      this.setState("connected");
      this.firstAttempt.resolve();
      this.options.log.info({ server: this.name, tools: tools.length }, "MCP server connected");
      if (listChangedWhileStarting) this.refreshTools(client, generation);
    } catch (error) {
      this.connecting = false;
      if (generation !== this.generation) return;
      if (transport instanceof StdioProcessTransport && transport.exit) this.failExited(transport);
      else if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
        this.fail(`did not finish starting within ${this.options.connectTimeoutMs} ms`);
      } else this.fail(describeError(error));
    }
  }

  private createTransport(): Transport {
    const config = this.config;
    if (isStdioServer(config)) {
      const stderr = new StderrLog((data, message) => this.options.log.info({ server: this.name, ...data }, message));
      const options: ConstructorParameters<typeof StdioProcessTransport>[0] = {
        command: config.command,
        args: config.args,
        env: serverEnvironment(config.env, this.options.parentEnv),
        graceMs: this.options.shutdownGraceMs,
        maxMessageBytes: this.options.maxMessageBytes,
        onStderrLine: (line) => stderr.line(line),
      };
      if (config.cwd !== undefined) options.cwd = config.cwd;
      return new StdioProcessTransport(options);
    }
    const http = nodeFetch(this.options.maxMessageBytes);
    const transport: StreamableHTTPClientTransport = new StreamableHTTPClientTransport(new URL(config.url), {
      requestInit: { headers: config.headers },
      // A response stream that ends before the answer fails its call now, as the answer can no longer come.
      fetch: watchedFetch((ids, cause) => {
        const reason = cause instanceof ResponseTooLargeError ? responseTooLarge : responseCut;
        for (const id of ids) {
          transport.onmessage?.({ jsonrpc: "2.0", id, error: { code: ErrorCode.ConnectionClosed, message: reason, data: { reason } } });
        }
      }, http.fetch),
    });
    // The pooled connections go with the session (endSession closes the client once its DELETE is done).
    const closeTransport = transport.close.bind(transport);
    transport.close = async () => {
      await closeTransport();
      http.close();
    };
    return transport;
  }

  /** Every page of tools/list, all of them answered before `deadline` (epoch ms). */
  private async listTools(client: Client, deadline = Date.now() + this.options.connectTimeoutMs): Promise<ListedTool[]> {
    const compiler = new InputSchemaCompiler();
    const tools: ListedTool[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < maxListPages; page++) {
      const result = await client.request({ method: "tools/list", params: cursor === undefined ? {} : { cursor } }, listPageSchema, {
        timeout: Math.max(1, deadline - Date.now()),
      });
      for (const raw of result.tools) {
        const parsed = listedToolSchema.safeParse(raw);
        if (!parsed.success || seen.has(parsed.data.name)) {
          this.options.log.warn({ server: this.name, tool: raw }, "MCP server listed a tool without a usable name; skipped");
          continue;
        }
        const { name, title, description, inputSchema } = parsed.data;
        seen.add(name);
        const approval = this.config.requireApproval;
        tools.push({
          mcpName: name,
          description: description ?? title ?? "",
          inputSchema: isRecord(inputSchema) ? inputSchema : {},
          check: compiler.compile(inputSchema),
          requiresApproval: approval === true || (Array.isArray(approval) && approval.includes(name)),
        });
      }
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    for (const tool of tools) {
      if (!tool.check.ok) this.options.log.warn({ server: this.name, tool: tool.mcpName, reason: tool.check.reason }, "MCP tool not offered");
    }
    const approval = this.config.requireApproval;
    for (const name of Array.isArray(approval) ? approval : []) {
      if (!seen.has(name)) this.options.log.warn({ server: this.name, tool: name }, "requireApproval names a tool the server does not list");
    }
    return tools;
  }

  /** Re-lists after `tools/list_changed`; a notification during a listing lists once more after it. */
  private refreshTools(client: Client, generation: number): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const tools = await this.listTools(client);
        if (generation !== this.generation) return;
        this.listed = tools;
        this.options.onChange();
      } while (this.refreshAgain);
    })()
      .catch((error: unknown) => {
        // The old list stays; a broken session shows up through onclose or the next call.
        if (generation === this.generation) this.options.log.warn({ server: this.name, err: describeError(error) }, "MCP tools re-listing failed");
      })
      .finally(() => {
        this.refreshing = undefined;
      });
  }

  /** The call's error once `deadline` (epoch ms) has passed, as the SDK's request timeout reads (callError). */
  private timedOut(offeredName: string): ChatError {
    return new ChatError("tool_timeout", `Tool ${offeredName} timed out after ${this.options.toolTimeoutMs} ms.`);
  }

  /** The connected session's client; waits (until `deadline`, epoch ms) while the server is (re)starting. */
  private async connectedClient(offeredName: string, signal: AbortSignal, deadline: number): Promise<{ client: Client; generation: number }> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      if (this.stopped) throw unavailable(offeredName, `the MCP server "${this.name}" is shut down`);
      if (this.state === "connected" && this.client) return { client: this.client, generation: this.generation };
      if (this.state === "disabled") throw unavailable(offeredName, `the MCP server "${this.name}" is disabled`);
      if (this.state === "failed") {
        const retry = this.nextRetryAt === undefined ? "" : `; next attempt in ${Math.max(1, Math.round((this.nextRetryAt - Date.now()) / 1000))} s`;
        throw unavailable(offeredName, `the MCP server "${this.name}" is not available (${this.error ?? "failed"}${retry})`);
      }
      const changed = this.stateChanged.promise;
      await new Promise<void>((resolve, reject) => {
        const settle = (error?: unknown) => {
          signal.removeEventListener("abort", onAbort);
          clearTimeout(timer);
          if (error === undefined) resolve();
          else reject(error);
        };
        const onAbort = () => settle(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        const timer = setTimeout(() => settle(this.timedOut(offeredName)), timerDelay(deadline - Date.now()));
        void changed.then(() => settle());
      });
    }
  }

  private callError(error: unknown, offeredName: string, generation: number, signal: AbortSignal): unknown {
    if (signal.aborted) return signal.reason;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) return this.timedOut(offeredName);
    const tooLarge = `Tool ${offeredName} failed: the MCP server "${this.name}" sent a message larger than ${formatBytes(this.options.maxMessageBytes)} (the limit).`;
    // Only this call's answer was dropped (a JSON answer, or the event of an event stream, over the limit).
    if (error instanceof ResponseTooLargeError) return new ChatError("tool_failed", tooLarge);
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed && isRecord(error.data) && error.data["reason"] === responseTooLarge) {
      return new ChatError("tool_failed", tooLarge);
    }
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed && isRecord(error.data) && error.data["reason"] === responseCut) {
      // The session itself may be fine (a proxy cutting a long response): other calls and the server's state go on.
      return new ChatError("tool_failed", `Tool ${offeredName} failed: the MCP server "${this.name}" closed the connection before answering.`);
    }
    const sessionEnded = generation !== this.generation || this.state !== "connected";
    if (sessionEnded || (error instanceof McpError && error.code === ErrorCode.ConnectionClosed)) {
      return new ChatError("tool_failed", `Tool ${offeredName} failed: the MCP server "${this.name}" stopped during the call (${this.error ?? "the connection closed"}).`);
    }
    if (error instanceof McpError) return new ChatError("tool_failed", `Tool ${offeredName} failed: ${error.message}`);
    // An HTTP answer to this one request: the server is there and the session may be fine, so only this call fails.
    if (error instanceof StreamableHTTPError) {
      const failure = new McpHttpAnswerError(this.name, error.code ?? -1, `Tool ${offeredName} failed: the MCP server "${this.name}" ${describeAnswer(error)}.`, error);
      // But a 404 is the session gone, and this one came in the session started for the last 404 (call() renews once):
      // sessions do not hold there (a load balancer without affinity?), and renewing at every call would start one per
      // call. Back off as for a server that cannot be reached.
      if (error.code === 404 && generation === this.generation) this.fail(`the server does not keep its sessions: ${describeError(error)}`);
      return failure;
    }
    if (error instanceof RequestOutcomeUnknownError) {
      return new McpCallOutcomeUnknownError(
        this.name,
        `Tool ${offeredName} failed: the connection to the MCP server "${this.name}" broke after the call was sent and before any answer (${bounded(error.message)}); the tool may have run, so the call was not sent again.`,
        error,
      );
    }
    // An answer, but not an MCP result: this call failed, the session is fine (other calls on it go on).
    if (error instanceof z.ZodError) return invalidResult(offeredName, this.name);
    // A stdio server that stopped is reported by its process's exit; anything else there is no reason to restart it.
    if (this.transport instanceof StdioProcessTransport) return new ChatError("tool_failed", `Tool ${offeredName} failed: ${describeError(error)}`);
    // Not an answer from the server: the HTTP server is gone or its session expired. Reconnect with back-off.
    const reason = describeError(error);
    if (generation === this.generation) this.fail(`cannot reach the server: ${reason}`);
    return new ChatError("tool_failed", `Tool ${offeredName} failed: cannot reach the MCP server "${this.name}" (${reason}).`);
  }

  /**
   * A stdio server's process ended. Users see how (the state's error, the message of a call it cut short) and where
   * to look; what it wrote to stderr goes to the log with the failure, as it may hold a secret.
   */
  private failExited(transport: StdioProcessTransport): void {
    const stderrTail = transport.stderrTail;
    const reason = transport.describeExit();
    this.fail(stderrTail.length > 0 ? `${reason}; see the server log for its error output` : reason, stderrTail);
  }

  /** `stderrTail`: the last stderr lines of a stdio server's process, logged with the failure (never in `error`). */
  private fail(reason: string, stderrTail: readonly string[] = []): void {
    if (this.stopped) return;
    const lasted = this.connectedAt === undefined ? 0 : Date.now() - this.connectedAt;
    if (lasted >= this.options.restart.stableAfterMs) this.failuresInARow = 0;
    this.failuresInARow++;
    this.endSession();
    const { initialDelayMs, maxDelayMs, maxAttempts } = this.options.restart;
    if (this.failuresInARow >= maxAttempts) {
      this.error = `${reason}; gave up after ${maxAttempts} attempt${maxAttempts === 1 ? "" : "s"} in a row`;
      this.nextRetryAt = undefined;
    } else {
      this.error = reason;
      const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** (this.failuresInARow - 1));
      this.nextRetryAt = Date.now() + delay;
      this.retryTimer = setTimeout(() => {
        this.restarts++;
        void this.connect();
      }, delay);
      this.retryTimer.unref();
    }
    this.options.log.warn({ server: this.name, err: this.error, retryAt: this.nextRetryAt, ...(stderrTail.length > 0 ? { stderrTail } : {}) }, "MCP server failed");
    this.setState("failed");
    this.firstAttempt.resolve();
  }

  /** Invalidates the current session and closes it in the background (close() awaits it). */
  private endSession(): void {
    this.generation++;
    this.connectedAt = undefined;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const transport = client.transport;
    const closing = (async () => {
      // MCP: a client that no longer needs its session DELETEs it; otherwise the server keeps it (and what it holds
      // for it) until its own timeout, one more for every restart of the API. Bounded: the server may be gone.
      if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          transport.terminateSession().catch(() => undefined),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.shutdownGraceMs))),
        ]);
        clearTimeout(timer);
      }
      await client.close();
    })()
      .catch(() => undefined)
      .finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }

  private setState(state: McpServerState): void {
    this.state = state;
    const changed = this.stateChanged;
    this.stateChanged = deferred();
    changed.resolve();
    this.options.onChange();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function unavailable(offeredName: string, reason: string): ChatError {
  return new ChatError("tool_failed", `Tool ${offeredName} failed: ${reason}.`);
}

/**
 * Longest reason taken from an error for a server's state and a call's message, which users and the model see. The
 * SDK puts a failed HTTP request's whole response body in its message: a proxy's or framework's error page of
 * hundreds of kilobytes would otherwise be shown in tools.list and fed to the model.
 */
const maxReasonChars = 300;

function describeError(error: unknown): string {
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code >= 100) return describeHttpStatus(error);
  if (!(error instanceof Error)) return bounded(String(error));
  // fetch puts the socket's reason (ECONNREFUSED…) in `cause`.
  const cause = error.cause instanceof Error && !error.message.includes(error.cause.message) ? `: ${error.cause.message}` : "";
  return bounded(`${error.message}${cause}`);
}

/** "answered HTTP 500 Internal Server Error: <what the body said>", or the SDK's reason for an answer it could not use. */
function describeAnswer(error: StreamableHTTPError): string {
  if (error.code !== undefined && error.code >= 100) return describeHttpStatus(error).replace(/^the server /, "");
  return `answered with something that is not an MCP answer: ${bounded(error.message.replace(/^Streamable HTTP error: /, ""))}`;
}

/** "HTTP 401 Unauthorized", then what the body said (the SDK's message is "Streamable HTTP error: Error POSTing to endpoint: <body>"). */
function describeHttpStatus(error: StreamableHTTPError): string {
  const code = error.code!;
  const status = `HTTP ${code}${STATUS_CODES[code] ? ` ${STATUS_CODES[code]}` : ""}`;
  // An operator's fix, not the server's: this client authenticates with the configured headers only.
  const hint = code === 401 || code === 403 ? "; check the server's headers (Authorization) in MCP_CONFIG" : "";
  const body = error.message
    .replace(/^Streamable HTTP error: /, "")
    .replace(/^(Error POSTing to endpoint|Failed to open SSE stream|Failed to terminate session): /, "")
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return bounded(`the server answered ${status}${hint}${body && body !== STATUS_CODES[code] ? `: ${body}` : ""}`);
}

function bounded(text: string): string {
  return text.length <= maxReasonChars ? text : `${text.slice(0, maxReasonChars - 1)}…`;
}
