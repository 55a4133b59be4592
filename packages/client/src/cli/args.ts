import { parseArgs } from "node:util";
import { defaultSampling, samplingLimits, samplingSchema, type Sampling } from "@streamchat/core";

const { temperature: temperatureLimits, topP: topPLimits, seed: seedLimits } = samplingLimits;

export const usage = `Usage: chat [--instructions <text>] [--temperature <n>] [--top-p <n>] [--seed <n>] [options] [question]
       chat --continue -c <conversation-id> [options]
       chat export <conversation-id> [--format json|markdown] [-o <file>] [options]
       chat export --all [-o <file>] [options]
       chat import <file> [options]
       chat instructions [-c <conversation-id>] ["<text>" | - | --clear] [options]
       chat sampling [-c <conversation-id>] [--temperature <n>] [--top-p <n>] [--seed <n>] [--reset] [options]
       chat list [--title <words>] [--archived] [--limit <n>] [--json] [options]
       chat search <words> [--limit <n>] [--json] [options]
       chat models [--json] [options]

Streams the answer to a question from the streamchat API. Without a question, starts an
interactive session (/new starts a new conversation, /continue writes on from an answer
that was stopped or cut short, printing what the model adds; /exit leaves). --continue does
that once for the conversation given with -c.

export writes a conversation to stdout, or to <file> with -o: json (default; the whole
conversation with every version, what import reads) or markdown (the conversation as shown).
export --all writes every conversation as JSON Lines (each line one conversation's JSON export),
to stdout or to <file> with -o (the file appears only once the export is complete).
import reads a JSON export (<file>, or - for stdin) into a new conversation and prints its id; a
JSON Lines file (export --all) becomes one new conversation per line, each id printed as it is made.
instructions prints your custom instructions (what every new answer is given after the server's
prompt), or saves new ones: one quoted argument, or - to read them from stdin; --clear removes them.
With -c, the same for that conversation's own instructions (what its new answers are given after
yours, first where the two differ); yours do not change.
sampling prints how your answers are sampled in every conversation that does not set its own:
temperature, top P and seed, or "model default" where the model's own is used. --temperature,
--top-p and --seed change those given for new answers and keep the others (the value default puts
one back to the model's); --reset puts them all back. With -c, the same for that conversation's
own, which win over yours setting by setting (one it does not set says "your default" or "model
default"); yours do not change.
With a question and no -c, --instructions, --temperature, --top-p and --seed start a new
conversation with its own: its first answer already gets them, and so do the later ones (in a
session, each new conversation's too); default there is the model's own, as if not given.
list prints your conversations as the web app lists them (pinned first, then newest activity), one
a line: its id (for --conversation and export), last activity, title, "(pinned)", "(answering)";
with --title, only those whose title holds every word (any order, case and accents ignored).
search prints the messages that contain the words (any case), newest first, one a line: the
conversation's id, its title, the passage. models prints the server's models, one a line: name,
"(default)" for the one used without --model, and what it can do.
A question that starts with the word export, import, instructions, sampling, list, search or models
is asked when it is one quoted argument.

Options:
  -m, --model <name>         model to use (default: the server's default model)
  -c, --conversation <id>    continue this conversation (instructions, sampling: that conversation's)
      --continue             write on from the answer that ends the conversation (-c), stopped or cut short
      --instructions <text>  a new conversation's own instructions (not with -c), which its first answer gets
                             (in a session, every new conversation's)
  -u, --url <url>            API base URL (default: $CHAT_URL or http://127.0.0.1:3000)
  -t, --token <token>        bearer token when the server has AUTH_TOKENS (default: $CHAT_TOKEN)
  -i, --image <path>         attach an image (PNG, JPEG, WebP, GIF; repeat for up to 4) — vision models
                             only; in a session it goes with the first question
      --file <path>          attach a text file (UTF-8; repeat for up to 8): the model reads it before
                             the question; in a session it goes with the first question
      --think <level>        low, medium or high (models with levels), on or off
      --usage, --no-usage    after each answer print tokens and context use to stderr (default: on in a terminal)
      --json                 print every event as one JSON line on stdout (NDJSON); list, search, models:
                             one JSON object a line, the API's fields
  -f, --format <format>      export: json or markdown (default json)
  -o, --output <file>        export: write to this file instead of stdout (never over an existing one)
      --all                  export: every conversation, as JSON Lines
      --clear                instructions: remove your custom instructions (with -c, the conversation's)
      --temperature <n>      sampling, a new conversation: ${temperatureLimits.min} to ${temperatureLimits.max} (lower: more predictable), or default
      --top-p <n>            sampling, a new conversation: above ${topPLimits.min}, at most ${topPLimits.max} (draw only from the likeliest tokens), or default
      --seed <n>             sampling, a new conversation: a whole number from ${seedLimits.min} to ${seedLimits.max} (same seed, same answer), or default
      --reset                sampling: every setting back to its default
      --title <words>        list: only the conversations whose title holds every word
      --archived             list: the archived conversations (out of the list) instead
  -n, --limit <n>            list: at most n conversations (default 20, at most 100000); search: at most n
                             messages (default 20, at most 100)
      --auto-deny            deny every tool call that asks for approval, without asking
      --approval-wait <secs> when stdin is not a terminal, wait this many seconds for an approval's
                             answer before denying (default: $CHAT_APPROVAL_WAIT or 10)
  -h, --help                 show this help

The answer goes to stdout; reasoning, tool calls and errors go to stderr.
A tool call that needs approval asks on stderr "Approve? [y/N]" and reads the answer from stdin:
only y or yes approves; anything else, or the end of input, denies it (so does no answer
within 10 s, or --approval-wait, when stdin is not a terminal).
Ctrl-C stops the answer and cancels the run on the server; a second Ctrl-C leaves at once.
With questions piped in (one per line), one that fails makes the exit code 1, and Ctrl-C
stops there (no later question is asked; exit code 130).
Environment: CHAT_URL, CHAT_TOKEN, CHAT_APPROVAL_WAIT, NO_COLOR (no colour on stderr).
Exit codes: 0 done, 1 the run or the request failed, 2 usage error, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM), 129 hung up (SIGHUP: the terminal closed); on each the run is cancelled.
`;

export const defaultUrl = "http://127.0.0.1:3000";

export interface CliOptions {
  question: string | undefined;
  /** --continue: write on from the cut-short answer that ends the conversation (no question). */
  continueAnswer: boolean;
  model: string | undefined;
  conversationId: string | undefined;
  url: string;
  token: string | undefined;
  json: boolean;
  /** Deny tool calls that ask for approval without prompting. */
  autoDeny: boolean;
  images: string[];
  /** --file paths: text files sent, like the images, with the next question only. */
  files: string[];
  think: boolean | "low" | "medium" | "high" | undefined;
  /** --instructions: the new conversation's own instructions (no -c), sent with its first question. */
  instructions: string | undefined;
  /**
   * --temperature, --top-p, --seed: the new conversation's sampling (no -c), sent with its first question, null for
   * those not given (or given as default); undefined: none given.
   */
  sampling: Sampling | undefined;
  /** Print usage and status lines; undefined: when stderr is a terminal. */
  usage: boolean | undefined;
  /** How long an approval question waits for its answer on input that is no terminal; undefined: the default. */
  approvalWaitMs: number | undefined;
}

/** Where the server is and who asks: every command has these. */
export type ServerOptions = Pick<CliOptions, "url" | "token">;

export interface ExportCommand extends ServerOptions {
  conversationId: string;
  format: "json" | "markdown";
  /** The file to write; undefined (or "-"): stdout. */
  output: string | undefined;
}

export interface ExportAllCommand extends ServerOptions {
  /** The file to write (JSON Lines); undefined (or "-"): stdout. */
  output: string | undefined;
}

export interface ImportCommand extends ServerOptions {
  /** The file to read (a JSON export, or JSON Lines of them); "-": stdin. */
  file: string;
}

export interface InstructionsCommand extends ServerOptions {
  /** undefined: print them; "-": read the new ones from stdin; "" (--clear): remove them; else the new ones. */
  set: string | undefined;
  /** -c: this conversation's own instructions; undefined: the user's custom instructions. */
  conversationId?: string | undefined;
}

export interface SamplingCommand extends ServerOptions {
  /** -c: this conversation's own sampling; undefined: the user's, for every conversation that sets none. */
  conversationId?: string | undefined;
  /**
   * The settings to change (null: back to the default: a conversation's to the user's, the user's to the model's), the
   * others kept as they are; none: print them.
   */
  set: Partial<Sampling>;
}

export interface ListCommand extends ServerOptions {
  /** At most this many conversations, 1 to `listLimits.max`. */
  limit: number;
  /** Only those whose title holds every word of it (trimmed, 1 to `maxSearchQueryChars` characters). */
  title?: string;
  /** The archived conversations instead of the list's. */
  archived?: boolean;
  json: boolean;
}

export interface SearchCommand extends ServerOptions {
  /** The words to find, trimmed (1 to `maxSearchQueryChars` characters). */
  query: string;
  /** At most this many messages, 1 to `searchLimits.max`. */
  limit: number;
  json: boolean;
}

export interface ModelsCommand extends ServerOptions {
  json: boolean;
}

export type ParsedArgs =
  | { kind: "help" }
  | { kind: "run"; options: CliOptions }
  | { kind: "export"; options: ExportCommand }
  | { kind: "export-all"; options: ExportAllCommand }
  | { kind: "import"; options: ImportCommand }
  | { kind: "instructions"; options: InstructionsCommand }
  | { kind: "sampling"; options: SamplingCommand }
  | { kind: "list"; options: ListCommand }
  | { kind: "search"; options: SearchCommand }
  | { kind: "models"; options: ModelsCommand }
  | { kind: "usage-error"; message: string };

const commands = ["export", "import", "instructions", "sampling", "list", "search", "models"] as const;
type Command = (typeof commands)[number];

/**
 * --limit of chat list. Above conversations.list's largest page (`listPageMax`) the command reads page after page
 * (`after`); the max only keeps a typo from reading a whole database.
 */
export const listLimits = { default: 20, max: 100_000 } as const;
/** conversations.list's largest page (its input's max). */
export const listPageMax = 500;
/** --limit of chat search: conversations.search's default and max. */
export const searchLimits = { default: 20, max: 100 } as const;
/** conversations.search's longest query (after trimming). */
export const maxSearchQueryChars = 200;

const emptyToUndefined = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value);

export function parseCliArgs(argv: string[], env: Record<string, string | undefined>): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      // --no-usage: the usage lines are on by default in a terminal, and this turns them off.
      allowNegative: true,
      strict: true,
      options: {
        model: { type: "string", short: "m" },
        conversation: { type: "string", short: "c" },
        continue: { type: "boolean", default: false },
        url: { type: "string", short: "u" },
        token: { type: "string", short: "t" },
        json: { type: "boolean", default: false },
        format: { type: "string", short: "f" },
        output: { type: "string", short: "o" },
        all: { type: "boolean", default: false },
        clear: { type: "boolean", default: false },
        limit: { type: "string", short: "n" },
        title: { type: "string" },
        archived: { type: "boolean", default: false },
        "auto-deny": { type: "boolean", default: false },
        "approval-wait": { type: "string" },
        image: { type: "string", short: "i", multiple: true },
        // No short form: -f is export's --format.
        file: { type: "string", multiple: true },
        think: { type: "string" },
        instructions: { type: "string" },
        temperature: { type: "string" },
        "top-p": { type: "string" },
        seed: { type: "string" },
        reset: { type: "boolean", default: false },
        usage: { type: "boolean" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    return { kind: "usage-error", message: parseErrorMessage(error) };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };

  const url = emptyToUndefined(values.url) ?? emptyToUndefined(env.CHAT_URL) ?? defaultUrl;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    return { kind: "usage-error", message: `--url must be an http:// or https:// URL (got ${JSON.stringify(url)})` };
  }
  const token = emptyToUndefined(values.token) ?? emptyToUndefined(env.CHAT_TOKEN);
  // A command is a first word on its own ("chat export <id>"); a quoted question starting with the word is not.
  const command = commands.find((name) => positionals[0] === name);
  if (command) return parseCommand(command, positionals.slice(1), values, { url, token });
  const elsewhere = optionOfAnotherCommand(values, "run");
  if (elsewhere) return elsewhere;
  const question = positionals.length > 0 ? positionals.join(" ") : undefined;
  if (question !== undefined && question.trim() === "") {
    return { kind: "usage-error", message: "the question is empty" };
  }
  const think = parseThink(values.think);
  if (think === null) return { kind: "usage-error", message: `--think must be low, medium, high, on or off (got ${JSON.stringify(values.think)})` };
  const images = values.image ?? [];
  if (images.some((path) => path.trim() === "")) return { kind: "usage-error", message: "--image needs a file path" };
  const files = values.file ?? [];
  if (files.some((path) => path.trim() === "")) return { kind: "usage-error", message: "--file needs a file path" };
  const approvalWait = emptyToUndefined(values["approval-wait"]) ?? emptyToUndefined(env.CHAT_APPROVAL_WAIT);
  const approvalWaitMs = parseApprovalWait(approvalWait);
  if (approvalWaitMs === null) {
    const from = emptyToUndefined(values["approval-wait"]) === undefined ? "CHAT_APPROVAL_WAIT" : "--approval-wait";
    return {
      kind: "usage-error",
      message: `${from} must be a number of seconds above 0, at most ${maxApprovalWaitSeconds} (got ${JSON.stringify(approvalWait)}); to deny without asking, pass --auto-deny`,
    };
  }
  for (const name of ["model", "conversation", "token", "approval-wait", "instructions"] as const) {
    if (values[name] !== undefined && values[name].trim() === "") {
      return { kind: "usage-error", message: `--${name} needs a value` };
    }
  }
  if (values.instructions !== undefined && values.conversation !== undefined) {
    return { kind: "usage-error", message: `--instructions go with a new conversation; for this one: chat instructions -c ${values.conversation} "…"` };
  }
  const sampling = givenSampling(values);
  if (typeof sampling === "string") return { kind: "usage-error", message: sampling };
  const samplingGiven = Object.keys(sampling).length > 0;
  if (samplingGiven && values.conversation !== undefined) {
    const given = samplingKeys.filter((key) => key in sampling);
    const options = given.map((key) => `--${samplingOptions[key].option}`);
    // The values as parsed (default for null): the command suggested can be run as it reads.
    const settings = given.map((key, i) => `${options[i]} ${sampling[key] ?? "default"}`);
    return {
      kind: "usage-error",
      message: `${options.join(", ")} ${options.length === 1 ? "goes" : "go"} with a new conversation; to change this one's sampling, use chat sampling -c ${values.conversation} ${settings.join(" ")}`,
    };
  }
  if (values.continue) {
    if (values.conversation === undefined) return { kind: "usage-error", message: "--continue needs the conversation (-c <conversation-id>)" };
    if (question !== undefined) return { kind: "usage-error", message: "--continue takes no question: it writes on from the answer the conversation ends with" };
    if (images.length > 0 || files.length > 0) return { kind: "usage-error", message: "--continue sends no message, so no --image or --file" };
  }
  return {
    kind: "run",
    options: {
      question,
      continueAnswer: values.continue,
      model: values.model,
      conversationId: values.conversation,
      url,
      token,
      json: values.json,
      autoDeny: values["auto-deny"],
      images,
      files,
      think,
      instructions: values.instructions,
      sampling: samplingGiven ? { ...defaultSampling, ...sampling } : undefined,
      usage: values.usage,
      approvalWaitMs,
    },
  };
}

/** A day: plenty for a program to answer on the pipe; setTimeout would overflow past about 24.8 days. */
const maxApprovalWaitSeconds = 86_400;

/** Seconds ("30", "2.5") as ms; undefined: not given; null: not a wait (0 too: --auto-deny says that). */
function parseApprovalWait(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  // Number() would also take "0x10", "1e3" and "Infinity"; a person writes decimals.
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value)) return null;
  const seconds = Number(value);
  if (!(seconds > 0) || seconds > maxApprovalWaitSeconds) return null;
  return Math.ceil(seconds * 1000);
}

/** The commands that print data, with --json for one JSON object a line. */
const listingCommands: ReadonlySet<Command> = new Set(["list", "search", "models"]);
/** The commands that take -c: the conversation whose own settings they read or set. */
const conversationCommands: ReadonlySet<Command> = new Set(["instructions", "sampling"]);

/** chat sampling's options as parseArgs gives them: a number or "default" as typed, and --reset. */
interface SamplingValues {
  temperature?: string | undefined;
  "top-p"?: string | undefined;
  seed?: string | undefined;
  reset?: boolean;
}

/** Each sampling setting's option, and what it takes in words (for the usage error), from core's limits. */
const samplingOptions = {
  temperature: { option: "temperature", takes: `a number from ${temperatureLimits.min} to ${temperatureLimits.max}` },
  topP: { option: "top-p", takes: `a number above ${topPLimits.min}, at most ${topPLimits.max}` },
  seed: { option: "seed", takes: `a whole number from ${seedLimits.min} to ${seedLimits.max}` },
} as const satisfies Record<keyof Sampling, { option: keyof SamplingValues; takes: string }>;
const samplingKeys = ["temperature", "topP", "seed"] as const satisfies ReadonlyArray<keyof Sampling>;

/** A usage error for words after a command that takes none. */
function takesNoWords(command: Command): ParsedArgs {
  // Unquoted words after the command are more likely a question ("chat list the planets") than a mistake to ignore.
  return { kind: "usage-error", message: `chat ${command} takes no words (a question: quote it whole, chat "${command} …")` };
}

function parseCommand(
  command: Command,
  args: string[],
  values: {
    format?: string | undefined;
    output?: string | undefined;
    all?: boolean;
    model?: string | undefined;
    conversation?: string | undefined;
    json?: boolean;
    clear?: boolean;
    limit?: string | undefined;
    title?: string | undefined;
    archived?: boolean;
    image?: string[] | undefined;
    file?: string[] | undefined;
    instructions?: string | undefined;
  } & SamplingValues,
  server: ServerOptions,
): ParsedArgs {
  // Attachments too: "chat import --file chat.json" would otherwise drop the option and read no file.
  // -c names the conversation whose settings chat instructions and chat sampling read or set; no other command takes it.
  const misplaced =
    (["model", "conversation", "image", "file", "instructions"] as const).find((name) => values[name] !== undefined && !(name === "conversation" && conversationCommands.has(command))) ??
    (values.json && !listingCommands.has(command) ? "json" : undefined);
  if (misplaced) return { kind: "usage-error", message: `--${misplaced} is not an option of chat ${command}` };
  const elsewhere = optionOfAnotherCommand(values, command);
  if (elsewhere) return elsewhere;
  const json = values.json === true;
  if (command === "instructions") return parseInstructions(args, values, server);
  if (command === "sampling") return parseSampling(args, values, server);
  if (command === "list" || command === "models") {
    if (args.length > 0) return takesNoWords(command);
    if (command === "models") return { kind: "models", options: { ...server, json } };
    const limit = parseLimit(values.limit, listLimits);
    if (typeof limit === "string") return { kind: "usage-error", message: limit };
    const archived = values.archived === true ? { archived: true } : {};
    if (values.title === undefined) return { kind: "list", options: { ...server, limit, json, ...archived } };
    const title = values.title.trim();
    if (title === "") return { kind: "usage-error", message: "--title needs the words to find" };
    if (title.length > maxSearchQueryChars) {
      return { kind: "usage-error", message: `the --title words are at most ${maxSearchQueryChars} characters (got ${title.length})` };
    }
    return { kind: "list", options: { ...server, limit, json, title, ...archived } };
  }
  if (command === "search") {
    // Words as typed, like a question: "chat search train to Lyon" looks for the phrase.
    const query = args.join(" ").trim();
    if (query === "") return { kind: "usage-error", message: "chat search needs the words to find" };
    if (query.length > maxSearchQueryChars) {
      return { kind: "usage-error", message: `the search words are at most ${maxSearchQueryChars} characters (got ${query.length})` };
    }
    const limit = parseLimit(values.limit, searchLimits);
    if (typeof limit === "string") return { kind: "usage-error", message: limit };
    return { kind: "search", options: { ...server, query, limit, json } };
  }
  if (command === "export") {
    if (values.all) {
      if (args.length > 0) {
        return { kind: "usage-error", message: `chat export --all takes no conversation id (it exports every conversation; got ${JSON.stringify(args.join(" "))})` };
      }
      if (values.format === "markdown") {
        return { kind: "usage-error", message: "--format markdown exports one conversation; chat export --all writes JSON Lines (each line one conversation's JSON export)" };
      }
      if (values.format !== undefined && values.format !== "json") {
        return { kind: "usage-error", message: `--format must be json or markdown (got ${JSON.stringify(values.format)})` };
      }
      if (values.output !== undefined && values.output.trim() === "") return { kind: "usage-error", message: "--output needs a file name" };
      return { kind: "export-all", options: { ...server, output: values.output } };
    }
    if (args.length !== 1 || args[0]!.trim() === "") return { kind: "usage-error", message: "chat export needs one conversation id (or --all for every conversation)" };
    const format = values.format ?? "json";
    if (format !== "json" && format !== "markdown") {
      return { kind: "usage-error", message: `--format must be json or markdown (got ${JSON.stringify(format)})` };
    }
    if (values.output !== undefined && values.output.trim() === "") return { kind: "usage-error", message: "--output needs a file name" };
    return { kind: "export", options: { ...server, conversationId: args[0]!, format, output: values.output } };
  }
  if (args.length !== 1 || args[0]!.trim() === "") return { kind: "usage-error", message: "chat import needs one file (- for stdin)" };
  return { kind: "import", options: { ...server, file: args[0]! } };
}

/**
 * A usage error when an option of one command (export's --format, --output and --all, instructions' --clear, list's
 * and search's --limit, sampling's settings and --reset) is given to another.
 */
function optionOfAnotherCommand(
  values: {
    format?: string | undefined;
    output?: string | undefined;
    all?: boolean;
    clear?: boolean;
    limit?: string | undefined;
    title?: string | undefined;
    archived?: boolean;
    continue?: boolean;
  } & SamplingValues,
  command: Command | "run",
): ParsedArgs | undefined {
  if (command !== "run" && values.continue) return { kind: "usage-error", message: `--continue is an option of chat -c <conversation-id>, not of chat ${command}` };
  if (command !== "export" && (values.format !== undefined || values.output !== undefined || values.all)) {
    const option = values.format !== undefined ? "format" : values.output !== undefined ? "output" : "all";
    return { kind: "usage-error", message: `--${option} is an option of chat export` };
  }
  if (command !== "instructions" && values.clear) return { kind: "usage-error", message: "--clear is an option of chat instructions" };
  if (command !== "list" && command !== "search" && values.limit !== undefined) {
    return { kind: "usage-error", message: "--limit is an option of chat list and chat search" };
  }
  if (command !== "list" && values.title !== undefined) return { kind: "usage-error", message: "--title is an option of chat list" };
  if (command !== "list" && values.archived) return { kind: "usage-error", message: "--archived is an option of chat list" };
  // A question takes the settings too, for the new conversation it starts; --reset only changes an existing one's.
  if (command !== "sampling") {
    const settings = command === "run" ? undefined : samplingKeys.map((key) => samplingOptions[key].option).find((option) => values[option] !== undefined);
    const sampling = settings ?? (values.reset ? "reset" : undefined);
    if (sampling) return { kind: "usage-error", message: `--${sampling} is an option of chat sampling` };
  }
  return undefined;
}

/** --limit as a whole number from 1 to `limits.max` (`limits.default` when not given); a string: the usage error. */
function parseLimit(value: string | undefined, limits: { default: number; max: number }): number | string {
  if (value === undefined) return limits.default;
  if (value.trim() === "") return "--limit needs a value";
  // Number() would also take "1e2", "0x10" and "12.0".
  const limit = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= limits.max)) return `--limit must be a whole number from 1 to ${limits.max} (got ${JSON.stringify(value)})`;
  return limit;
}

/** chat instructions, of the user or (-c) of one conversation. */
function parseInstructions(args: string[], values: { clear?: boolean; conversation?: string | undefined }, server: ServerOptions): ParsedArgs {
  const { conversation } = values;
  if (conversation !== undefined && conversation.trim() === "") return { kind: "usage-error", message: "--conversation needs a value" };
  const target = conversation === undefined ? server : { ...server, conversationId: conversation };
  // How the messages name the command: with -c when the conversation's instructions were meant.
  const command = conversation === undefined ? "chat instructions" : "chat instructions -c <conversation-id>";
  if (values.clear) {
    if (args.length > 0) return { kind: "usage-error", message: `${command} --clear takes no text` };
    return { kind: "instructions", options: { ...target, set: "" } };
  }
  if (args.length === 0) return { kind: "instructions", options: { ...target, set: undefined } };
  // Unquoted words are more likely a question about instructions than new ones: saving them would be a surprise.
  if (args.length > 1) {
    return { kind: "usage-error", message: 'chat instructions takes the new instructions as one quoted argument (a question: quote it whole, chat "instructions …")' };
  }
  if (args[0]!.trim() === "") return { kind: "usage-error", message: `${command} --clear removes them` };
  return { kind: "instructions", options: { ...target, set: args[0]! } };
}

/** chat sampling, of the user or (-c) of one conversation: print it, or change the settings given (--reset: all of them). */
function parseSampling(args: string[], values: SamplingValues & { conversation?: string | undefined }, server: ServerOptions): ParsedArgs {
  const { conversation } = values;
  if (conversation !== undefined && conversation.trim() === "") return { kind: "usage-error", message: "--conversation needs a value" };
  if (args.length > 0) return takesNoWords("sampling");
  const target = conversation === undefined ? server : { ...server, conversationId: conversation };
  const given = samplingKeys.filter((key) => values[samplingOptions[key].option] !== undefined);
  if (values.reset) {
    if (given.length > 0) {
      const options = given.map((key) => `--${samplingOptions[key].option}`).join(", ");
      return { kind: "usage-error", message: `--reset puts every setting back to its default: not with ${options}` };
    }
    return { kind: "sampling", options: { ...target, set: defaultSampling } };
  }
  const set = givenSampling(values);
  if (typeof set === "string") return { kind: "usage-error", message: set };
  return { kind: "sampling", options: { ...target, set } };
}

/** The sampling settings given (--temperature, --top-p, --seed), each checked; a string: the usage error. */
function givenSampling(values: SamplingValues): Partial<Sampling> | string {
  const set: Partial<Sampling> = {};
  for (const key of samplingKeys) {
    const typed = values[samplingOptions[key].option];
    if (typed === undefined) continue;
    const value = parseSamplingSetting(key, typed);
    if (typeof value === "string") return value;
    set[key] = value.setting;
  }
  return set;
}

/**
 * One sampling setting as typed: a number the API takes (core's samplingSchema decides, as the API's does), or
 * "default" for the model's own (null); a string: the usage error.
 */
function parseSamplingSetting(key: keyof Sampling, value: string): { setting: number | null } | string {
  const { option, takes } = samplingOptions[key];
  const typed = value.trim();
  if (typed === "") return `--${option} needs a value (${takes}, or default)`;
  if (typed.toLowerCase() === "default") return { setting: null };
  // Number() would also take "0x1", "1e3" and "Infinity"; a person writes decimals.
  const setting = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(typed) ? Number(typed) : Number.NaN;
  if (!samplingSchema.shape[key].safeParse(setting).success) return `--${option} must be ${takes}, or default (got ${JSON.stringify(value)})`;
  return { setting };
}

/** undefined: not given; null: not a setting. */
function parseThink(value: string | undefined): CliOptions["think"] | null {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === "on" || v === "true") return true;
  if (v === "off" || v === "false") return false;
  if (v === "low" || v === "medium" || v === "high") return v;
  return null;
}

const longNames: Record<string, string> = { m: "model", c: "conversation", u: "url", t: "token", f: "format", o: "output", i: "image", n: "limit", h: "help" };

/**
 * parseArgs' error as one short line: its own messages run to three lines ("argument is ambiguous. Did you forget…")
 * and name options as "-m, --model <value>", while a usage error is one line that names the option as typed.
 */
function parseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const named = /'(-[^' ,]+)/.exec(message)?.[1] ?? "";
  const short = /^-([a-z])$/i.exec(named)?.[1];
  const option = short !== undefined && longNames[short] ? `--${longNames[short]}` : named;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return `unknown option ${named} (a question that starts with "-" goes after "--": chat -- ${JSON.stringify(named)})`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    if (/does not take an argument/.test(message)) return `${option} takes no value`;
    // "-m --json": the value is missing, or it starts with a dash and must be written --model=-x.
    if (/ambiguous/.test(message)) return `${option} needs a value (one that starts with "-" is written ${option}=-…)`;
    return `${option} needs a value`;
  }
  return message.split("\n")[0]!;
}
