import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { builtinTools, defineTool, prepareTools, type AnyTool } from "@streamchat/core";
import type { McpHub, McpServerState } from "@streamchat/mcp";
import type { ChatStore } from "@streamchat/store";

const maxHits = 10;
// Built once: a new schema per run would also defeat toolSpec's JSON Schema cache.
const searchInput = z.object({ query: z.string().min(1).max(200).describe("Text to look for (case-insensitive)") });

/** search_conversations over one user's own past conversations. */
export function searchConversationsTool(store: ChatStore, userId: string) {
  return defineTool({
    name: "search_conversations",
    description:
      "Search the user's past conversations for a word or phrase. Returns matching messages with their conversation title.",
    input: searchInput,
    execute: async ({ query }) => {
      const hits = await store.searchMessages(userId, query, { limit: maxHits });
      return {
        query,
        hits: hits.map((hit) => ({
          conversationId: hit.conversationId,
          title: hit.title,
          role: hit.role,
          snippet: hit.snippet,
          at: new Date(hit.createdAt).toISOString(),
        })),
      };
    },
  });
}

/** The built-in tools of a user's runs. */
export function toolsFor(store: ChatStore, userId: string): AnyTool[] {
  // concat, not a spread: a spread grows the array to 17 slots, and a run keeps its tools for as long as it streams.
  return builtinTools.concat(searchConversationsTool(store, userId));
}

/**
 * The tools of a run with each name once, the first kept: built-ins, then the embedder's tools, then the MCP servers'
 * in config order. MCP tools are `<server>__<tool>` and never take a built-in's name, but an embedder's tool can take
 * either's; two tools of one name make model APIs refuse the request, or the model calls one and the run the other.
 */
function firstOfEachName(tools: AnyTool[]): AnyTool[] {
  const seen = new Set<string>();
  for (const tool of tools) seen.add(tool.name);
  // The usual case, every name once: the list as it is (a run keeps it for as long as it streams).
  if (seen.size === tools.length) return tools;
  seen.clear();
  return tools.filter((tool) => {
    if (seen.has(tool.name)) return false;
    seen.add(tool.name);
    return true;
  });
}

/** One tool as `tools.list` shows it. */
export interface ToolView {
  /** Exactly as offered to the model. */
  name: string;
  /** "builtin" or the MCP server's name. */
  source: string;
  description: string;
  requiresApproval: boolean;
  /** Offered to this user's runs now. */
  offered: boolean;
  /** Why it is not offered: the user turned its server off, the server is not connected, its schema is broken, another tool has its name. */
  unavailable?: string;
}

/** One MCP server as `tools.list` shows it. */
export interface ServerView {
  name: string;
  transport: "stdio" | "http";
  /** `disabled`: `"enabled": false` in MCP_CONFIG (no user can turn it on). */
  state: McpServerState;
  /** Why it failed (state `failed`). */
  error?: string;
  /** When a failed server is tried again (ms since the epoch). */
  nextRetryAt?: number;
  /** The user's switch: its tools are offered to the user's runs (when connected). */
  enabled: boolean;
}

export interface ToolsList {
  tools: ToolView[];
  servers: ServerView[];
}

/**
 * Every tool a user's runs may call: the built-ins, tools the embedder adds, and the tools of the MCP servers
 * the user has not turned off (tools of servers that are not connected are not offered). Backs the runs and
 * `tools.list` / `tools.setServerEnabled`.
 */
export class ToolCatalog {
  constructor(
    private readonly opts: {
      store: ChatStore;
      hub?: McpHub | undefined;
      extraTools?: readonly AnyTool[] | undefined;
    },
  ) {
    // Registered now: tools that start something on first use (the calculator's worker) start it now instead,
    // so the first call of a run does not wait for it.
    void prepareTools([...builtinTools, ...(opts.extraTools ?? [])]);
  }

  /** A resumed run waits for the MCP servers' first connection: the call it continues may be one of theirs. */
  async toolsFor(userId: string, opts: { resumed?: boolean } = {}): Promise<AnyTool[]> {
    const { store, hub } = this.opts;
    const { extraTools } = this.opts;
    const local = extraTools ? toolsFor(store, userId).concat(extraTools) : toolsFor(store, userId);
    if (!hub) return firstOfEachName(local);
    if (opts.resumed) await hub.ready();
    const off = await this.serversOff(userId);
    const servers = hub.status().map((server) => server.name).filter((name) => !off.has(name));
    return firstOfEachName(local.concat(hub.tools({ servers })));
  }

  async list(userId: string): Promise<ToolsList> {
    const { store, hub } = this.opts;
    // Which tool holds each name (see firstOfEachName): a later one of the same name is not offered.
    const holders = new Map<string, string>();
    const holder = (name: string, source: string): string | undefined => {
      const first = holders.get(name);
      if (first !== undefined) return `its name is taken by the ${first === "builtin" ? "built-in" : `"${first}"`} tool ${name}`;
      holders.set(name, source);
      return undefined;
    };
    const local: ToolView[] = [...toolsFor(store, userId), ...(this.opts.extraTools ?? [])].map((tool) => {
      const source = tool.source ?? "builtin";
      const taken = holder(tool.name, source);
      return {
        name: tool.name,
        source,
        description: tool.description,
        requiresApproval: tool.requiresApproval === true,
        offered: taken === undefined,
        ...(taken === undefined ? {} : { unavailable: taken }),
      };
    });
    if (!hub) return { tools: local, servers: [] };
    const off = await this.serversOff(userId);
    const servers: ServerView[] = [];
    const tools: ToolView[] = [...local];
    for (const server of hub.status()) {
      const enabled = !off.has(server.name);
      servers.push({
        name: server.name,
        transport: server.transport,
        state: server.state,
        ...(server.error === undefined ? {} : { error: server.error }),
        ...(server.nextRetryAt === undefined ? {} : { nextRetryAt: server.nextRetryAt }),
        enabled,
      });
      for (const tool of server.tools) {
        const unavailable =
          tool.error ??
          (!enabled ? "turned off" : server.state === "connected" ? undefined : `server ${server.state}`) ??
          holder(tool.name, server.name);
        tools.push({
          name: tool.name,
          source: server.name,
          description: tool.description,
          requiresApproval: tool.requiresApproval,
          offered: unavailable === undefined,
          ...(unavailable === undefined ? {} : { unavailable }),
        });
      }
    }
    return { tools, servers };
  }

  /** Turns an MCP server on or off for the user's runs (stored). */
  async setServerEnabled(userId: string, server: string, enabled: boolean): Promise<ServerView> {
    const status = this.opts.hub?.status().find((s) => s.name === server);
    if (!status) throw new TRPCError({ code: "NOT_FOUND", message: `No MCP server is named ${JSON.stringify(server)}.` });
    await this.opts.store.setToolServerEnabled(userId, server, enabled);
    const view = (await this.list(userId)).servers.find((s) => s.name === server);
    if (!view) throw new TRPCError({ code: "NOT_FOUND", message: `No MCP server is named ${JSON.stringify(server)}.` });
    return view;
  }

  private async serversOff(userId: string): Promise<Set<string>> {
    const settings = await this.opts.store.listToolServerSettings(userId);
    return new Set(settings.filter((s) => !s.enabled).map((s) => s.server));
  }
}
