import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../test-support/harness.js";

/**
 * conversations.list with a query: titles matched over all of a user's conversations (not only a first page), by the
 * rule the web app marks them with (every word, any order, case and accents ignored), in the list's order, paged with
 * `after`. On both store backends (the sqlite and postgres vitest projects).
 */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-123,bob:bob-token-456" } });
});
afterAll(() => api?.close());

describe("conversations.list with a query", () => {
  it("finds matching titles among more conversations than one read of the store holds, in the list's order", async () => {
    const alice = api.client("alice-token-123");
    const bob = api.client("bob-token-456");
    const store = api.server.store;
    // 1,200 conversations: the matching ones spread over the whole list, more than two of the search's 500-row reads.
    const titleOf = (i: number) => (i % 300 === 7 ? `Trip to KYOTO ${i}` : i === 600 ? "Café plans" : `Groceries ${i}`);
    for (let i = 0; i < 1200; i++) await store.createConversation({ id: `t-${i}`, userId: "alice", title: titleOf(i) });
    await store.createConversation({ id: "bob-kyoto", userId: "bob", title: "Kyoto trip" });

    const all: string[] = [];
    for (let page = await alice.conversations.list.query({ limit: 500 }); page.length > 0; ) {
      all.push(...page.map((c) => c.id));
      page = page.length < 500 ? [] : await alice.conversations.list.query({ limit: 500, after: page.at(-1)!.id });
    }
    const kyoto = all.filter((id) => /KYOTO/.test(titleOf(Number(id.slice(2)))));
    expect(kyoto).toHaveLength(4);

    const found = await alice.conversations.list.query({ query: "kyoto trip" });
    expect(found.map((c) => c.id)).toEqual(kyoto);
    expect(found[0]).toMatchObject({ title: expect.stringMatching(/^Trip to KYOTO/), pinnedAt: null, activeRunId: null });
    // Accents and case are ignored both ways; every word must be there.
    expect((await alice.conversations.list.query({ query: "CAFE" })).map((c) => c.title)).toEqual(["Café plans"]);
    expect((await alice.conversations.list.query({ query: "café PLANS" })).map((c) => c.title)).toEqual(["Café plans"]);
    expect(await alice.conversations.list.query({ query: "kyoto plans" })).toEqual([]);

    // A page at a time, each after the last one found: the same matches.
    const paged: string[] = [];
    for (let page = await alice.conversations.list.query({ query: "kyoto", limit: 1 }); page.length > 0; ) {
      paged.push(...page.map((c) => c.id));
      page = await alice.conversations.list.query({ query: "kyoto", limit: 1, after: page.at(-1)!.id });
    }
    expect(paged).toEqual(kyoto);

    // Pinned first, as in the list.
    await alice.conversations.pin.mutate({ conversationId: kyoto[3]!, pinned: true });
    expect((await alice.conversations.list.query({ query: "kyoto" })).map((c) => c.id)).toEqual([kyoto[3], ...kyoto.slice(0, 3)]);

    // Only the caller's own.
    expect((await bob.conversations.list.query({ query: "kyoto" })).map((c) => c.id)).toEqual(["bob-kyoto"]);
  });

  it("refuses a blank or overlong query and an unknown `after`", async () => {
    const alice = api.client("alice-token-123");
    const refused = (code: string) => ({ data: { code } });
    await expect(alice.conversations.list.query({ query: "   " })).rejects.toMatchObject(refused("BAD_REQUEST"));
    await expect(alice.conversations.list.query({ query: "x".repeat(201) })).rejects.toMatchObject(refused("BAD_REQUEST"));
    await expect(alice.conversations.list.query({ query: "kyoto", after: "no-such-conversation" })).rejects.toMatchObject(refused("NOT_FOUND"));
  });
});
