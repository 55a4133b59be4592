import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { buildConversationExport, isStoreError, type ChatStore } from "@streamchat/store";
import { unauthorizedMessage, type RequestUser } from "./auth.js";

/** Conversations listed per store call while the export collects their ids. */
const listPage = 500;

/** The file name of a whole export: the app, what it holds, and the day (UTC) it was made. */
export function exportAllFilename(now: number): string {
  return `streamchat-conversations-${new Date(now).toISOString().slice(0, 10)}.jsonl`;
}

/**
 * Every conversation of `userId` as the JSON export `conversations.export` makes, one a line (JSON Lines), in the list's
 * order, then the archived ones in theirs (each line says it is archived). The ids are read first, a page at a time,
 * and each conversation is read when its line is written: one in memory at a time, however many there are. One
 * deleted meanwhile is left out; one changed meanwhile is written as it is when its turn comes.
 */
export async function* exportAllLines(store: ChatStore, userId: string, now: () => number = Date.now): AsyncGenerator<string> {
  const ids: string[] = [];
  for (const archived of [false, true]) {
    const listed: string[] = [];
    for (;;) {
      const after = listed.at(-1);
      const page = await store.listConversations(userId, { limit: listPage, archived, ...(after === undefined ? {} : { after }) });
      listed.push(...page.map((conversation) => conversation.id));
      if (page.length < listPage) break;
    }
    ids.push(...listed);
  }
  for (const id of ids) {
    let doc;
    try {
      doc = await buildConversationExport(store, userId, id, { now });
    } catch (error) {
      if (isStoreError(error, "not_found")) continue;
      throw error;
    }
    yield `${JSON.stringify(doc)}\n`;
  }
}

/**
 * `GET /api/export`: the caller's conversations as one JSON Lines file to keep (a backup, a move to another server):
 * each line is what `conversations.export` gives as JSON, which `conversations.import` (and the web app's and the CLI's
 * import of such a file, line by line) reads back. Streamed with backpressure: a slow reader holds the next
 * conversation back, and one that leaves stops the export. A failure after the first byte can only cut the response
 * short (the client sees an incomplete transfer, never a file that looks whole).
 */
export function registerExportAllRoute(app: FastifyInstance, deps: { store: ChatStore; userOf: RequestUser; now?: () => number }): void {
  const now = deps.now ?? Date.now;
  app.get("/api/export", async (request, reply) => {
    const userId = deps.userOf(request, undefined);
    if (userId === null) return reply.code(401).send({ error: unauthorizedMessage, code: "unauthorized" });
    return reply
      .type("application/x-ndjson; charset=utf-8")
      .header("content-disposition", `attachment; filename="${exportAllFilename(now())}"`)
      .header("cache-control", "no-store")
      .send(Readable.from(exportAllLines(deps.store, userId, now), { objectMode: false }));
  });
}
