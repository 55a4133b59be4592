import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../examples/quickstart.js";
import { createChatClient } from "./client.js";
import { startApi, type TestApi } from "./test-support/api.js";

const readmes = {
  "packages/client/README.md": readFileSync(new URL("../README.md", import.meta.url), "utf8"),
  "README.md": readFileSync(new URL("../../../README.md", import.meta.url), "utf8"),
};
const example = readFileSync(new URL("../examples/quickstart.ts", import.meta.url), "utf8");

describe("README quick start (examples/quickstart.ts)", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it.each(Object.entries(readmes))("is the example %s shows, verbatim", (_name, readme) => {
    const section = readme.slice(readme.indexOf("## Use it from TypeScript"));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBe(example);
  });

  it("runs against the real API", async () => {
    let output = "";
    const followUp = await main(api.url, { write: (text) => (output += text) });
    expect(output).toMatch(/^\[current_time \{"timeZone":"Asia\/Tokyo"\}\]\n/);
    expect(followUp.text).toContain("84");
    const conversation = await createChatClient({ url: api.url }).conversations.get(followUp.conversationId);
    expect(conversation.runs).toHaveLength(2);
    expect(output).toContain(conversation.messages.find((m) => m.role === "assistant" && m.content)?.content ?? "?");
  });
});
