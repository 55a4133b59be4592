import { readFile } from "node:fs/promises";
import { z } from "zod";
import { serverNameProblem, serverPrefix } from "./names.js";

/** A bad MCP_CONFIG file; the message names the file, the server and the field, and is safe to print. */
export class McpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "McpConfigError";
  }
}

// `true`: every tool of the server; a list: those MCP tool names (as the server names them).
const requireApproval = z.union([z.boolean(), z.array(z.string().min(1))]).default(false);

// Strict objects: a misspelt key ("requireAproval") must fail loudly, not quietly run tools unapproved.
const common = {
  requireApproval,
  enabled: z.boolean().default(true),
  // Accepted because other hosts' files carry it; the shape (command or url) decides.
  type: z
    .enum(["stdio", "http", "streamable-http"], {
      // Other hosts' files name the older HTTP+SSE transport so; this client speaks only its successor.
      error: (issue) =>
        issue.input === "sse"
          ? '"sse" (the older HTTP+SSE transport) is not supported: give the url of the server\'s Streamable HTTP endpoint (often ending in /mcp) with "type": "http"'
          : undefined,
    })
    .optional(),
};

const stdioServerSchema = z.strictObject({
  command: z.string().trim().min(1, { error: "must not be empty" }),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  ...common,
});

const httpServerSchema = z.strictObject({
  // Checked to be an http(s) URL once variables are expanded.
  url: z.string().trim().min(1, { error: "must not be empty" }),
  headers: z.record(z.string(), z.string()).default({}),
  ...common,
});

export type StdioServerConfig = z.infer<typeof stdioServerSchema>;
export type HttpServerConfig = z.infer<typeof httpServerSchema>;
export type McpServerConfig = StdioServerConfig | HttpServerConfig;

export interface McpConfig {
  /** In the file's order. */
  servers: Array<{ name: string; config: McpServerConfig }>;
}

export function isStdioServer(config: McpServerConfig): config is StdioServerConfig {
  return "command" in config;
}

const fileSchema = z.object({
  // Other keys of a host's file (Claude Desktop keeps its settings beside mcpServers) are ignored.
  mcpServers: z.record(z.string().min(1).max(64), z.unknown()),
});

/** Reads and validates the MCP_CONFIG file. */
export async function loadMcpConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<McpConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw new McpConfigError(`MCP_CONFIG ${file}: cannot read the file (${reason}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new McpConfigError(`MCP_CONFIG ${file}: not valid JSON (${error instanceof Error ? error.message : "parse error"}).`);
  }
  return parseMcpConfig(json, file, env);
}

/**
 * Validates a parsed config file and expands `${VAR}` / `${VAR:-default}` in command, args, cwd, env
 * values, url and header values from `env` (so secrets can stay out of the file).
 */
export function parseMcpConfig(json: unknown, file: string, env: NodeJS.ProcessEnv = process.env): McpConfig {
  const top = fileSchema.safeParse(json);
  if (!top.success) {
    throw new McpConfigError(`MCP_CONFIG ${file}: ${describe(top.error, "")}`);
  }
  const servers: McpConfig["servers"] = [];
  const prefixes = new Map<string, string>();
  for (const [name, raw] of Object.entries(top.data.mcpServers)) {
    const where = `MCP_CONFIG ${file}: server "${name}"`;
    // Its tools are offered as <server>__<tool>: a name must say which server a tool belongs to, whatever the others.
    const problem = serverNameProblem(name);
    if (problem) throw new McpConfigError(`${where}: the name ${problem}.`);
    const other = prefixes.get(serverPrefix(name));
    if (other !== undefined) {
      throw new McpConfigError(`${where}: the name gives its tools the same names as server "${other}"'s (${serverPrefix(name)}__…).`);
    }
    prefixes.set(serverPrefix(name), name);
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new McpConfigError(`${where}: must be an object with "command" (a stdio server) or "url" (a Streamable HTTP server).`);
    }
    const hasUrl = "url" in raw;
    if (hasUrl === "command" in raw) {
      throw new McpConfigError(`${where}: needs either "command" (a stdio server) or "url" (a Streamable HTTP server).`);
    }
    const parsed = (hasUrl ? httpServerSchema : stdioServerSchema).safeParse(raw);
    if (!parsed.success) throw new McpConfigError(`${where}: ${describe(parsed.error, "")}`);
    servers.push({ name, config: expandServer(parsed.data, env, where) });
  }
  return { servers };
}

function describe(error: z.ZodError, prefix: string): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      return path ? `${prefix}${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

function expandServer(config: McpServerConfig, env: NodeJS.ProcessEnv, where: string): McpServerConfig {
  const expand = (value: string, field: string) => expandVariables(value, env, `${where}: ${field}`);
  const expandRecord = (record: Record<string, string>, field: string) =>
    Object.fromEntries(Object.entries(record).map(([key, value]) => [key, expand(value, `${field}.${key}`)]));
  if (isStdioServer(config)) {
    const expanded = {
      ...config,
      command: noNul(expand(config.command, "command"), `${where}: command`),
      args: config.args.map((arg, i) => noNul(expand(arg, `args.${i}`), `${where}: args.${i}`)),
      env: expandRecord(config.env, "env"),
      ...(config.cwd === undefined ? {} : { cwd: noNul(expand(config.cwd, "cwd"), `${where}: cwd`) }),
    };
    for (const [key, value] of Object.entries(expanded.env)) {
      // What spawn refuses (it throws at every start) or would turn into another variable ("A=B" sets A).
      if (key === "" || key.includes("=") || key.includes("\0")) throw new McpConfigError(`${where}: env: ${JSON.stringify(key)} is not a valid variable name.`);
      noNul(value, `${where}: env.${key}`);
    }
    return expanded;
  }
  const url = expand(config.url, "url");
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new McpConfigError(`${where}: url: must be an http:// or https:// URL.`);
  }
  const headers = expandRecord(config.headers, "headers");
  for (const [name, value] of Object.entries(headers)) {
    // fetch refuses these on every request: the server would fail each attempt with fetch's message instead.
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new McpConfigError(`${where}: headers: ${JSON.stringify(name)} is not a valid HTTP header name.`);
    // The value is not printed: it usually holds a credential.
    if (/[\r\n\0]/.test(value.trim())) throw new McpConfigError(`${where}: headers.${name}: must not contain a line break or a NUL character.`);
  }
  return { ...config, url, headers };
}

/** The value, when it has no NUL character (which no process argument or variable can hold). Not printed: it may be a secret. */
function noNul(value: string, where: string): string {
  if (value.includes("\0")) throw new McpConfigError(`${where}: must not contain a NUL character.`);
  return value;
}

function expandVariables(value: string, env: NodeJS.ProcessEnv, where: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== "") return found;
    if (fallback !== undefined) return fallback;
    throw new McpConfigError(`${where}: refers to \${${name}}, which is not set in the API's environment.`);
  });
}
