import { randomUUID } from "node:crypto";
import { link, lstat, open, rename, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import {
  defaultSampling,
  errorCodeMessages,
  exportBundleLines,
  isDefaultSampling,
  NoConversationsJsonError,
  notAnExportMessage,
  readForeignExport,
  readForeignExportItems,
  type ForeignConversation,
  type ForeignExportStream,
  type ForeignSource,
  type Sampling,
} from "@streamchat/core";
import { createChatClient, type Attachments, type ChatClient } from "../client.js";
import { readImageAttachment } from "../image-file.js";
import { readTextFileAttachment } from "../text-file.js";
import { certificateProblem, isAbortError, toChatClientError, type ChatClientError } from "../errors.js";
import { pipedAnswerWaitMs, type NextLine } from "./approval-prompt.js";
import { withoutAnswerSoFar } from "./answer-so-far.js";
import { ApprovalQuestions } from "./approval-questions.js";
import { openImportFile, type ImportSource } from "./import-source.js";
import { LineReader } from "./line-reader.js";
import {
  listPageMax,
  parseCliArgs,
  usage,
  type CliOptions,
  type ExportAllCommand,
  type ExportCommand,
  type ImportCommand,
  type InstructionsCommand,
  type ListCommand,
  type ModelsCommand,
  type SamplingCommand,
  type SearchCommand,
  type ServerOptions,
} from "./args.js";
import { conversationLine, modelLines, searchHitLine } from "./listing.js";
import { colorEnabled, EventPrinter, formatError, type Output } from "./printer.js";

export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** `columns`: a terminal's width, which chat list and chat search shorten their lines to. */
  stdout: Output & { isTTY?: boolean; columns?: number };
  stderr: Output & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Called with a handler for Ctrl-C (SIGINT); returns the function that removes it. */
  onInterrupt(handler: () => void): () => void;
  /** Leaves at once (a second Ctrl-C while the first is still cancelling the run). */
  exit(code: number): void;
  /**
   * Whether the reader of stdout left (`chat | head -1`; the caller also calls the interrupt handler then): nothing
   * more is asked. Node's stdout never says so itself (it stays writable after EPIPE).
   */
  stdoutClosed?(): boolean;
  /**
   * Whether the process was asked to end (SIGTERM; SIGHUP, the terminal closed; the caller also calls the interrupt
   * handler then): the answer stops as on Ctrl-C, and in interactive mode no further question is asked.
   */
  terminated?(): boolean;
  /**
   * How long an approval question waits for its answer when stdin is no terminal, unless --approval-wait (or
   * CHAT_APPROVAL_WAIT) says; default `pipedAnswerWaitMs`.
   */
  pipedAnswerWaitMs?: number;
}

export const exitCodes = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

interface Session {
  client: ChatClient;
  options: CliOptions;
  io: CliIo;
  /** The next line of input (an approval's y/N; in interactive mode the same lines the prompt reads). */
  nextLine: NextLine;
  /** The --image and --file files, read once; sent with the next question only. */
  attachments: Attachments | undefined;
}

function describeClientError(error: ChatClientError, options: ServerOptions): string {
  if (certificateProblem(error) !== undefined) {
    return `error: cannot connect to the chat server at ${options.url}: ${error.message} For a server with a certificate of a private CA, run chat with NODE_EXTRA_CA_CERTS=/path/to/ca.pem.\n`;
  }
  if (error.code === "unreachable") {
    return `error: cannot reach the chat server at ${options.url} — is it running? Start it with "pnpm start", or pass --url / set CHAT_URL.\n`;
  }
  // An HTTP status without a tRPC code: what answered at the URL is not the API (or a proxy in front of it failed).
  const notTheApi = error.status !== undefined && error.trpcCode === undefined;
  const hint =
    error.code === "unauthorized"
      ? // Asking for a token the person gave already would send them looking for the wrong mistake.
        options.token === undefined
        ? " (pass --token or set CHAT_TOKEN)"
        : " (the token given was refused: check --token or CHAT_TOKEN)"
      : notTheApi
        ? ` (at ${options.url}; pass --url or set CHAT_URL)`
        : "";
  return formatError(error.code, `${error.message}${hint}`);
}

/** What a question asks: a message, or (`/continue`) the rest of a conversation's cut-short answer. */
type Asking = { message: string } | { continueIn: string };

/** Asks one question; returns the exit code and the conversation the run belonged to. */
async function ask(
  session: Session,
  asking: Asking,
  conversationId: string | undefined,
  signal: AbortSignal,
): Promise<{ exitCode: number; conversationId: string | undefined }> {
  const { io, options } = session;
  const printer = new EventPrinter({
    stdout: io.stdout,
    stderr: io.stderr,
    json: options.json,
    color: colorEnabled(io.stderr, io.env),
    sharedTerminal: io.stdout.isTTY === true && io.stderr.isTTY === true,
    usage: options.usage ?? io.stderr.isTTY === true,
  });
  // A continue sends no message: the files wait for the next question.
  const attachments = "message" in asking ? session.attachments : undefined;
  if ("message" in asking) session.attachments = undefined;
  let conversation = conversationId;
  const approvals = new ApprovalQuestions({
    client: session.client,
    nextLine: session.nextLine,
    stderr: io.stderr,
    autoDeny: options.autoDeny,
    inputEchoed: io.stdin.isTTY === true,
    // Someone at a terminal may take their time; a pipe nobody writes to would hold the run until its approval times out.
    waitMs: io.stdin.isTTY === true ? undefined : (options.approvalWaitMs ?? io.pipedAnswerWaitMs ?? pipedAnswerWaitMs),
    signal,
  });
  try {
    const streamSignal = AbortSignal.any([signal, approvals.failed]);
    const events =
      "message" in asking
        ? session.client.stream(asking.message, {
            conversationId,
            model: options.model,
            think: options.think,
            attachments,
            // The conversation's first question creates it with them; later ones are asked in it.
            instructions: conversationId === undefined ? options.instructions : undefined,
            sampling: conversationId === undefined ? options.sampling : undefined,
            signal: streamSignal,
          })
        : withoutAnswerSoFar(session.client.continueAnswer(asking.continueIn, { model: options.model, think: options.think, signal: streamSignal }));
    for await (const event of events) {
      if (event.type === "run-start") conversation = event.conversationId;
      printer.handle(event);
      if (event.type === "approval-request") {
        // Half-written answer lines end first: the question goes on a line of its own.
        printer.finish();
        approvals.request(event);
      } else if (event.type === "approval-result") {
        approvals.result(event);
      }
    }
    await approvals.settled();
    if (approvals.failure !== undefined) throw approvals.failure;
  } catch (caught) {
    await approvals.giveUp();
    const error = approvals.failure ?? caught;
    printer.finish();
    if (isAbortError(error) || signal.aborted) return { exitCode: exitCodes.interrupted, conversationId: conversation };
    io.stderr.write(describeClientError(toChatClientError(error), options));
    return { exitCode: exitCodes.failed, conversationId: conversation };
  }
  const outcome = printer.finish();
  if (outcome.error) return { exitCode: exitCodes.failed, conversationId: conversation };
  if (outcome.reason === "cancelled" || outcome.reason === "error" || outcome.reason === "interrupted") {
    // Stopped from elsewhere (another client's cancel, a server restart) without an error event of its own.
    const code = outcome.reason === "error" ? "internal" : outcome.reason;
    io.stderr.write(formatError(code, errorCodeMessages[code]));
    return { exitCode: exitCodes.failed, conversationId: conversation };
  }
  if (outcome.reason === undefined) {
    io.stderr.write(formatError("stream_truncated", "The server ended the answer without finishing it."));
    return { exitCode: exitCodes.failed, conversationId: conversation };
  }
  return { exitCode: exitCodes.ok, conversationId: conversation };
}

/** Lines of stdin, read only when an approval asks (a one-shot question reads no input otherwise). */
function stdinLines(io: CliIo): { nextLine: NextLine; close(): void } {
  let reader: LineReader | undefined;
  let rl: ReturnType<typeof createInterface> | undefined;
  return {
    nextLine(signal) {
      if (!rl) {
        rl = createInterface({ input: io.stdin, terminal: false });
        reader = new LineReader(rl[Symbol.asyncIterator]());
      }
      return reader!.next(signal);
    },
    close: () => rl?.close(),
  };
}

/** How long an exit waits for the server to name a run stopped before it did, to cancel it. */
const cancelGraceMs = 3000;

/**
 * Ctrl-C before the server answered the question: the run may exist all the same, and only that answer names it. The
 * client cancels it when the answer comes; exiting first would leave it running. Waits a moment for that, saying so (a
 * second Ctrl-C quits at once).
 */
async function sendPendingCancels(session: Session): Promise<void> {
  if (session.client.pendingCancels === 0) return;
  session.io.stderr.write("stopping: waiting for the server to name the run, to cancel it (Ctrl-C again quits)\n");
  await session.client.cancelsSent({ timeoutMs: cancelGraceMs });
}

async function askOnce(session: Session, asking: Asking): Promise<number> {
  const controller = new AbortController();
  const removeInterrupt = session.io.onInterrupt(() =>
    controller.signal.aborted ? session.io.exit(exitCodes.interrupted) : controller.abort(),
  );
  const input = stdinLines(session.io);
  try {
    session.nextLine = input.nextLine;
    return (await ask(session, asking, session.options.conversationId, controller.signal)).exitCode;
  } finally {
    input.close();
    await sendPendingCancels(session);
    removeInterrupt();
  }
}

const replHelp =
  "Commands: /new starts a new conversation, /continue writes on from an answer that was stopped or cut short, /exit leaves. Ctrl-C stops an answer; at the prompt it exits.\n";

async function repl(session: Session): Promise<number> {
  const { io } = session;
  // Without a terminal (piped input) there is no one to prompt and nothing to edit. With answers going to a file or a
  // pipe (`chat > notes.md`, `chat | tee log`) the person typing still needs the prompt: it goes to stderr then.
  const promptTo = io.stdin.isTTY !== true ? undefined : io.stdout.isTTY === true ? io.stdout : io.stderr.isTTY === true ? io.stderr : undefined;
  const terminal = promptTo !== undefined;
  const rl = createInterface({
    input: io.stdin,
    output: promptTo as NodeJS.WritableStream | undefined,
    terminal,
    historySize: 1000,
    removeHistoryDuplicates: true,
  });
  rl.setPrompt("› ");
  let closed = false;
  rl.once("close", () => (closed = true));
  // Lines read before end of input still arrive after readline closed; prompting then would throw.
  const prompt = () => {
    if (terminal && !closed) rl.prompt();
  };
  let conversationId = session.options.conversationId;
  let running: AbortController | undefined;
  let exitCode: number = exitCodes.ok;
  // Questions piped in are a script, which must learn that one failed (`echo … | chat && next-step`); a person at the
  // terminal saw the error and leaves with /exit, which is no failure.
  const scripted = io.stdin.isTTY !== true;
  let anyFailed = false;
  /** Past the last question: Ctrl-C quits at once (while pending cancels are sent). */
  let leaving = false;
  const interrupt = () => {
    if (leaving) {
      io.exit(exitCodes.interrupted);
      return;
    }
    if (running) {
      if (running.signal.aborted) io.exit(exitCodes.interrupted);
      else {
        // Questions piped in are a script, and Ctrl-C stops a script: the questions after this one are not asked (as
        // on SIGTERM), and the exit code says it was interrupted. At a terminal the person is back at the prompt.
        if (scripted) exitCode = exitCodes.interrupted;
        running.abort();
      }
      return;
    }
    exitCode = exitCodes.interrupted;
    rl.close();
  };
  // In a terminal readline owns Ctrl-C (raw mode); with piped input the process gets SIGINT.
  rl.on("SIGINT", interrupt);
  const removeInterrupt = io.onInterrupt(interrupt);
  if (terminal) io.stderr.write(replHelp);
  // One reader for the prompt and for approvals' y/N answers asked while an answer streams.
  const lines = new LineReader(rl[Symbol.asyncIterator]());
  const nextLine: NextLine = (signal) => lines.next(signal);
  // Set on the session itself, not on a copy per question: ask() takes the attachments off it after the first.
  session.nextLine = nextLine;
  try {
    prompt();
    for (let raw = await nextLine(); raw !== undefined; raw = await nextLine()) {
      // Nobody reads the answers any more (or the process is ending): asking the questions still piped in would only
      // run them for nothing.
      if (io.stdoutClosed?.() === true || io.terminated?.() === true) break;
      const line = raw.trim();
      if (line === "/exit" || line === "/quit") break;
      if (line === "/new") {
        conversationId = undefined;
        io.stderr.write("(new conversation)\n");
      } else if (line === "/help") {
        io.stderr.write(replHelp);
      } else if (line === "/continue" && conversationId === undefined) {
        io.stderr.write("(no answer to continue in this conversation yet)\n");
      } else if (line.startsWith("/") && line !== "/continue") {
        io.stderr.write(`unknown command ${line}. ${replHelp}`);
      } else if (line) {
        running = new AbortController();
        const asking: Asking = line === "/continue" && conversationId !== undefined ? { continueIn: conversationId } : { message: line };
        const result = await ask(session, asking, conversationId, running.signal);
        running = undefined;
        if (io.stdoutClosed?.() === true || io.terminated?.() === true || exitCode === exitCodes.interrupted) break;
        if (result.exitCode === exitCodes.interrupted) io.stderr.write("(stopped)\n");
        if (result.exitCode === exitCodes.failed) anyFailed = true;
        conversationId = result.conversationId ?? conversationId;
      }
      prompt();
    }
  } finally {
    rl.close();
    leaving = true;
    await sendPendingCancels(session);
    removeInterrupt();
  }
  if (promptTo && exitCode === exitCodes.ok) promptTo.write("\n");
  return exitCode === exitCodes.ok && scripted && anyFailed ? exitCodes.failed : exitCode;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCliArgs(argv, io.env);
  if (parsed.kind === "help") {
    io.stdout.write(usage);
    return exitCodes.ok;
  }
  if (parsed.kind === "usage-error") {
    // One line: the mistake, and where the options are (the whole help would bury it).
    io.stderr.write(`chat: ${parsed.message} — see chat --help\n`);
    return exitCodes.usage;
  }
  if (parsed.kind === "export") return exportCommand(parsed.options, io);
  if (parsed.kind === "export-all") return exportAllCommand(parsed.options, io);
  if (parsed.kind === "import") return importCommand(parsed.options, io);
  if (parsed.kind === "instructions") return instructionsCommand(parsed.options, io);
  if (parsed.kind === "sampling") return samplingCommand(parsed.options, io);
  if (parsed.kind === "list") return listCommand(parsed.options, io);
  if (parsed.kind === "search") return searchCommand(parsed.options, io);
  if (parsed.kind === "models") return modelsCommand(parsed.options, io);
  const { options } = parsed;
  let attachments: Attachments | undefined;
  try {
    attachments = await readAttachments(options);
  } catch (error) {
    io.stderr.write(`chat: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCodes.usage;
  }
  const session: Session = { client: createChatClient({ url: options.url, token: options.token }), options, io, attachments, nextLine: async () => undefined };
  if (options.continueAnswer && options.conversationId !== undefined) return askOnce(session, { continueIn: options.conversationId });
  return options.question === undefined ? repl(session) : askOnce(session, { message: options.question });
}

/**
 * The --image and --file attachments, read before anything is sent: a path that cannot be read, an image that is
 * none, a file that is no text stops the command with the client's sentence. One at a time, so the sentence is about
 * the first bad path as given, not whichever read failed first.
 */
async function readAttachments(options: CliOptions): Promise<Attachments | undefined> {
  const attachments: Attachments = [];
  for (const path of options.images) attachments.push(await readImageAttachment(path));
  for (const path of options.files) attachments.push(await readTextFileAttachment(path));
  return attachments.length > 0 ? attachments : undefined;
}

/**
 * What a command that asks the API once gets back: the answer, or undefined once the failure was said on stderr (in
 * the words every command uses: nothing answering, a token refused, not the API, or the server's own error).
 */
async function askApi<T>(options: ServerOptions, io: CliIo, call: (client: ChatClient) => Promise<T>): Promise<{ answer: T } | undefined> {
  try {
    return { answer: await call(createChatClient({ url: options.url, token: options.token })) };
  } catch (error) {
    io.stderr.write(describeClientError(toChatClientError(error), options));
    return undefined;
  }
}

/** chat export: the file's content to stdout, or to --output. */
async function exportCommand(options: ExportCommand, io: CliIo): Promise<number> {
  const asked = await askApi(options, io, (client) => client.conversations.export(options.conversationId, { format: options.format }));
  if (!asked) return exitCodes.failed;
  const file = asked.answer;
  if (options.output === undefined || options.output === "-") {
    io.stdout.write(file.content);
    return exitCodes.ok;
  }
  try {
    // "wx": never overwrite a file that is there (an earlier export, or anything else).
    await writeFile(options.output, file.content, { encoding: "utf8", flag: "wx" });
  } catch (error) {
    io.stderr.write(`error: cannot write ${options.output}: ${fileProblem(error)}\n`);
    return exitCodes.failed;
  }
  io.stderr.write(`Exported to ${options.output} (${Buffer.byteLength(file.content)} bytes).\n`);
  return exitCodes.ok;
}

/**
 * chat export --all: every conversation as JSON Lines (GET /api/export), to stdout as it arrives, or to --output: written
 * to a temporary file beside it and put in its place only once the export is complete, never over an existing file.
 * Ctrl-C stops the download (a second one leaves at once).
 */
async function exportAllCommand(options: ExportAllCommand, io: CliIo): Promise<number> {
  const controller = new AbortController();
  const removeInterrupt = io.onInterrupt(() => (controller.signal.aborted ? io.exit(exitCodes.interrupted) : controller.abort()));
  try {
    return options.output === undefined || options.output === "-"
      ? await exportAllToStdout(options, io, controller.signal)
      : await exportAllToFile(options, options.output, io, controller.signal);
  } finally {
    removeInterrupt();
  }
}

async function exportAllToStdout(options: ExportAllCommand, io: CliIo, signal: AbortSignal): Promise<number> {
  const client = createChatClient({ url: options.url, token: options.token });
  let count = 0;
  try {
    // Whole lines only: an export cut short ends stdout after its last whole conversation, and says so on stderr.
    for await (const line of client.conversations.exportAll({ signal })) {
      io.stdout.write(`${line}\n`);
      count += 1;
      // Nobody reads any more (`chat export --all | head -1`): leaving the loop stops the download.
      if (io.stdoutClosed?.() === true) break;
    }
  } catch (error) {
    if (signal.aborted || isAbortError(error)) return exitCodes.interrupted;
    io.stderr.write(describeClientError(toChatClientError(error), options));
    return exitCodes.failed;
  }
  if (count === 0) io.stderr.write("No conversations yet.\n");
  return exitCodes.ok;
}

async function exportAllToFile(options: ExportAllCommand, target: string, io: CliIo, signal: AbortSignal): Promise<number> {
  const cannotWrite = (error: unknown) => {
    io.stderr.write(`error: cannot write ${target}: ${fileProblem(error)}\n`);
    return exitCodes.failed;
  };
  // Said before the download, not after it: a file there already is never overwritten.
  if (await pathExists(target)) return cannotWrite(Object.assign(new Error("exists"), { code: "EEXIST" }));
  // Beside the target, so that it moves into place without a copy (and fails here if the directory cannot take it).
  const partial = join(dirname(target), `.${basename(target)}.${randomUUID().slice(0, 8)}.partial`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(partial, "wx");
  } catch (error) {
    return cannotWrite(error);
  }
  let placed = false;
  try {
    const client = createChatClient({ url: options.url, token: options.token });
    let count = 0;
    let bytes = 0;
    let writeFailure: unknown;
    try {
      for await (const line of client.conversations.exportAll({ signal })) {
        const text = `${line}\n`;
        try {
          // writeFile, not write: it writes all of it (from where the last write ended), never part of a line.
          await handle.writeFile(text);
        } catch (error) {
          writeFailure = error;
          break;
        }
        count += 1;
        bytes += Buffer.byteLength(text);
      }
    } catch (error) {
      if (signal.aborted || isAbortError(error)) {
        io.stderr.write(`Stopped: nothing was written to ${target}.\n`);
        return exitCodes.interrupted;
      }
      io.stderr.write(describeClientError(toChatClientError(error), options));
      io.stderr.write(`Nothing was written to ${target}.\n`);
      return exitCodes.failed;
    }
    if (writeFailure !== undefined) return cannotWrite(writeFailure);
    try {
      // On disk before it takes the target's name: a crash right after leaves the whole file, not an empty one.
      await handle.sync();
      await handle.close();
      handle = undefined;
      await placeWithoutOverwriting(partial, target);
      placed = true;
    } catch (error) {
      return cannotWrite(error);
    }
    io.stderr.write(`Exported ${count} ${count === 1 ? "conversation" : "conversations"} to ${target} (${bytes} bytes).\n`);
    return exitCodes.ok;
  } finally {
    await handle?.close().catch(() => {});
    if (!placed) await unlink(partial).catch(() => {});
  }
}

/** Whether anything is at `path` (a file, a directory, a link, even a dangling one). */
async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    // ENOENT, or a path that cannot be looked at (writing there fails too, and says why).
    return false;
  }
}

/**
 * Gives the complete file `from` the name `to`, failing with EEXIST when something is there: a hard link does that
 * atomically (rename would replace it). Where the file system has no hard links, a rename after checking the name
 * is free.
 */
async function placeWithoutOverwriting(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "EEXIST" || code === "ENOENT" || code === "EACCES" || code === "EISDIR") throw error;
    if (await pathExists(to)) throw Object.assign(new Error("exists"), { code: "EEXIST" });
    await rename(from, to);
    return;
  }
  await unlink(from).catch(() => {});
}

/**
 * chat import: a JSON export (a file, or - for stdin) as a new conversation, its id on stdout; a JSON Lines file
 * (chat export --all) as one new conversation per line; or another app's export (ChatGPT's or Claude's
 * conversations.json, maybe in the data export's ZIP as downloaded; Open WebUI's chat export) as one new conversation
 * per conversation in it, read and imported one at a time: such exports run to hundreds of megabytes.
 */
async function importCommand(options: ImportCommand, io: CliIo): Promise<number> {
  const client = createChatClient({ url: options.url, token: options.token });
  // The server's limits, asked for only when a data export's pictures and uploads are to be imported.
  let limits: ServerLimits = {};
  let source: ImportSource;
  try {
    source = await openImportFile(options.file, io.stdin, async () => (limits = await serverLimits(client)));
  } catch (error) {
    io.stderr.write(`error: cannot read ${options.file}: ${importFileProblem(error)}\n`);
    return exitCodes.failed;
  }
  if (source.kind === "array") {
    let foreign: ForeignExportStream | undefined;
    try {
      foreign = await readForeignExportItems(source.pieces, { files: source.files, maxDocumentBytes: limits.maxImportBytes });
    } catch (error) {
      io.stderr.write(`error: cannot read ${options.file}: ${importFileProblem(error)}\n`);
      return exitCodes.failed;
    }
    if (foreign === undefined) {
      io.stderr.write(`error: ${notAnExportMessage("it is a JSON array, but not of ChatGPT's, Claude's or Open WebUI's conversations")}\n`);
      return exitCodes.failed;
    }
    return importItems(client, foreignItems(foreign.conversations), options, io, { foreign });
  }
  const content = source.text;
  // A file of several conversations (chat export --all), one a line; another app's conversation; else one export.
  const lines = exportBundleLines(content);
  if (lines !== undefined) {
    const items = lines.map(({ line, text }) => ({ label: `line ${line}`, text }));
    return importItems(client, items, options, io, { total: items.length });
  }
  const foreign = readForeignExport(content);
  if (foreign !== undefined) {
    const { source: app, leftOut } = foreign;
    return importItems(client, foreignItems(foreign.conversations), options, io, { foreign: { source: app, leftOut: () => leftOut } });
  }
  try {
    const { conversationId } = await client.conversations.import(content);
    io.stdout.write(`${conversationId}\n`);
    io.stderr.write(`Imported as a new conversation (continue it with: chat --conversation ${conversationId}).\n`);
    return exitCodes.ok;
  } catch (error) {
    io.stderr.write(describeClientError(toChatClientError(error), options));
    return exitCodes.failed;
  }
}

type ServerLimits = Partial<Record<"maxImportBytes" | "maxImageBytes" | "maxFileChars", number>>;

/**
 * The import, picture and file limits the server tells (health), each left out when it does not (an older server):
 * pictures and files are then held to chat.send's defaults, and the server judges each conversation's size as always.
 * A server that does not answer fails the import at its first conversation, in the import's own words.
 */
async function serverLimits(client: ChatClient): Promise<ServerLimits> {
  const health = await client.health().catch(() => undefined);
  const told: Partial<Record<keyof ServerLimits, unknown>> | undefined = health && "limits" in health ? health.limits : undefined;
  const limits: ServerLimits = {};
  for (const name of ["maxImportBytes", "maxImageBytes", "maxFileChars"] as const) {
    const value = told?.[name];
    if (typeof value === "number" && Number.isFinite(value) && value > 0) limits[name] = value;
  }
  return limits;
}

/** Why the file to import cannot be read, as a phrase after "cannot read FILE: ". */
function importFileProblem(error: unknown): string {
  if (error instanceof NoConversationsJsonError) return "this ZIP file holds no conversations.json (ChatGPT's and Claude's data exports do)";
  return fileProblem(error);
}

/** One conversation of a file of several: how the summary names it, and its export, or why it has none. */
interface ImportItem {
  label: string;
  text?: string;
  problem?: string;
}

/** Another app's conversations as import items, named by their place in the file and their title. */
async function* foreignItems(conversations: AsyncIterable<ForeignConversation> | Iterable<ForeignConversation>): AsyncGenerator<ImportItem> {
  for await (const conversation of conversations) {
    yield {
      label: `conversation ${conversation.index}${conversation.title.trim() === "" ? "" : ` (${JSON.stringify(conversation.title.trim())})`}`,
      ...(conversation.document === undefined ? { problem: conversation.problem ?? "It could not be read." } : { text: JSON.stringify(conversation.document) }),
    };
  }
}

/** What the summary of a file of several knows besides what was imported. */
interface ImportOfSeveral {
  /** How many the file holds, when known before reading them all (a JSON Lines file). */
  total?: number;
  /** Another app's export: its name, and what the conversations read so far held that is not imported. */
  foreign?: { source: ForeignSource; leftOut(): string[] };
}

/**
 * A failure no later line would escape: nothing answering (or a certificate refused), a token missing or refused,
 * something that is not the API answering. The import stops there; any other failure is that line's (the server
 * refused its content) and the next line is imported.
 */
function stopsTheImport(error: ChatClientError): boolean {
  return error.code === "unreachable" || error.code === "unauthorized" || (error.status !== undefined && error.trpcCode === undefined);
}

/**
 * Each conversation of a file of several (a JSON Lines file's lines, another app's conversations) as its own
 * conversations.import, in the file's order as it is read, its new id on stdout as it is made; on stderr one summary,
 * which for another app's export names the app and what its conversations held that was not imported. One the server
 * refuses (or that could not be read) does not stop the others (exit 1 at the end); a file broken part way stops the
 * import there, with what came before imported (exit 1). Ctrl-C stops before the next one (the one on its way
 * finishes); a second leaves at once. Stopped before the file's end, the summary says what was imported, without a
 * total it does not know, and what the conversations read so far held that was not imported.
 */
async function importItems(
  client: ChatClient,
  items: AsyncIterable<ImportItem> | Iterable<ImportItem>,
  options: ImportCommand,
  io: CliIo,
  several: ImportOfSeveral = {},
): Promise<number> {
  let stopping = false;
  const removeInterrupt = io.onInterrupt(() => {
    if (stopping) {
      io.exit(exitCodes.interrupted);
      return;
    }
    stopping = true;
    io.stderr.write("stopping: after the conversation being imported (Ctrl-C again quits)\n");
  });
  const { foreign } = several;
  const from = foreign === undefined ? "" : ` from ${foreign.source}`;
  let read = 0;
  let ended = false;
  let imported = 0;
  // Another app's conversations the server had imported before, unchanged since (CONFLICT): nothing to do.
  let skipped = 0;
  // Imported in place of an earlier copy of the same chat (it went on in that app since): the server says which.
  let updated = 0;
  const failures: string[] = [];
  // What the conversations taken in hand held that is not imported (not the one read but left when stopping).
  let leftOut: string[] = [];
  const summary = (stop?: string) => {
    const total = several.total ?? (ended ? read : undefined);
    const head =
      total === undefined
        ? `Imported ${imported} ${imported === 1 ? "conversation" : "conversations"}${from}`
        : imported === total
          ? `Imported ${total} ${total === 1 ? "conversation" : "conversations"}${from}`
          : `Imported ${imported} of ${total} conversations${from}`;
    const parts = [
      ...(updated > 0 ? [`${updated} of them replaced the copy imported before (continued in ${foreign?.source ?? "that app"} since)`] : []),
      ...(skipped > 0 ? [`${skipped} imported before, skipped`] : []),
      ...failures,
      ...(stop === undefined ? [] : [stop]),
    ]
      .map((part) => `; ${part}`)
      .join("");
    const notImported =
      foreign === undefined || leftOut.length === 0
        ? ""
        : `Not imported: ${leftOut.join(", ")} (${foreign.source}'s export does not hold them, or this app does not keep them).\n`;
    return `${head}${parts}${imported === total && parts === "" ? "." : ""}\n${notImported}`;
  };
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let label: string | undefined;
  try {
    for (;;) {
      const leftOutBefore = foreign?.leftOut() ?? [];
      let next: IteratorResult<ImportItem>;
      try {
        next = await iterator.next();
      } catch (error) {
        // The file is broken (or cut short) here: what came before it was imported.
        const why = error instanceof Error ? error.message : String(error);
        io.stderr.write(summary(label === undefined ? `stopped: ${why}` : `stopped after ${label}: ${why}`));
        return exitCodes.failed;
      }
      if (next.done === true) break;
      read += 1;
      const item = next.value;
      if (stopping || io.stdoutClosed?.() === true) {
        io.stderr.write(summary(`stopped before ${item.label} (interrupted)`));
        return exitCodes.interrupted;
      }
      label = item.label;
      leftOut = foreign?.leftOut() ?? [];
      if (item.text === undefined) {
        failures.push(`${item.label}: ${item.problem ?? "it could not be read"}`);
        continue;
      }
      try {
        const { conversationId, replaced } = await client.conversations.import(item.text);
        io.stdout.write(`${conversationId}\n`);
        imported += 1;
        if (replaced !== undefined) updated += 1;
      } catch (caught) {
        const error = toChatClientError(caught);
        if (foreign !== undefined && error.trpcCode === "CONFLICT") {
          skipped += 1;
          continue;
        }
        if (stopsTheImport(error)) {
          io.stderr.write(describeClientError(error, options));
          leftOut = leftOutBefore;
          if (read > 1) io.stderr.write(summary(`stopped at ${item.label}: it and the ones after it were not imported`));
          return exitCodes.failed;
        }
        failures.push(`${item.label}: ${error.message}`);
      }
    }
    ended = true;
  } finally {
    removeInterrupt();
    // Left before the end: the file stops being read.
    if (!ended) await iterator.return?.();
  }
  io.stderr.write(summary());
  return failures.length === 0 ? exitCodes.ok : exitCodes.failed;
}

/**
 * chat instructions: prints the user's custom instructions, or saves new ones (an argument, or stdin with -); with -c,
 * the conversation's own instructions instead.
 */
async function instructionsCommand(options: InstructionsCommand, io: CliIo): Promise<number> {
  const { conversationId } = options;
  const command = conversationId === undefined ? "chat instructions" : `chat instructions -c ${conversationId}`;
  let text = options.set;
  if (text === "-") {
    text = await readAll(io.stdin);
    // Piped from an empty file or a mistake: clearing them takes --clear, said in so many words.
    if (text.trim() === "") {
      io.stderr.write(`chat: no instructions on stdin (${command} --clear removes them) — see chat --help\n`);
      return exitCodes.usage;
    }
  }
  const client = createChatClient({ url: options.url, token: options.token });
  try {
    if (conversationId !== undefined) return await conversationInstructions(client, conversationId, text, io);
    if (text === undefined) {
      const { instructions } = await client.settings.get();
      if (instructions === "") io.stderr.write("No custom instructions (set them with: chat instructions \"…\").\n");
      else io.stdout.write(`${instructions}\n`);
      return exitCodes.ok;
    }
    const saved = await client.settings.setInstructions(text);
    io.stderr.write(saved.instructions === "" ? "Custom instructions removed.\n" : `Saved: new answers get these instructions (${saved.instructions.length} characters).\n`);
    return exitCodes.ok;
  } catch (error) {
    io.stderr.write(describeClientError(toChatClientError(error), options));
    return exitCodes.failed;
  }
}

/** chat instructions -c: prints the conversation's own instructions (`text` undefined), or saves them ("" removes them). */
async function conversationInstructions(client: ChatClient, conversationId: string, text: string | undefined, io: CliIo): Promise<number> {
  if (text === undefined) {
    const { instructions } = await client.conversations.instructions(conversationId);
    if (instructions === "") io.stderr.write(`No instructions for this conversation (set them with: chat instructions -c ${conversationId} "…").\n`);
    else io.stdout.write(`${instructions}\n`);
    return exitCodes.ok;
  }
  const saved = await client.conversations.setInstructions(conversationId, text);
  io.stderr.write(
    saved.instructions === ""
      ? "This conversation's instructions removed.\n"
      : `Saved: new answers in this conversation get these instructions (${saved.instructions.length} characters).\n`,
  );
  return exitCodes.ok;
}

/**
 * chat sampling: prints the user's sampling (or with -c the conversation's, each setting it leaves to the user's default
 * named so) in words, or changes the settings given: only those are sent, so a change made meanwhile elsewhere to the
 * others stays.
 */
async function samplingCommand(options: SamplingCommand, io: CliIo): Promise<number> {
  const { conversationId, set } = options;
  const changing = Object.keys(set).length > 0;
  const asked = await askApi(options, io, async (client) => {
    const [own, user] = await Promise.all([
      conversationId === undefined
        ? undefined
        : changing
          ? client.conversations.setSampling(conversationId, set)
          : client.conversations.settings(conversationId),
      conversationId !== undefined || !changing ? client.settings.get() : client.settings.setSampling(set),
    ]);
    return samplingWords(own?.sampling, user.sampling);
  });
  if (!asked) return exitCodes.failed;
  const where = conversationId === undefined ? "in conversations without their own settings" : "in this conversation";
  if (changing) io.stderr.write(`Saved: new answers ${where} are sampled with ${asked.answer}.\n`);
  else io.stdout.write(`${asked.answer}\n`);
  return exitCodes.ok;
}

/**
 * How answers are sampled, in plain words: "temperature 0.2, top P model default, seed 42", or "model defaults" when
 * all are. `own`: a conversation's, whose settings left unset are the user's ("0.5 (your default)").
 */
function samplingWords(own: Sampling | undefined, user: Sampling): string {
  const sampling = own ?? user;
  const mine = own === undefined ? defaultSampling : user;
  if (isDefaultSampling(sampling) && isDefaultSampling(mine)) return "model defaults";
  const word = (key: keyof Sampling) => {
    const setting = sampling[key];
    if (setting !== null) return String(setting);
    const fallback = mine[key];
    return fallback === null ? "model default" : `${fallback} (your default)`;
  };
  return `temperature ${word("temperature")}, top P ${word("topP")}, seed ${word("seed")}`;
}

/** The terminal's width when stdout is one; undefined (lines not shortened) for a file or a pipe: a script gets them whole. */
function terminalWidth(io: CliIo): number | undefined {
  const columns = io.stdout.columns;
  return io.stdout.isTTY === true && columns !== undefined && columns > 0 ? columns : undefined;
}

/** chat list: the user's conversations as the web app lists them, one a line (or one JSON object a line). */
async function listCommand(options: ListCommand, io: CliIo): Promise<number> {
  const asked = await askApi(options, io, async (client) => {
    const listed: Awaited<ReturnType<typeof client.conversations.list>> = [];
    // Page after page (conversations.list gives at most listPageMax at once), each after the last one listed.
    while (listed.length < options.limit) {
      const limit = Math.min(listPageMax, options.limit - listed.length);
      const after = listed.at(-1)?.id;
      const page = await client.conversations.list({
        limit,
        ...(after === undefined ? {} : { after }),
        ...(options.title === undefined ? {} : { query: options.title }),
        ...(options.archived === true ? { archived: true } : {}),
      });
      listed.push(...page);
      if (page.length < limit) break;
    }
    return listed;
  });
  if (!asked) return exitCodes.failed;
  const conversations = asked.answer;
  if (conversations.length === 0) {
    const archived = options.archived === true ? "archived " : "";
    io.stderr.write(
      options.title === undefined
        ? options.archived === true
          ? "No archived conversations.\n"
          : "No conversations yet.\n"
        : `No ${archived}conversation's title has ${JSON.stringify(options.title)}.\n`,
    );
    return exitCodes.ok;
  }
  const now = Date.now();
  const width = terminalWidth(io);
  io.stdout.write(conversations.map((c) => `${options.json ? JSON.stringify(c) : conversationLine(c, now, width)}\n`).join(""));
  return exitCodes.ok;
}

/** chat search: the messages containing the words, newest first, one a line (or one JSON object a line). */
async function searchCommand(options: SearchCommand, io: CliIo): Promise<number> {
  const asked = await askApi(options, io, (client) => client.conversations.search(options.query, { limit: options.limit }));
  if (!asked) return exitCodes.failed;
  const hits = asked.answer;
  if (hits.length === 0) {
    io.stderr.write(`No message contains ${JSON.stringify(options.query)}.\n`);
    return exitCodes.ok;
  }
  const width = terminalWidth(io);
  io.stdout.write(hits.map((hit) => `${options.json ? JSON.stringify(hit) : searchHitLine(hit, options.query, width)}\n`).join(""));
  return exitCodes.ok;
}

/** chat models: the server's models with what each can do, one a line (or one JSON object a line, with `default`). */
async function modelsCommand(options: ModelsCommand, io: CliIo): Promise<number> {
  const asked = await askApi(options, io, (client) => client.models());
  if (!asked) return exitCodes.failed;
  const list = asked.answer;
  if (list.models.length === 0) {
    // The API lists none when its model server does not answer (it still runs answers with its default model).
    io.stderr.write(`The server lists no models: is its model server running? (its default model is ${JSON.stringify(list.defaultModel)})\n`);
    return exitCodes.ok;
  }
  io.stdout.write(
    options.json
      ? list.models.map((model) => `${JSON.stringify({ ...model, default: model.name === list.defaultModel })}\n`).join("")
      : modelLines(list).map((line) => `${line}\n`).join(""),
  );
  if (!list.models.some((model) => model.name === list.defaultModel)) {
    io.stderr.write(`(the server's default model, ${JSON.stringify(list.defaultModel)}, is not among them)\n`);
  }
  return exitCodes.ok;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return (await readAllBytes(stream)).toString("utf8");
}

async function readAllBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** A file system error as one short phrase ("no such file", "it already exists"), never a stack. */
function fileProblem(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EEXIST":
      return "it already exists (choose another name or remove it)";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
