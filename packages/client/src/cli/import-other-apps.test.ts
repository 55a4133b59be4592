// chat import of another app's export (ChatGPT's, Claude's conversations.json, Open WebUI's chat export), against the
// real API (core's readers turn each conversation into this app's export; the server imports it as any).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readForeignExport } from "@streamchat/core";
import { foreignExportSample } from "@streamchat/core/test-support";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient } from "../client.js";
import { startApi, type TestApi } from "../test-support/api.js";
import { runCliCaptured as run } from "../test-support/run-cli.js";
import { exitCodes } from "./main.js";

const lines = (text: string) => text.split("\n").slice(0, -1);

describe("chat import of another app's export", () => {
  let api: TestApi;
  let dir: string;
  const env = (user: string) => ({ CHAT_URL: api.url, CHAT_TOKEN: `${user}-secret-token` });
  const clientOf = (user: string) => createChatClient({ url: api.url, token: `${user}-secret-token` });

  beforeAll(async () => {
    const users = ["chatgpt", "claude", "webui", "small"];
    api = await startApi({ AUTH_TOKENS: users.map((user) => `${user}:${user}-secret-token`).join(",") });
    dir = mkdtempSync(join(tmpdir(), "streamchat-cli-import-other-"));
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a ChatGPT export: one new conversation per conversation, its shown version active, what was left out said once", async () => {
    const file = join(dir, "conversations.json");
    writeFileSync(file, foreignExportSample("chatgpt-export.json"));
    const read = readForeignExport(foreignExportSample("chatgpt-export.json"))!;
    const imported = await run(["import", file], env("chatgpt"));
    expect(imported.code).toBe(exitCodes.ok);
    expect(imported.stderr).toBe(
      `Imported 6 conversations from ChatGPT.\nNot imported: ${read.leftOut.join(", ")} (ChatGPT's export does not hold them, or this app does not keep them).\n`,
    );
    const ids = lines(imported.stdout);
    expect(ids).toHaveLength(6);
    const client = clientOf("chatgpt");
    for (const [i, id] of ids.entries()) {
      const document = read.conversations[i]!.document!;
      const conversation = await client.conversations.get(id);
      expect(conversation.title).toBe(document.conversation.title);
      // The path ChatGPT showed, message by message.
      const byId = new Map(document.messages.map((m) => [m.id, m]));
      const shown: string[] = [];
      for (let at = document.activeMessageId; at !== null; at = byId.get(at)!.parentId) shown.unshift(byId.get(at)!.message.content);
      expect(conversation.messages.map((m) => m.content)).toEqual(shown);
    }
    // An imported chat goes on like any other.
    const followUp = await client.complete("And one more thing?", { conversationId: ids[0]! });
    expect(followUp.text.length).toBeGreaterThan(0);

    // The same export again (or a newer one of the same account): what was imported before is skipped, not copied.
    const again = await run(["import", file], env("chatgpt"));
    expect({ code: again.code, stdout: again.stdout }).toEqual({ code: exitCodes.ok, stdout: "" });
    expect(again.stderr.split("\n")[0]).toBe("Imported 0 of 6 conversations from ChatGPT; 6 imported before, skipped");
    // One continued in ChatGPT since is imported again, as a new copy.
    const conversations = JSON.parse(foreignExportSample("chatgpt-export.json")) as Array<{ update_time: number }>;
    conversations[1]!.update_time += 3600;
    writeFileSync(file, JSON.stringify(conversations));
    const newer = await run(["import", file], env("chatgpt"));
    expect(newer.stderr.split("\n")[0]).toBe("Imported 1 of 6 conversations from ChatGPT; 5 imported before, skipped");
    expect(await client.conversations.list()).toHaveLength(7);
  });

  it("a conversation that cannot be read, or that the server refuses, is named; the others are imported (exit 1)", async () => {
    const conversations = JSON.parse(foreignExportSample("claude-conversations.json")) as Array<{ name: string }>;
    const file = join(dir, "claude.json");
    const tooLong = { ...conversations[0]!, uuid: "long", name: "Far too long", chat_messages: [{ uuid: "m", sender: "human", text: "x".repeat(200_000), created_at: "2024-06-01T12:00:00Z" }] };
    writeFileSync(file, JSON.stringify([conversations[0], { uuid: "broken", name: "Broken", chat_messages: "nope" }, tooLong, conversations[1]]));
    const imported = await run(["import", file], env("claude"));
    expect(imported.code).toBe(exitCodes.failed);
    const [summary] = imported.stderr.split("\n");
    expect(summary).toMatch(
      /^Imported 2 of 4 conversations from Claude; conversation 2 \("Broken"\): [A-Z][^;]*\.; conversation 3 \("Far too long"\): [^;]*200000 characters; this server takes messages of at most 32000\.$/,
    );
    expect(lines(imported.stdout)).toHaveLength(2);
    expect((await clientOf("claude").conversations.list()).map((c) => c.title).sort()).toEqual([conversations[0]!.name, conversations[1]!.name].sort());
  });

  it("an Open WebUI export from stdin", async () => {
    const imported = await run(["import", "-"], env("webui"), foreignExportSample("open-webui-export.json"));
    expect(imported.code).toBe(exitCodes.ok);
    expect(imported.stderr.split("\n")[0]).toBe("Imported 4 conversations from Open WebUI.");
    expect(await clientOf("webui").conversations.list()).toHaveLength(4);
  });

  it("a data export's ZIP archive as downloaded: its conversations.json is read from it, from a file or stdin", async () => {
    const archive = zipSync({
      "chat.html": strToU8("<html></html>"),
      "conversations.json": strToU8(foreignExportSample("claude-conversations.json")),
      "files/photo.png": new Uint8Array(4096),
    });
    const file = join(dir, "data-2026-12-06.zip");
    writeFileSync(file, archive);
    const imported = await run(["import", file], env("small"));
    expect(imported.code).toBe(exitCodes.failed); // the sample's empty conversation has no messages
    expect(imported.stderr.split("\n")[0]).toMatch(/^Imported 3 of 4 conversations from Claude; conversation 4: It has no messages\.$/);
    const piped = await run(["import", "-"], env("small"), archive);
    expect(piped.stderr).toContain("from Claude");

    const empty = join(dir, "other.zip");
    writeFileSync(empty, zipSync({ "notes.txt": strToU8("hi") }));
    expect(await run(["import", empty], env("small"))).toEqual({
      code: exitCodes.failed,
      stdout: "",
      stderr: `error: cannot read ${empty}: this ZIP file holds no conversations.json (ChatGPT's and Claude's data exports do)\n`,
    });
  });
});
