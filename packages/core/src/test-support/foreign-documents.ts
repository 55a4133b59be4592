import { expect } from "vitest";
import { checkImages } from "../attachments.js";
import { checkFiles } from "../files.js";
import type { ForeignConversationDocument } from "../foreign-export/document.js";

/**
 * What the store's import checks (schema.ts, import.ts) and what every reader of another app's export must hold to.
 * `everyMessageTimed`: the app writes a time on every message (then each must be read as milliseconds).
 */
export function expectWellFormed(document: ForeignConversationDocument, now: number, options: { everyMessageTimed?: boolean } = {}): void {
  expect(document.format).toBe("streamchat.conversation");
  expect(document.version).toBe(1);
  expect(document.exportedAt).toBe(now);
  expect(document.runs).toEqual([]);
  expect(document.conversation.title.trim()).not.toBe("");
  expect(document.conversation.title.length).toBeLessThanOrEqual(200);
  const ids = document.messages.map((m) => m.id);
  expect(ids).toEqual(ids.map((_, i) => i + 1));
  for (const m of document.messages) {
    if (m.parentId !== null) expect(m.parentId).toBeLessThan(m.id);
    expect(m.runId).toBeNull();
    if (options.everyMessageTimed || m.createdAt !== undefined) expect(m.createdAt).toBeGreaterThan(1e12);
    if (m.message.role === "user") {
      expect(m.message.content.length).toBeLessThanOrEqual(32_000);
      expect(checkImages(m.message.images ?? [])).toBeUndefined();
      expect(checkFiles(m.message.files ?? [])).toBeUndefined();
    }
  }
  expect(document.activeMessageId).not.toBeNull();
  expect(ids).toContain(document.activeMessageId);
  expect(document.conversation.createdAt).toBeGreaterThan(1e12);
}

/** [role, parentId, content] of each message: a whole tree at a glance. */
export function shape(document: ForeignConversationDocument): Array<[string, number | null, string]> {
  return document.messages.map((m) => [m.message.role, m.parentId, m.message.content]);
}

/** Each message's role and parent: the tree's links, without the text. */
export function links(document: ForeignConversationDocument): Array<[string, number | null]> {
  return document.messages.map((m) => [m.message.role, m.parentId]);
}

export function messageOf(document: ForeignConversationDocument, id: number) {
  const found = document.messages.find((m) => m.id === id);
  if (!found) throw new Error(`no message ${id}`);
  return found.message;
}
