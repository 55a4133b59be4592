import { expect } from "vitest";
import type { ChatStore } from "../types.js";

/**
 * The plan tests' check of both lists (SQLite's and PostgreSQL's, 10,000 conversations of alice): `ordered`, every one of
 * alice's conversations in the list's order with whether it is archived, is what each list's first two pages must give,
 * each list holding its own kind only, its 100 pinned ones first.
 */
export async function expectListPagesInOrder(store: ChatStore, ordered: ReadonlyArray<{ id: string; archived: boolean }>): Promise<void> {
  for (const archived of [false, true]) {
    const expected = ordered.filter((row) => row.archived === archived).map((row) => row.id);
    expect(expected).toHaveLength(archived ? 1_000 : 9_000);
    const first = await store.listConversations("alice", { limit: 100, archived });
    expect(first.map((c) => c.id)).toEqual(expected.slice(0, 100));
    expect(first.every((c) => (c.archivedAt !== null) === archived)).toBe(true);
    // Each list's 100 pinned ones fill its first page.
    expect(first.filter((c) => c.pinnedAt !== null)).toHaveLength(100);
    const next = await store.listConversations("alice", { limit: 100, archived, after: first.at(-1)!.id });
    expect(next.map((c) => c.id)).toEqual(expected.slice(100, 200));
  }
}
