// Other apps' exports, read by core's readers (ChatGPT, Claude, Open WebUI), are imported by the same import as this
// app's own: every conversation of each sample goes in and reads back as the reader built it.
import { beforeEach, expect, it } from "vitest";
import { readForeignExport, type ForeignConversationDocument } from "@streamchat/core";
import { foreignExportSample, foreignExportSamples } from "@streamchat/core/test-support";
import { allBackends, type BackendContext, type TestStore } from "../test-support/backends.js";
import { describeEachBackend } from "../test-support/postgres.js";
import { exportConversation } from "./export.js";
import { importConversation } from "./import.js";
import type { ConversationExport } from "./schema.js";

/** The document's shown path, first message first: what the imported conversation must show. */
function shownPath(doc: ForeignConversationDocument) {
  const byId = new Map(doc.messages.map((m) => [m.id, m]));
  const path = [];
  for (let id = doc.activeMessageId; id !== null; id = byId.get(id)!.parentId) path.unshift(byId.get(id)!);
  return path.map((m) => {
    const siblings = doc.messages.filter((other) => other.parentId === m.parentId && other.message.role === m.message.role);
    return [m.message.role, m.message.content, siblings.length > 1 ? [siblings.indexOf(m) + 1, siblings.length] : null];
  });
}

describeEachBackend((backend) => `other apps' exports imported on the ${backend.name} store`, allBackends, (backend) => {
  const ctx: BackendContext = backend.context();
  let store: TestStore;

  beforeEach(async () => {
    store = await ctx.open({});
  });

  it.each(foreignExportSamples)("%s: every readable conversation imports with its tree, shown path, times and attachments", async (sample) => {
    const read = readForeignExport(foreignExportSample(sample))!;
    const documents = read.conversations.flatMap((c) => (c.document ? [c.document] : []));
    expect(documents.length).toBeGreaterThanOrEqual(3);
    for (const document of documents) {
      // The API's default limits: what a server out of the box takes.
      const { conversationId } = await importConversation(store, "alice", JSON.stringify(document), { maxMessageChars: 32_000 });
      const path = await store.activePath(conversationId);
      expect(path.map((m) => [m.message.role, m.message.content, m.versions ? [m.versions.index, m.versions.count] : null])).toEqual(shownPath(document));
      const conversation = (await store.getConversation("alice", conversationId))!;
      expect(conversation.title).toBe(document.conversation.title);
      if (document.conversation.createdAt !== undefined) expect(conversation.createdAt).toBe(document.conversation.createdAt);
      // Exported again: the same messages, reasoning, images and files, in the same tree.
      const again = JSON.parse((await exportConversation(store, "alice", conversationId, "json")).content) as ConversationExport;
      expect(again.messages.map((m) => [m.id - again.messages[0]!.id + 1, m.parentId === null ? null : m.parentId - again.messages[0]!.id + 1, m.message])).toEqual(
        document.messages.map((m) => [m.id, m.parentId, m.message]),
      );
    }
  });
});
