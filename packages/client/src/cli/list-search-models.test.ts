// chat list, chat search and chat models against the real API (the Ollama-protocol simulator as its model server).
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient, type ChatClient } from "../client.js";
import { startApi, type TestApi } from "../test-support/api.js";
import { drain } from "../test-support/events.js";
import { runCliCaptured } from "../test-support/run-cli.js";
import { exitCodes, runCli } from "./main.js";
import { closedPort } from "../test-support/closed-port.js";

const run = runCliCaptured;
const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** The last-activity column of conversations made during the test (however slow the machine), padded to 10. */
const recent = "(?:just now {2}|\\d+ min ago ?)";
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const lines = (stdout: string) => stdout.split("\n").slice(0, -1);

describe("chat list, chat search and chat models", () => {
  let api: TestApi;
  /** Each test's own user: its list holds only the conversations it made. */
  const users = ["lister", "pager", "searcher", "titler", "archivist", "nobody"] as const;
  const token = (user: (typeof users)[number]) => `${user}-secret-token`;
  const env = (user: (typeof users)[number]) => ({ CHAT_URL: api.url, CHAT_TOKEN: token(user) });
  const clientOf = (user: (typeof users)[number]): ChatClient => createChatClient({ url: api.url, token: token(user) });

  beforeAll(async () => {
    api = await startApi({ AUTH_TOKENS: users.map((user) => `${user}:${token(user)}`).join(",") });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("chat list: pinned first, then newest activity, titles on one line; --limit; the answering mark; --json lines", async () => {
    const client = clientOf("lister");
    const first = await client.complete("First question");
    const second = await client.complete("Second question");
    const third = await client.complete("Third question");
    // A title may hold line breaks, tabs and escapes: the line stays one line, and nothing reaches the terminal raw.
    await client.conversations.rename(second.conversationId, "Line one\nLine two\tand \x1b[31mred");
    await client.conversations.pin(first.conversationId, true);

    const listed = await run(["list"], env("lister"));
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: exitCodes.ok, stderr: "" });
    const shown = lines(listed.stdout);
    expect(shown).toHaveLength(3);
    expect(shown[0]).toMatch(new RegExp(`^${first.conversationId}  ${recent}  First question \\(pinned\\)$`));
    expect(shown[1]).toMatch(new RegExp(`^${third.conversationId}  ${recent}  Third question$`));
    expect(shown[2]).toMatch(new RegExp(`^${second.conversationId}  ${recent}  ${escape("Line one Line two and [31mred")}$`));
    expect(listed.stdout).not.toContain("\x1b");
    // The ids are the first field: what --conversation and export take.
    expect(shown.map((line) => line.split(" ")[0])).toEqual([first.conversationId, third.conversationId, second.conversationId]);

    const two = await run(["list", "--limit", "2"], env("lister"));
    expect(two.code).toBe(exitCodes.ok);
    expect(lines(two.stdout)).toEqual(shown.slice(0, 2));

    // An answer running in the third conversation: marked, and the conversation is the newest activity now.
    const control = api.sim.control({ lastUserIncludes: "hold-this-answer" });
    const started = await client.send("please hold-this-answer", { conversationId: third.conversationId });
    await control.connected;
    const answering = await run(["list", "-n", "2"], env("lister"));
    expect(lines(answering.stdout)).toEqual([shown[0], expect.stringMatching(new RegExp(`^${third.conversationId}  ${recent}  Third question \\(answering\\)$`))]);
    const json = await run(["list", "--json"], env("lister"));
    expect(json).toMatchObject({ code: exitCodes.ok, stderr: "" });
    const objects = lines(json.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(objects).toEqual([
      { id: first.conversationId, title: "First question", createdAt: expect.any(Number), updatedAt: expect.any(Number), pinnedAt: expect.any(Number), archivedAt: null, activeRunId: null },
      { id: third.conversationId, title: "Third question", createdAt: expect.any(Number), updatedAt: expect.any(Number), pinnedAt: null, archivedAt: null, activeRunId: started.runId },
      { id: second.conversationId, title: "Line one\nLine two\tand \x1b[31mred", createdAt: expect.any(Number), updatedAt: expect.any(Number), pinnedAt: null, archivedAt: null, activeRunId: null },
    ]);
    await client.cancel(started.runId);
    expect((await drain(client.events(started.runId))).at(-1)).toMatchObject({ type: "done", reason: "cancelled" });
    expect(lines((await run(["list", "-n", "2"], env("lister"))).stdout)[1]).toMatch(new RegExp(`^${third.conversationId}  ${recent}  Third question$`));
  });

  it("chat list shows 20 by default, and with --limit reads as many pages of the API's (500 at most) as it takes", async () => {
    const client = clientOf("pager");
    // Imports: 523 conversations without asking the model 523 times.
    const { conversationId } = await client.complete("Page me");
    const file = await client.conversations.export(conversationId);
    for (let i = 0; i < 522; i++) await client.conversations.import(file.content);

    const byDefault = await run(["list", "--json"], env("pager"));
    const all = await run(["list", "--json", "--limit", "100000"], env("pager"));
    expect(byDefault.code).toBe(exitCodes.ok);
    expect(all.code).toBe(exitCodes.ok);
    const ids = (stdout: string) => lines(stdout).map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids(all.stdout)).toHaveLength(523);
    expect(new Set(ids(all.stdout)).size).toBe(523);
    // In the list's order across the pages: the API's own first page of 500, then the rest.
    expect(ids(all.stdout).slice(0, 500)).toEqual((await client.conversations.list({ limit: 500 })).map((c) => c.id));
    expect(ids(byDefault.stdout)).toEqual(ids(all.stdout).slice(0, 20));
    expect(lines((await run(["list", "--limit", "501"], env("pager"))).stdout)).toHaveLength(501);
  });

  it("chat list --title: only the conversations whose title holds every word, any order, case and accents ignored", async () => {
    const client = clientOf("titler");
    const kyoto = await client.complete("Trip to Kyoto");
    await client.complete("Groceries");
    const cafe = await client.complete("Cafe list");
    await client.conversations.rename(cafe.conversationId, "Café plans in KYOTO");
    const found = await run(["list", "--title", "kyoto"], env("titler"));
    expect({ code: found.code, stderr: found.stderr }).toEqual({ code: exitCodes.ok, stderr: "" });
    expect(lines(found.stdout).map((line) => line.split(" ")[0])).toEqual([cafe.conversationId, kyoto.conversationId]);
    const json = await run(["list", "--title", "  plans CAFE ", "--json"], env("titler"));
    expect(lines(json.stdout).map((line) => (JSON.parse(line) as { id: string }).id)).toEqual([cafe.conversationId]);
    expect(lines((await run(["list", "--title", "kyoto", "-n", "1"], env("titler"))).stdout)).toHaveLength(1);
    expect(await run(["list", "--title", "lisbon"], env("titler"))).toEqual({ code: exitCodes.ok, stdout: "", stderr: 'No conversation\'s title has "lisbon".\n' });
  });

  it("chat list --archived: the archived conversations instead, with --title too", async () => {
    const client = clientOf("archivist");
    const kept = await client.complete("Kept in the list");
    const old = await client.complete("Old trip notes");
    expect(await run(["list", "--archived"], env("archivist"))).toEqual({ code: exitCodes.ok, stdout: "", stderr: "No archived conversations.\n" });
    await client.conversations.archive(old.conversationId, true);
    const listed = await run(["list"], env("archivist"));
    expect(lines(listed.stdout).map((line) => line.split(" ")[0])).toEqual([kept.conversationId]);
    const archived = await run(["list", "--archived", "--json"], env("archivist"));
    expect(lines(archived.stdout).map((line) => JSON.parse(line) as { id: string; archivedAt: number })).toEqual([
      expect.objectContaining({ id: old.conversationId, archivedAt: expect.any(Number) }),
    ]);
    expect(lines((await run(["list", "--archived", "--title", "trip"], env("archivist"))).stdout)).toHaveLength(1);
    expect(await run(["list", "--archived", "--title", "kept"], env("archivist"))).toEqual({
      code: exitCodes.ok,
      stdout: "",
      stderr: 'No archived conversation\'s title has "kept".\n',
    });
    expect(await run(["search", "x", "--archived"], env("archivist"))).toEqual({ code: exitCodes.usage, stdout: "", stderr: "chat: --archived is an option of chat list — see chat --help\n" });
  });

  it("chat list and chat search with nothing to show: a line on stderr, nothing on stdout, exit 0", async () => {
    expect(await run(["list"], env("nobody"))).toEqual({ code: exitCodes.ok, stdout: "", stderr: "No conversations yet.\n" });
    expect(await run(["list", "--json"], env("nobody"))).toEqual({ code: exitCodes.ok, stdout: "", stderr: "No conversations yet.\n" });
    expect(await run(["search", "anything"], env("nobody"))).toEqual({ code: exitCodes.ok, stdout: "", stderr: 'No message contains "anything".\n' });
  });

  it("chat search finds a word of an answer and prints the conversation id, title and passage; none found: stderr, exit 0", async () => {
    api.sim.addScenario({
      name: "quokka",
      match: { lastUserIncludes: "smiling marsupial" },
      chunks: [{ content: "That is the quokka.\n\nIt lives on Rottnest Island, off Perth." }, { done: true }],
    });
    const client = clientOf("searcher");
    const { conversationId } = await client.complete("Which is the smiling marsupial?");
    await client.complete("Something else entirely");

    const found = await run(["search", "rottnest"], env("searcher"));
    expect(found).toEqual({
      code: exitCodes.ok,
      stdout: `${conversationId}  Which is the smiling marsupial? — That is the quokka. It lives on Rottnest Island, off Perth.\n`,
      stderr: "",
    });
    // Several words are one phrase; --json carries the API's fields.
    const json = await run(["search", "smiling", "marsupial", "--json"], env("searcher"));
    expect(json.code).toBe(exitCodes.ok);
    const hits = lines(json.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(hits).toEqual([
      { conversationId, title: "Which is the smiling marsupial?", messageId: expect.any(Number), role: "user", snippet: "Which is the smiling marsupial?", createdAt: expect.any(Number), archivedAt: null },
    ]);

    expect(await run(["search", "wombat"], env("searcher"))).toEqual({ code: exitCodes.ok, stdout: "", stderr: 'No message contains "wombat".\n' });

    // Archived (out of chat list), its messages are still found, and the line says so.
    await client.conversations.archive(conversationId, true);
    expect((await run(["search", "rottnest"], env("searcher"))).stdout).toBe(
      `${conversationId}  Which is the smiling marsupial? (archived) — That is the quokka. It lives on Rottnest Island, off Perth.\n`,
    );
    // A user sees only their own messages.
    expect((await run(["search", "rottnest"], env("nobody"))).stdout).toBe("");
  });

  it("chat search on a terminal shortens each hit to its width", async () => {
    api.sim.addScenario({
      name: "long answer",
      match: { lastUserIncludes: "long-answer-please" },
      chunks: [{ content: `${"padding ".repeat(30)}needle ${"more words ".repeat(30)}` }, { done: true }],
    });
    await clientOf("searcher").complete("long-answer-please");
    let stdout = "";
    const code = await runCli(["search", "needle"], {
      stdin: new PassThrough(),
      stdout: { write: (text: string) => (stdout += text), isTTY: true, columns: 90 },
      stderr: { write: () => true },
      env: env("searcher"),
      onInterrupt: () => () => {},
      exit: () => {},
    });
    expect(code).toBe(exitCodes.ok);
    const [line] = lines(stdout);
    expect(line).toHaveLength(90);
    // The passage is cut before the word found rather than lose it at the end.
    expect(line).toMatch(new RegExp(`^${uuid}  long-answer-ple… — …(?:padding )+needle more words .*…$`));
  });

  it("chat models lists the simulator's models, the default marked, with the API's capability words", async () => {
    const { code, stdout, stderr } = await run(["models"], env("nobody"));
    expect({ code, stderr }).toEqual({ code: exitCodes.ok, stderr: "" });
    const listed = await clientOf("nobody").models();
    const shown = lines(stdout);
    expect(shown).toHaveLength(listed.models.length);
    const byName = new Map(shown.map((line) => [line.split(" ")[0]!, line]));
    expect(byName.get(listed.defaultModel)).toMatch(new RegExp(`^${escape(listed.defaultModel)} \\(default\\) `));
    expect(shown.filter((line) => line.includes("(default)"))).toHaveLength(1);
    // The simulator's models, as it describes them (packages/ollama-sim/src/models.ts), in the API's words.
    expect(byName.get("gpt-oss")).toMatch(/^gpt-oss +uses tools · thinks \(low, medium, high\) · 128K context$/);
    expect(byName.get("demo-vision")).toMatch(/^demo-vision +sees images · uses tools · 128K context$/);
    expect(byName.get("llava")).toMatch(/^llava +sees images · 4K context$/);
    expect(byName.get("qwen3")).toMatch(/^qwen3 +uses tools · thinks · 40K context$/);
    expect(byName.get("gemma3")).toMatch(/^gemma3 +128K context$/);
    // The capabilities start in one column.
    expect(new Set(shown.map((line) => line.search(/(sees images|uses tools|\d+K? context)/))).size).toBe(1);

    const json = await run(["models", "--json"], env("nobody"));
    expect(json.code).toBe(exitCodes.ok);
    const models = lines(json.stdout).map((line) => JSON.parse(line) as { name: string; default: boolean; capabilitiesInWords: string[] });
    expect(models.map((m) => m.name)).toEqual(listed.models.map((m) => m.name));
    expect(models.filter((m) => m.default).map((m) => m.name)).toEqual([listed.defaultModel]);
    expect(models.find((m) => m.name === "llava")).toMatchObject({ capabilities: ["completion", "vision"], contextLength: 4096, capabilitiesInWords: ["sees images", "4K context"] });
  });

  it("a token refused, or none given, or nothing answering: the other commands' lines and exit 1, nothing on stdout", async () => {
    for (const argv of [["list"], ["search", "x"], ["models"]]) {
      const refused = await run(argv, { CHAT_URL: api.url, CHAT_TOKEN: "not-the-token" });
      expect(refused).toMatchObject({ code: exitCodes.failed, stdout: "" });
      expect(refused.stderr).toMatch(/^error: unauthorized — .+ \(the token given was refused: check --token or CHAT_TOKEN\)\n$/);
      const missing = await run(["--url", api.url, ...argv]);
      expect(missing).toMatchObject({ code: exitCodes.failed, stdout: "" });
      expect(missing.stderr).toMatch(/^error: unauthorized — .+ \(pass --token or set CHAT_TOKEN\)\n$/);
    }
    const url = `http://127.0.0.1:${await closedPort()}`;
    for (const argv of [["list", "--json"], ["search", "x"], ["models"]]) {
      expect(await run(argv, { CHAT_URL: url })).toEqual({
        code: exitCodes.failed,
        stdout: "",
        stderr: `error: cannot reach the chat server at ${url} — is it running? Start it with "pnpm start", or pass --url / set CHAT_URL.\n`,
      });
    }
  });

  it("usage errors: one line naming the option, exit 2, nothing asked", async () => {
    for (const [argv, message] of [
      [["list", "--limit", "0"], '--limit must be a whole number from 1 to 100000 (got "0")'],
      [["list", "--limit", "100001"], '--limit must be a whole number from 1 to 100000 (got "100001")'],
      [["search", " "], "chat search needs the words to find"],
      [["search", "x", "-n", "101"], '--limit must be a whole number from 1 to 100 (got "101")'],
      [["models", "-n", "3"], "--limit is an option of chat list and chat search"],
      [["list", "--title", " "], "--title needs the words to find"],
      [["list", "--title", "x".repeat(201)], "the --title words are at most 200 characters (got 201)"],
      [["search", "x", "--title", "y"], "--title is an option of chat list"],
    ] as const) {
      expect(await run([...argv], env("nobody"))).toEqual({ code: exitCodes.usage, stdout: "", stderr: `chat: ${message} — see chat --help\n` });
    }
  });
});
