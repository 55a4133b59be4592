// chat import of another app's export (ChatGPT's, Claude's conversations.json, Open WebUI's chat export), against the
// real API (core's readers turn each conversation into this app's export; the server imports it as any).
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readForeignExport } from "@streamchat/core";
import { foreignExportSample } from "@streamchat/core/test-support";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient } from "../client.js";
import { startApi, type TestApi } from "../test-support/api.js";
import { runCliCaptured as run, runWithInterrupt } from "../test-support/run-cli.js";
import { exitCodes } from "./main.js";

const lines = (text: string) => text.split("\n").slice(0, -1);


/** `count` Open WebUI conversations, each its own (another id), made from the sample's first. */
function manyOpenWebUiConversations(count: number): string {
  const [first] = JSON.parse(foreignExportSample("open-webui-export.json")) as Array<Record<string, unknown>>;
  const conversations = Array.from({ length: count }, (_, i) => ({ ...first, id: `owui-${i + 1}`, title: `Chat ${i + 1}` }));
  return `[\n${conversations.map((c) => JSON.stringify(c, null, 1)).join(",\n")}\n]\n`;
}

describe("chat import of another app's export", () => {
  let api: TestApi;
  let dir: string;
  const env = (user: string) => ({ CHAT_URL: api.url, CHAT_TOKEN: `${user}-secret-token` });
  const clientOf = (user: string) => createChatClient({ url: api.url, token: `${user}-secret-token` });

  beforeAll(async () => {
    const users = ["chatgpt", "claude", "webui", "small", "many", "zipped", "cut", "stopped", "pictures", "piped", "fifo", "heavy"];
    // A low import limit (still above the 200,000-character question below): a file of many conversations is over it,
    // and is imported one conversation at a time all the same.
    api = await startApi({ AUTH_TOKENS: users.map((user) => `${user}:${user}-secret-token`).join(","), MAX_IMPORT_BYTES: String(256 * 1024) });
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
    // Archived in ChatGPT: imported archived, out of the list.
    expect((await client.conversations.list({ archived: true })).map((c) => c.id)).toEqual([ids[2]]);
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
    // Two continued in ChatGPT since: the one not gone on with here replaces its earlier copy (its id goes); the one
    // asked in here (the first) comes beside its copy, which stays.
    const conversations = JSON.parse(foreignExportSample("chatgpt-export.json")) as Array<{ update_time: number }>;
    conversations[0]!.update_time += 3600;
    conversations[1]!.update_time += 3600;
    writeFileSync(file, JSON.stringify(conversations));
    const newer = await run(["import", file], env("chatgpt"));
    expect(newer.stderr.split("\n")[0]).toBe(
      "Imported 2 of 6 conversations from ChatGPT; 1 of them replaced the copy imported before (continued in ChatGPT since); 4 imported before, skipped",
    );
    const listed = [...(await client.conversations.list()), ...(await client.conversations.list({ archived: true }))].map((c) => c.id);
    expect(listed).toHaveLength(7);
    expect(listed).toContain(ids[0]);
    expect(listed).not.toContain(ids[1]);
    expect(listed).toEqual(expect.arrayContaining(lines(newer.stdout)));
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
    // As they were there: the sample's first chat pinned (first in the list), its third archived (out of it), with its
    // own system prompt as its instructions here.
    const client = clientOf("webui");
    const listed = await client.conversations.list();
    expect(listed.map((c) => c.title)).toEqual(["Borrow checker rejects Vec push", "Weekend in Lisbon", "Tell me a joke about compilers."]);
    expect(listed[0]?.pinnedAt).toEqual(expect.any(Number));
    const [archived] = await client.conversations.list({ archived: true });
    expect(archived).toMatchObject({ title: "Picture and meeting notes", archivedAt: expect.any(Number) });
    expect((await client.conversations.instructions(archived!.id)).instructions).toBe("You are a concise assistant.");
    expect((await client.conversations.instructions(listed[0]!.id)).instructions).toBe("");
    // Its first chat's own temperature (Chat Controls) as its sampling here; num_ctx is the server's business.
    expect((await client.conversations.settings(listed[0]!.id)).sampling).toEqual({ temperature: 0.6, topP: null, seed: null });
    expect((await client.conversations.settings(archived!.id)).sampling).toEqual({ temperature: null, topP: null, seed: null });
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

  it("a ChatGPT archive in a file: the pictures and text files its questions were asked with go on them; from stdin they are counted", async () => {
    const pixel = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "base64");
    // The sample's conversations, and one asked with an uploaded script.
    const withUpload = {
      title: "Fix my script",
      conversation_id: "c-upload",
      create_time: 1_700_000_000,
      update_time: 1_700_000_100,
      current_node: "q",
      mapping: {
        q: {
          id: "q",
          parent: null,
          children: [],
          message: {
            id: "q",
            author: { role: "user" },
            create_time: 1_700_000_000,
            content: { content_type: "text", parts: ["Why does this fail?"] },
            metadata: { attachments: [{ id: "file-Sc1", name: "build.sh", mimeType: "text/x-sh", size: 24 }] },
          },
        },
      },
    };
    const conversations = [...(JSON.parse(foreignExportSample("chatgpt-export.json")) as unknown[]), withUpload];
    const archive = zipSync({
      "file-Kx2bT9aQpL3mN8vR4sW1yZ-stork.png": pixel,
      "conversations.json": strToU8(JSON.stringify(conversations)),
      "user-u1/file_00000000a1b2c3d4e5f6a7b8c9d0e1f2-4d2c.png": pixel,
      "file-Sc1-build.sh": strToU8("#!/bin/sh\nset -e\nmake all\n"),
    });
    const file = join(dir, "chatgpt-pictures.zip");
    writeFileSync(file, archive);
    const imported = await run(["import", file], env("pictures"));
    expect(imported.code).toBe(exitCodes.ok);
    // Only DALL·E's picture (a tool's, on no question) is left.
    expect(imported.stderr).toMatch(/^Imported 7 conversations from ChatGPT\.\nNot imported: (?:[^\n]*, )?1 image[,\s(]/);
    expect(imported.stderr).not.toMatch(/\bfile/);
    const client = clientOf("pictures");
    const script = (await client.conversations.list()).find((c) => c.title === "Fix my script")!;
    expect((await client.conversations.get(script.id)).messages.map((m) => [m.content, m.attachments])).toEqual([
      ["Why does this fail?", [{ type: "file", name: "build.sh", chars: 26, text: "#!/bin/sh\nset -e\nmake all\n" }]],
    ]);
    const bird = (await client.conversations.list()).find((c) => c.title === "Which bird is this?")!;
    const questions = (await client.conversations.get(bird.id)).messages.filter((m) => m.role === "user");
    expect(questions.map((m) => m.attachments)).toEqual([
      [{ type: "image", mimeType: "image/png", data: pixel.toString("base64") }],
      [{ type: "image", mimeType: "image/png", data: pixel.toString("base64") }],
    ]);
    // A picture goes to the model like any question's: the chat goes on with it.
    expect((await client.complete("What else?", { conversationId: bird.id })).text.length).toBeGreaterThan(0);

    const piped = await run(["import", "-"], env("piped"), archive);
    // Counted in the order they were met: the pictures and the upload, wherever the tool calls fall.
    const countedFromStream = /^Imported 7 conversations from ChatGPT\.\nNot imported: (?=(?:[^\n]*, )?3 images[,\s(])(?=[^\n]*, 1 file[,\s(])/;
    expect(piped.stderr).toMatch(countedFromStream);
    // A named pipe (chat import <(curl …)) streams as stdin does: it cannot be read out of order.
    const fifo = join(dir, "export.fifo");
    execFileSync("mkfifo", [fifo]);
    const writing = new Promise<void>((resolve, reject) => createWriteStream(fifo).on("error", reject).end(archive, resolve));
    const fromPipe = await run(["import", fifo], env("fifo"));
    await writing;
    expect(fromPipe.stderr).toMatch(countedFromStream);
  });

  it("a picture that would make its conversation larger than the server imports is left out of it, and counted", async () => {
    // A PNG of 200 KB: 267 KB as base64, over this server's 256 KB import.
    const large = new Uint8Array(200 * 1024);
    large.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const [bird] = (JSON.parse(foreignExportSample("chatgpt-export.json")) as Array<{ title: string }>).filter((c) => c.title === "Which bird is this?");
    const file = join(dir, "heavy.zip");
    writeFileSync(file, zipSync({ "conversations.json": strToU8(JSON.stringify([bird])), "file-Kx2bT9aQpL3mN8vR4sW1yZ-stork.png": large }));
    const imported = await run(["import", file], env("heavy"));
    expect({ code: imported.code, summary: imported.stderr.split("\n").slice(0, 2) }).toEqual({
      code: exitCodes.ok,
      summary: ["Imported 1 conversation from ChatGPT.", expect.stringMatching(/^Not imported: 2 images /)],
    });
    const [conversation] = await clientOf("heavy").conversations.list();
    expect((await clientOf("heavy").conversations.get(conversation!.id)).messages.filter((m) => m.attachments)).toEqual([]);
  });

  it("a large export is read and imported one conversation at a time, from a file, stdin or a ZIP archive", async () => {
    const count = 300;
    const content = manyOpenWebUiConversations(count);
    const file = join(dir, "many.json");
    writeFileSync(file, content);
    // Far over the server's limit for one import, and over several of a file stream's chunks.
    expect(statSync(file).size).toBeGreaterThan(4 * 256 * 1024);
    const imported = await run(["import", file], env("many"));
    expect(imported.stderr.split("\n")[0]).toBe(`Imported ${count} conversations from Open WebUI.`);
    expect(imported.code).toBe(exitCodes.ok);
    expect(lines(imported.stdout)).toHaveLength(count);
    const titles = (await clientOf("many").conversations.list({ limit: count })).map((c) => c.title);
    expect(new Set(titles)).toEqual(new Set(Array.from({ length: count }, (_, i) => `Chat ${i + 1}`)));

    // The same in a data export's archive, deflated, pictures after it; and piped.
    const archive = zipSync({ "export/conversations.json": [strToU8(content), { level: 6 }], "files/photo.png": new Uint8Array(256 * 1024) });
    const zipFile = join(dir, "many.zip");
    writeFileSync(zipFile, archive);
    const zipped = await run(["import", zipFile], env("zipped"));
    expect({ code: zipped.code, summary: zipped.stderr.split("\n")[0], ids: lines(zipped.stdout).length }).toEqual({
      code: exitCodes.ok,
      summary: `Imported ${count} conversations from Open WebUI.`,
      ids: count,
    });
    const piped = await run(["import", "-"], env("zipped"), archive);
    expect(piped.stderr.split("\n")[0]).toBe(`Imported 0 of ${count} conversations from Open WebUI; ${count} imported before, skipped`);
  });

  it("a file cut short mid-conversation: the ones before are imported, then where and why it stopped (exit 1)", async () => {
    const conversations = JSON.parse(foreignExportSample("claude-conversations.json")) as unknown[];
    const firstTwo = readForeignExport(JSON.stringify(conversations.slice(0, 2)))!;
    const cut = `[${JSON.stringify(conversations[0])},\n${JSON.stringify(conversations[1])},\n${JSON.stringify(conversations[2]).slice(0, 60)}`;
    const file = join(dir, "cut.json");
    writeFileSync(file, cut);
    const imported = await run(["import", file], env("cut"));
    expect(imported.code).toBe(exitCodes.failed);
    expect(lines(imported.stdout)).toHaveLength(2);
    expect(imported.stderr).toBe(
      'Imported 2 conversations from Claude; stopped after conversation 2 ("Landing page for the bakery"): The JSON text is cut short in the middle of conversation 3.\n' +
        `Not imported: ${firstTwo.leftOut.join(", ")} (Claude's export does not hold them, or this app does not keep them).\n`,
    );
    // Cut inside a ZIP archive: the same, in the archive's words.
    const archive = zipSync({ "conversations.json": [strToU8(manyOpenWebUiConversations(100)), { level: 0 }] });
    const zipped = await run(["import", "-"], env("cut"), archive.subarray(0, Math.floor(archive.length / 2)));
    expect(zipped.code).toBe(exitCodes.failed);
    const [, before] = /^Imported (\d+) conversations from Open WebUI; stopped after conversation \1 \("Chat \1"\): This ZIP file [^\n]*cut short[^\n]*\.\n/.exec(zipped.stderr) ?? [];
    expect(Number(before)).toBeGreaterThan(10);
    expect(lines(zipped.stdout)).toHaveLength(Number(before));
    // Broken before any conversation: nothing to import, said as a file that cannot be read.
    writeFileSync(file, '[{"uuid": "u", "chat_messages": [}]');
    expect(await run(["import", file], env("cut"))).toEqual({ code: exitCodes.failed, stdout: "", stderr: `error: cannot read ${file}: Conversation 1 is not valid JSON.\n` });
    // An array of something else: refused here, as the server would refuse it.
    writeFileSync(file, '[{"a": 1}]');
    expect(await run(["import", file], env("cut"))).toEqual({
      code: exitCodes.failed,
      stdout: "",
      stderr: "error: This file is not a conversation exported from this app (it is a JSON array, but not of ChatGPT's, Claude's or Open WebUI's conversations).\n",
    });
  });

  it("stopped early (Ctrl-C): what was imported, without a total, and what those conversations held that was left out", async () => {
    const file = join(dir, "chatgpt-stop.json");
    writeFileSync(file, foreignExportSample("chatgpt-export.json"));
    const conversations = JSON.parse(foreignExportSample("chatgpt-export.json")) as unknown[];
    const firstFour = readForeignExport(JSON.stringify(conversations.slice(0, 4)))!;
    expect(firstFour.leftOut).not.toEqual(readForeignExport(foreignExportSample("chatgpt-export.json"))!.leftOut);
    let printed = 0;
    const stopped = await runWithInterrupt(["import", file], env("stopped"), (_text, interrupt) => {
      if (++printed === 4) interrupt();
    });
    expect(stopped.code).toBe(exitCodes.interrupted);
    expect(lines(stopped.stdout)).toHaveLength(4);
    expect(stopped.stderr).toBe(
      "stopping: after the conversation being imported (Ctrl-C again quits)\n" +
        'Imported 4 conversations from ChatGPT; stopped before conversation 5 ("Rust 1.85 release") (interrupted)\n' +
        `Not imported: ${firstFour.leftOut.join(", ")} (ChatGPT's export does not hold them, or this app does not keep them).\n`,
    );
    // One of the four was archived in ChatGPT: it is imported archived, out of the list.
    expect(await clientOf("stopped").conversations.list()).toHaveLength(3);
    expect((await clientOf("stopped").conversations.list({ archived: true })).map((c) => c.title)).toEqual(["2^100 mod 97"]);
  });
});
