import { parseArgs } from "node:util";

export const usage = `Usage: chat [options] [question]

Streams the answer to a question from the streamchat API. Without a question, starts an
interactive session (/new starts a new conversation, /exit leaves).

Options:
  -m, --model <name>         model to use (default: the server's default model)
  -c, --conversation <id>    continue this conversation
  -u, --url <url>            API base URL (default: $CHAT_URL or http://127.0.0.1:3000)
  -t, --token <token>        bearer token when the server has AUTH_TOKENS (default: $CHAT_TOKEN)
  -i, --image <path>         attach an image (PNG, JPEG, WebP, GIF; repeat for up to 4) — vision models
                             only; in a session it goes with the first question
      --think <level>        low, medium or high (models with levels), on or off
      --usage                after each answer print tokens and context use to stderr (default in a terminal)
      --json                 print every event as one JSON line on stdout (NDJSON)
  -h, --help                 show this help

The answer goes to stdout; reasoning, tool calls and errors go to stderr.
Exit codes: 0 done, 1 the run or the request failed, 2 usage error, 130 interrupted (Ctrl-C).
`;

export const defaultUrl = "http://127.0.0.1:3000";

export interface CliOptions {
  question: string | undefined;
  model: string | undefined;
  conversationId: string | undefined;
  url: string;
  token: string | undefined;
  json: boolean;
  images: string[];
  think: boolean | "low" | "medium" | "high" | undefined;
  /** Print usage and status lines; undefined: when stderr is a terminal. */
  usage: boolean | undefined;
}

export type ParsedArgs = { kind: "help" } | { kind: "run"; options: CliOptions } | { kind: "usage-error"; message: string };

const emptyToUndefined = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value);

export function parseCliArgs(argv: string[], env: Record<string, string | undefined>): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: "string", short: "m" },
        conversation: { type: "string", short: "c" },
        url: { type: "string", short: "u" },
        token: { type: "string", short: "t" },
        json: { type: "boolean", default: false },
        image: { type: "string", short: "i", multiple: true },
        think: { type: "string" },
        usage: { type: "boolean" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    // parseArgs' messages name the bad option ("Unknown option '--modle'"), which is what a user needs.
    return { kind: "usage-error", message: error instanceof Error ? error.message : String(error) };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };

  const url = emptyToUndefined(values.url) ?? emptyToUndefined(env.CHAT_URL) ?? defaultUrl;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    return { kind: "usage-error", message: `--url must be an http:// or https:// URL (got ${JSON.stringify(url)})` };
  }
  const question = positionals.length > 0 ? positionals.join(" ") : undefined;
  if (question !== undefined && question.trim() === "") {
    return { kind: "usage-error", message: "the question is empty" };
  }
  const think = parseThink(values.think);
  if (think === null) return { kind: "usage-error", message: `--think must be low, medium, high, on or off (got ${JSON.stringify(values.think)})` };
  const images = values.image ?? [];
  if (images.some((path) => path.trim() === "")) return { kind: "usage-error", message: "--image needs a file path" };
  for (const name of ["model", "conversation", "token"] as const) {
    if (values[name] !== undefined && values[name].trim() === "") {
      return { kind: "usage-error", message: `--${name} needs a value` };
    }
  }
  return {
    kind: "run",
    options: {
      question,
      model: values.model,
      conversationId: values.conversation,
      url,
      token: emptyToUndefined(values.token) ?? emptyToUndefined(env.CHAT_TOKEN),
      json: values.json,
      images,
      think,
      usage: values.usage,
    },
  };
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
