// A stdio MCP server (the SDK's low-level Server, so tool schemas can be anything) whose tools misbehave
// on request. Run by tests as a real child process: `node fault-server.ts [--crash-on-start] [--mute]
// [--stubborn]`. It reports what happened to it on stderr ("called <tool>", "cancelled <tool>"), which the
// hub passes to its logger.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type JSONRPCMessage, type Tool } from "@modelcontextprotocol/sdk/types.js";

const flags = new Set(process.argv.slice(2));
// --slow-list=MS: lists its tools in three pages, each answered MS late.
const slowListMs = Number(process.argv.find((arg) => arg.startsWith("--slow-list="))?.split("=")[1] ?? 0);

if (flags.has("--crash-on-start")) {
  // With a secret in it, as a crashing server may print its configuration: it must reach the log, never users.
  process.stderr.write("fault-server: cannot open postgres://app:hunter2@db/app\n");
  process.exit(2);
}

if (flags.has("--stubborn")) {
  // Ignores SIGTERM and the end of stdin: only SIGKILL ends it.
  process.on("SIGTERM", () => process.stderr.write("ignoring SIGTERM\n"));
  setInterval(() => undefined, 1000);
}

// --chatty: floods stderr at start (one line of 100 000 characters, then 300 short ones), as a server stuck logging does.
if (flags.has("--chatty")) {
  process.stderr.write(`${"x".repeat(100_000)}\n`);
  for (let i = 1; i <= 300; i++) process.stderr.write(`noise ${i}\n`);
}

// --noisy: writes what is not JSON-RPC to stdout (a banner, structured log lines), as servers that log to stdout do.
const noisy = flags.has("--noisy");
if (noisy) process.stdout.write("fault-server 1.0 starting\n");

const text = (value: string): CallToolResult => ({ content: [{ type: "text", text: value }] });

const tools: Tool[] = [
  {
    name: "echo",
    description: "Returns its text",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"], additionalProperties: false },
  },
  { name: "exit", description: "The server process exits while answering", inputSchema: { type: "object", properties: {} } },
  { name: "hang", description: "Never answers", inputSchema: { type: "object", properties: {} } },
  { name: "fail", description: "Answers with isError", inputSchema: { type: "object", properties: {} } },
  { name: "grow", description: "Adds the tool `extra` and sends tools/list_changed", inputSchema: { type: "object", properties: {} } },
  { name: "odd", description: "Answers with a content block of a type MCP does not define", inputSchema: { type: "object", properties: {} } },
  { name: "malformed", description: "Answers with a text block without its text", inputSchema: { type: "object", properties: {} } },
  {
    name: "big",
    description: "Answers with a text of `bytes` characters (as a file-reading server does with a large file)",
    inputSchema: { type: "object", properties: { bytes: { type: "integer", minimum: 0 } }, required: ["bytes"] },
  },
  {
    name: "pick",
    description: "Finds an item by id or by path: its schema combines the two at its top level (oneOf), as generated schemas of unions do",
    inputSchema: {
      type: "object",
      properties: { verbose: { type: "boolean" } },
      oneOf: [
        { properties: { id: { type: "string" } }, required: ["id"] },
        { properties: { path: { type: "string" } }, required: ["path"] },
      ],
    } as unknown as Tool["inputSchema"],
  },
  {
    name: "broken",
    description: "Its input schema is not a JSON Schema",
    inputSchema: { type: "object", properties: { x: { type: "nonsense" } } } as unknown as Tool["inputSchema"],
  },
  {
    name: "not_object",
    description: "Its input schema is not an object schema",
    inputSchema: { type: "string" } as unknown as Tool["inputSchema"],
  },
];

// --ref-schemas: tools whose whole input schema is a $ref, as pydantic and other schema generators write them.
if (flags.has("--ref-schemas")) {
  const refTools: Array<{ name: string; inputSchema: Record<string, unknown> }> = [
    {
      name: "ref_defs",
      inputSchema: {
        $ref: "#/$defs/Input",
        $defs: {
          Input: { type: "object", properties: { city: { $ref: "#/$defs/City" } }, required: ["city"], additionalProperties: false },
          City: { type: "string", minLength: 1 },
        },
      },
    },
    {
      name: "ref_definitions",
      inputSchema: {
        $schema: "http://json-schema.org/draft-07/schema#",
        $ref: "#/definitions/Input",
        definitions: { Input: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] } },
      },
    },
    { name: "ref_missing", inputSchema: { $ref: "#/$defs/Nowhere", $defs: {} } },
    { name: "ref_not_object", inputSchema: { $ref: "#/$defs/Text", $defs: { Text: { type: "string" } } } },
    { name: "ref_remote", inputSchema: { $ref: "https://example.com/input.json" } },
  ];
  for (const { name, inputSchema } of refTools) {
    tools.push({ name, description: `Its input schema is a top-level $ref (${name})`, inputSchema: inputSchema as unknown as Tool["inputSchema"] });
  }
}

const server = new Server({ name: "fault-server", version: "1.0.0" }, { capabilities: { tools: { listChanged: true } } });

server.setRequestHandler(ListToolsRequestSchema, async (request) => {
  if (slowListMs === 0) return { tools };
  await new Promise((resolve) => setTimeout(resolve, slowListMs));
  const page = Number(request.params?.cursor ?? 0);
  return { tools: page === 0 ? tools : [], ...(page < 2 ? { nextCursor: String(page + 1) } : {}) };
});

server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
  const name = request.params.name;
  process.stderr.write(`called ${name} ${JSON.stringify(request.params.arguments ?? {})}\n`);
  if (noisy) process.stdout.write(`${JSON.stringify({ level: 30, msg: `called ${name}` })}\n`);
  switch (name) {
    case "echo":
      return text(String((request.params.arguments as { text?: unknown } | undefined)?.text));
    case "ref_defs":
    case "ref_definitions":
    case "pick":
      return text(`picked ${JSON.stringify(request.params.arguments ?? {})}`);
    case "extra":
      return text("extra answered");
    case "exit":
      process.stderr.write("exiting mid-call\n");
      process.exit(3);
    // falls through (exit never returns)
    case "hang":
      return new Promise<never>(() => {
        extra.signal.addEventListener("abort", () => process.stderr.write("cancelled hang\n"), { once: true });
      });
    case "big":
      return text("x".repeat(Number((request.params.arguments as { bytes?: unknown } | undefined)?.bytes ?? 0)));
    case "fail":
      return { isError: true, content: [{ type: "text", text: "disk on fire" }] };
    case "odd":
    case "malformed":
      // The SDK's Server refuses to send such results: the transport swaps them in on the way out (rawResults).
      return text(`raw:${name}`);
    case "grow":
      if (!tools.some((t) => t.name === "extra")) {
        tools.push({ name: "extra", description: "Added at run time", inputSchema: { type: "object", properties: {} } });
      }
      await server.sendToolListChanged();
      return text("grown");
    default:
      return { isError: true, content: [{ type: "text", text: `unknown tool ${name}` }] };
  }
});

if (flags.has("--mute")) {
  // Reads stdin but never answers, not even initialize.
  process.stdin.resume();
} else {
  const transport = new StdioServerTransport();
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage) => send(rawResult(message));
  await server.connect(transport);
}

/** Results no MCP SDK server would send, as a server written without one can: what `odd` and `malformed` answer. */
const rawResults: Record<string, unknown> = {
  "raw:odd": { content: [{ type: "video", url: "https://example.com/v.mp4" }, { type: "text", text: "see the video" }] },
  "raw:malformed": { content: [{ type: "text" }] },
};

function rawResult(message: JSONRPCMessage): JSONRPCMessage {
  if (!("result" in message)) return message;
  const first = (message.result as { content?: Array<{ text?: unknown }> }).content?.[0]?.text;
  const raw = typeof first === "string" ? rawResults[first] : undefined;
  return raw === undefined ? message : ({ ...message, result: raw } as JSONRPCMessage);
}
