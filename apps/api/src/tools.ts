import { z } from "zod";
import { builtinTools, defineTool, type AnyTool } from "@streamchat/core";
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

/** Every tool a user's runs may call. */
export function toolsFor(store: ChatStore, userId: string): AnyTool[] {
  return [...builtinTools, searchConversationsTool(store, userId)];
}
