import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
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

  it("pnpm quickstart with no server there says so in one line, exit 1, no stack trace", async () => {
    const closed = await startApi();
    await closed.close();
    // What `pnpm quickstart` runs: the package's script, with the workspace's bin directories on PATH as pnpm puts them.
    const packageDir = fileURLToPath(new URL("..", import.meta.url));
    const script = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { scripts: { quickstart: string } }).scripts.quickstart;
    const bins = [`${packageDir}node_modules/.bin`, fileURLToPath(new URL("../../../node_modules/.bin", import.meta.url))];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile("sh", ["-c", script], { cwd: packageDir, env: { ...process.env, CHAT_URL: closed.url, PATH: [...bins, process.env.PATH].join(":") } }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr).toMatch(/^quickstart: unreachable — Cannot reach the chat server \(ECONNREFUSED\)\. Is the server running \(pnpm start\)\? CHAT_URL picks another\.\n$/);
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
