import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createChatClient } from "../client.js";
import { startApi, type TestApi } from "../test-support/api.js";
import { runCliCaptured } from "../test-support/run-cli.js";
import { exitCodes, runCli } from "./main.js";
import { startCuttingProxy } from "../test-support/proxy.js";
import { solidPng } from "@streamchat/ollama-sim";
import { defaultSampling } from "@streamchat/core";
import { closedPort } from "../test-support/closed-port.js";

const run = runCliCaptured;

describe("runCli", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi({ AUTH_TOKENS: "alice:alice-secret-token" });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("streams the answer to stdout and one line per tool call to stderr, in the given conversation", async () => {
    const client = createChatClient({ url: api.url, token: "alice-secret-token" });
    const { conversationId } = await client.complete("Hello");
    const { code, stdout, stderr } = await run(
      ["--conversation", conversationId, "What time is it in Tokyo?"],
      { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" },
    );
    expect(stderr).toMatch(/^→ current_time \{"timeZone":"Asia\/Tokyo"\} ✓ \d+ ms\n$/);
    expect(code).toBe(exitCodes.ok);
    const stored = await client.conversations.get(conversationId);
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([
      "Hello",
      "What time is it in Tokyo?",
    ]);
    // stdout is exactly the stored answer plus a final newline.
    expect(stdout).toBe(`${stored.messages.at(-1)?.content}\n`);
  });

  it("prints the error code of a failed run and returns 1", async () => {
    const { code, stdout, stderr } = await run(["--url", api.url, "--token", "alice-secret-token", "-m", "sim-not-found", "Hi"]);
    expect(code).toBe(exitCodes.failed);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^error: model_not_found — .+\n$/);
  });

  it("says how to pass a token when the server wants one", async () => {
    const { code, stderr } = await run(["--url", api.url, "Hi"]);
    expect(code).toBe(exitCodes.failed);
    expect(stderr).toMatch(/^error: unauthorized — .+ \(pass --token or set CHAT_TOKEN\)\n$/);
    // A token given but refused: the hint says so, rather than asking for a token.
    for (const [argv, env] of [[["--token", "not-the-token"], {}], [[], { CHAT_TOKEN: "not-the-token" }]] as const) {
      const wrong = await run(["--url", api.url, ...argv, "Hi"], env);
      expect(wrong.code).toBe(exitCodes.failed);
      expect(wrong.stderr).toMatch(/^error: unauthorized — .+ \(the token given was refused: check --token or CHAT_TOKEN\)\n$/);
    }
  });

  it("says clearly when the server is unreachable", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, stderr } = await run(["Hello"], { CHAT_URL: url });
    expect(code).toBe(exitCodes.failed);
    expect(stderr).toBe(
      `error: cannot reach the chat server at ${url} — is it running? Start it with "pnpm start", or pass --url / set CHAT_URL.\n`,
    );
  });

  it("with questions piped in, exits 1 when one of them failed (a script must see it), 0 when all were answered", async () => {
    const env = { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" };
    const failed = await run(["-m", "sim-not-found"], env, "Hello\nHello again\n");
    expect(failed.stderr).toMatch(/^error: model_not_found — .+\n/);
    expect(failed.code).toBe(exitCodes.failed);
    const answered = await run([], env, "Hello\n");
    expect(answered).toMatchObject({ code: exitCodes.ok, stderr: "" });
  });

  it("Ctrl-C cancels the run; a second Ctrl-C while the server has not confirmed the cancel exits 130 at once", async () => {
    const proxy = await startCuttingProxy(api.url);
    try {
      const control = api.sim.control({ lastUserIncludes: "second-ctrl-c" });
      let interrupt: (() => void) | undefined;
      let stdout = "";
      const exits: number[] = [];
      const finished = runCli(["--json", "please second-ctrl-c"], {
        stdin: new PassThrough(),
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: () => true },
        env: { CHAT_URL: proxy.url, CHAT_TOKEN: "alice-secret-token" },
        onInterrupt: (handler) => {
          interrupt = handler;
          return () => (interrupt = undefined);
        },
        exit: (code) => exits.push(code),
      });
      let returned = false;
      void finished.then(() => (returned = true));
      await control.connected;
      await control.push({ content: "first-token" });
      await vi.waitUntil(() => stdout.includes("first-token"));
      // A server that hangs on the cancel: the first Ctrl-C waits for it, the second does not.
      proxy.holdRequests("POST /trpc/chat.cancel");
      interrupt!();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect({ exits, returned }).toEqual({ exits: [], returned: false });
      interrupt!();
      expect(exits).toEqual([exitCodes.interrupted]);
      await proxy.close();
      expect(await finished).toBe(exitCodes.interrupted);
    } finally {
      await proxy.close();
    }
  });

  it("interactive at a terminal with stdout redirected: the prompt goes to stderr, stdout gets only the answers", async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let prompted = "";
    stderr.setEncoding("utf8").on("data", (chunk: string) => (prompted += chunk));
    let stdout = "";
    const finished = runCli([], {
      stdin,
      stdout: { write: (text: string) => (stdout += text) },
      stderr,
      env: { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token", NO_COLOR: "1" },
      onInterrupt: () => () => {},
      exit: (code) => {
        throw new Error(`unexpected exit ${code}`);
      },
    });
    await vi.waitUntil(() => prompted.includes("› "), { timeout: 10_000 });
    stdin.write("What is 2+3?\r");
    await vi.waitUntil(() => stdout.includes("5"), { timeout: 10_000 });
    stdin.write("/exit\r");
    expect(await finished).toBe(exitCodes.ok);
    expect(stdout).not.toContain("›");
    expect(stdout).toMatch(/^2\+3 = \*\*5\*\*\n$/);
    expect(prompted).toContain("Commands: /new");
  });

  it("prints help on stdout and usage errors on stderr", async () => {
    const help = await run(["--help"]);
    expect(help).toMatchObject({ code: exitCodes.ok, stderr: "" });
    expect(help.stdout).toContain("Usage: chat");
    const bad = await run(["--url", "not a url", "Hi"]);
    expect(bad.code).toBe(exitCodes.usage);
    expect(bad.stderr).toMatch(/^chat: --url must be an http/);
    // One line that says what is wrong, not the mistake followed by thirty lines of help.
    for (const argv of [["--url", "not a url", "Hi"], ["--modle", "x", "Hi"], ["-m", "--json", "Hi"], ["--think", "maybe", "Hi"], ["export"]]) {
      const { code, stdout, stderr } = await run(argv);
      expect({ code, stdout }).toEqual({ code: exitCodes.usage, stdout: "" });
      expect(stderr).toMatch(/^chat: [^\n]+ — see chat --help\n$/);
    }
  });

  describe("export and import", () => {
    const env = () => ({ CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" });
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "streamchat-cli-export-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("exports JSON to stdout and Markdown to a file, and imports the JSON as a new conversation", async () => {
      const client = createChatClient({ url: api.url, token: "alice-secret-token" });
      const { conversationId } = await client.complete("What is 6*7?");
      const detail = await client.conversations.get(conversationId);

      const json = await run(["export", conversationId], env());
      expect(json).toMatchObject({ code: exitCodes.ok, stderr: "" });
      expect(JSON.parse(json.stdout)).toMatchObject({ format: "streamchat.conversation", version: 1, conversation: { id: conversationId } });

      const file = join(dir, "chat.md");
      const markdown = await run(["export", conversationId, "--format", "markdown", "-o", file], env());
      expect(markdown).toMatchObject({ code: exitCodes.ok, stdout: "" });
      expect(markdown.stderr).toMatch(new RegExp(`^Exported to ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(\\d+ bytes\\)\\.\n$`));
      expect(readFileSync(file, "utf8")).toContain(`## User\n\nWhat is 6*7?\n`);
      // Never over an existing file.
      const again = await run(["export", conversationId, "--format", "markdown", "-o", file], env());
      expect(again).toMatchObject({ code: exitCodes.failed, stderr: `error: cannot write ${file}: it already exists (choose another name or remove it)\n` });

      const saved = join(dir, "chat.json");
      writeFileSync(saved, json.stdout);
      const imported = await run(["import", saved], env());
      expect(imported.code).toBe(exitCodes.ok);
      const copyId = imported.stdout.trim();
      expect(copyId).not.toBe(conversationId);
      expect(imported.stderr).toBe(`Imported as a new conversation (continue it with: chat --conversation ${copyId}).\n`);
      const copy = await client.conversations.get(copyId);
      expect(copy.messages.map((m) => [m.role, m.content])).toEqual(detail.messages.map((m) => [m.role, m.content]));
      // From stdin too.
      const piped = await run(["import", "-"], env(), json.stdout);
      expect(piped.code).toBe(exitCodes.ok);
      expect(piped.stdout.trim()).not.toBe(copyId);
    });

    it("says what is wrong with a file, a refused import or an unknown conversation, and returns 1", async () => {
      const missing = join(dir, "nope.json");
      expect(await run(["import", missing], env())).toEqual({ code: exitCodes.failed, stdout: "", stderr: `error: cannot read ${missing}: no such file or directory\n` });
      const other = join(dir, "other.json");
      writeFileSync(other, JSON.stringify({ format: "someone.else", version: 1 }));
      const refused = await run(["import", other], env());
      expect(refused).toMatchObject({ code: exitCodes.failed, stdout: "" });
      expect(refused.stderr).toMatch(/^error: bad_request — This file is not a conversation exported from this app \(it is JSON in another format, "someone\.else"\)\.\n$/);
      const unknown = await run(["export", "no-such-conversation"], env());
      expect(unknown).toMatchObject({ code: exitCodes.failed, stdout: "" });
      expect(unknown.stderr).toMatch(/^error: \S+ — Conversation not found\n$/);
    });
  });

  it("chat instructions prints, saves (argument or stdin) and clears the user's custom instructions", async () => {
    const env = { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" };
    expect(await run(["instructions"], env)).toEqual({ code: exitCodes.ok, stdout: "", stderr: 'No custom instructions (set them with: chat instructions "…").\n' });
    expect(await run(["instructions", " Be brief. "], env)).toEqual({
      code: exitCodes.ok,
      stdout: "",
      stderr: "Saved: new answers get these instructions (9 characters).\n",
    });
    expect(await run(["instructions"], env)).toEqual({ code: exitCodes.ok, stdout: "Be brief.\n", stderr: "" });
    const client = createChatClient({ url: api.url, token: "alice-secret-token" });
    await client.complete("Hello");
    const body = api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(body.messages[0]!.content.endsWith("\n\nBe brief.")).toBe(true);

    expect(await run(["instructions", "-"], env, "Line one.\nLine two.\n")).toMatchObject({ code: exitCodes.ok });
    expect((await client.settings.get()).instructions).toBe("Line one.\nLine two.");
    // An empty stdin is not a way to clear them by accident.
    expect(await run(["instructions", "-"], env, "")).toMatchObject({ code: exitCodes.usage, stdout: "" });
    expect((await client.settings.get()).instructions).toBe("Line one.\nLine two.");
    expect(await run(["instructions", "--clear"], env)).toEqual({ code: exitCodes.ok, stdout: "", stderr: "Custom instructions removed.\n" });
    expect((await client.settings.get()).instructions).toBe("");

    const refused = await run(["instructions", "x".repeat(4001)], env);
    expect(refused).toMatchObject({ code: exitCodes.failed, stdout: "" });
    expect(refused.stderr).toMatch(/^error: bad_request — instructions: must be at most 4000 characters\n$/);
  });

  it("chat --instructions starts a new conversation with its own instructions, which its first answer gets", async () => {
    const env = { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" };
    const asked = await run(["--json", "--instructions", "Answer in haiku.", "Tell me about rain"], env);
    expect(asked.code).toBe(exitCodes.ok);
    const system = (api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> }).messages[0]!.content;
    expect(system.endsWith("\n\nAnswer in haiku.")).toBe(true);
    const start = asked.stdout.split("\n").map((line) => JSON.parse(line || "null") as { type?: string; conversationId?: string } | null).find((event) => event?.type === "run-start");
    expect(await run(["instructions", "-c", start!.conversationId!], env)).toEqual({ code: exitCodes.ok, stdout: "Answer in haiku.\n", stderr: "" });
  });

  it("chat --temperature --top-p --seed starts a new conversation sampled so, its first answer included (with --instructions, in a session)", async () => {
    const env = { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" };
    type Request = { messages: Array<{ role: string; content: string }>; options?: Record<string, number> };
    // The model server's request for this question (a title, asked for as well, is not it).
    const requestFor = (question: string) =>
      api.sim
        .chatRequests()
        .map((request) => request.body as Request)
        .findLast((body) => body.messages.at(-1)?.content === question)!;
    const conversationsOf = (stdout: string) =>
      stdout
        .split("\n")
        .map((line) => JSON.parse(line || "null") as { type?: string; conversationId?: string } | null)
        .filter((event) => event?.type === "run-start")
        .map((event) => event!.conversationId!);

    const asked = await run(["--json", "--temperature", "0.2", "--top-p", "0.9", "--seed", "42", "Pick a number"], env);
    expect(asked.code).toBe(exitCodes.ok);
    expect(requestFor("Pick a number").options).toEqual({ temperature: 0.2, top_p: 0.9, seed: 42 });
    const [conversationId] = conversationsOf(asked.stdout);
    expect(await run(["sampling", "-c", conversationId!], env)).toEqual({ code: exitCodes.ok, stdout: "temperature 0.2, top P 0.9, seed 42\n", stderr: "" });
    // Its later answers are sampled so too: the conversation keeps them.
    expect(await run(["-c", conversationId!, "Another one"], env)).toMatchObject({ code: exitCodes.ok });
    expect(requestFor("Another one").options).toEqual({ temperature: 0.2, top_p: 0.9, seed: 42 });

    // With its own instructions too; the settings not given are the model's.
    const both = await run(["--json", "--instructions", "Answer in haiku.", "--seed", "7", "Tell me about snow"], env);
    expect(both.code).toBe(exitCodes.ok);
    const snow = requestFor("Tell me about snow");
    expect(snow.options).toEqual({ seed: 7 });
    expect(snow.messages[0]!.content.endsWith("\n\nAnswer in haiku.")).toBe(true);
    const [snowConversation] = conversationsOf(both.stdout);
    expect(await run(["sampling", "-c", snowConversation!], env)).toMatchObject({ stdout: "temperature model default, top P model default, seed 7\n" });
    expect(await run(["instructions", "-c", snowConversation!], env)).toMatchObject({ stdout: "Answer in haiku.\n" });

    // A session: its first conversation is started with them, its next question asked in it (without them: the API
    // refuses sampling for a conversation that exists), and a /new one is started with them again.
    const session = await run(["--json", "--temperature", "0.3"], env, "First question\nSecond question\n/new\nThird question\n");
    expect(session.code).toBe(exitCodes.ok);
    for (const question of ["First question", "Second question", "Third question"]) {
      expect(requestFor(question).options, question).toEqual({ temperature: 0.3 });
    }
    const [first, second, third] = conversationsOf(session.stdout);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    expect(await run(["sampling", "-c", third!], env)).toMatchObject({ stdout: "temperature 0.3, top P model default, seed model default\n" });

    // Not with -c: refused before anything is asked, the conversation's sampling as it was.
    expect(await run(["-c", conversationId!, "--seed", "1", "One more"], env)).toEqual({
      code: exitCodes.usage,
      stdout: "",
      stderr: `chat: --seed goes with a new conversation; to change this one's sampling, use chat sampling -c ${conversationId} --seed 1 — see chat --help\n`,
    });
    expect(await run(["sampling", "-c", conversationId!], env)).toMatchObject({ stdout: "temperature 0.2, top P 0.9, seed 42\n" });
  });

  it("chat instructions -c prints, saves (argument or stdin) and clears a conversation's own instructions; the user's stay", async () => {
    const env = { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" };
    const client = createChatClient({ url: api.url, token: "alice-secret-token" });
    const { conversationId } = await client.complete("Hello");
    await client.settings.setInstructions("Be brief.");
    try {
      expect(await run(["instructions", "-c", conversationId], env)).toEqual({
        code: exitCodes.ok,
        stdout: "",
        stderr: `No instructions for this conversation (set them with: chat instructions -c ${conversationId} "…").\n`,
      });
      expect(await run(["instructions", "-c", conversationId, " Answer in French. "], env)).toEqual({
        code: exitCodes.ok,
        stdout: "",
        stderr: "Saved: new answers in this conversation get these instructions (17 characters).\n",
      });
      expect(await run(["--conversation", conversationId, "instructions"], env)).toEqual({ code: exitCodes.ok, stdout: "Answer in French.\n", stderr: "" });
      // The user's custom instructions did not change, and without -c they are what chat instructions shows.
      expect(await run(["instructions"], env)).toEqual({ code: exitCodes.ok, stdout: "Be brief.\n", stderr: "" });

      // A question asked in that conversation gets both: the user's, then the conversation's.
      expect(await run(["-c", conversationId, "Hello again"], env)).toMatchObject({ code: exitCodes.ok });
      const system = (api.sim.chatRequests().at(-1)?.body as { messages: Array<{ role: string; content: string }> }).messages[0]!.content;
      expect(system.endsWith("\n\nAnswer in French.")).toBe(true);
      expect(system.indexOf("\n\nBe brief.")).toBeGreaterThan(0);
      expect(system.indexOf("\n\nBe brief.")).toBeLessThan(system.indexOf("Answer in French."));

      expect(await run(["instructions", "-c", conversationId, "-"], env, "Line one.\nLine two.\n")).toMatchObject({ code: exitCodes.ok });
      expect((await client.conversations.instructions(conversationId)).instructions).toBe("Line one.\nLine two.");
      // An empty stdin is not a way to clear them by accident.
      expect(await run(["instructions", "-c", conversationId, "-"], env, "")).toEqual({
        code: exitCodes.usage,
        stdout: "",
        stderr: `chat: no instructions on stdin (chat instructions -c ${conversationId} --clear removes them) — see chat --help\n`,
      });
      expect((await client.conversations.instructions(conversationId)).instructions).toBe("Line one.\nLine two.");
      expect(await run(["instructions", "-c", conversationId, "--clear"], env)).toEqual({ code: exitCodes.ok, stdout: "", stderr: "This conversation's instructions removed.\n" });
      expect(await client.conversations.instructions(conversationId)).toMatchObject({ instructions: "" });
      expect((await client.settings.get()).instructions).toBe("Be brief.");

      const refused = await run(["instructions", "-c", conversationId, "x".repeat(4001)], env);
      expect(refused).toMatchObject({ code: exitCodes.failed, stdout: "" });
      expect(refused.stderr).toMatch(/^error: bad_request — instructions: must be at most 4000 characters\n$/);
      for (const argv of [["instructions", "-c", "no-such-conversation"], ["instructions", "-c", "no-such-conversation", "Hi"]]) {
        const unknown = await run(argv, env);
        expect(unknown).toMatchObject({ code: exitCodes.failed, stdout: "" });
        expect(unknown.stderr).toMatch(/^error: \S+ — Conversation not found\n$/);
      }
    } finally {
      await client.settings.setInstructions("");
    }
  });

  it("chat sampling -c prints a conversation's sampling in words, changes those given (the others kept) and resets them", async () => {
    const env = { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" };
    const client = createChatClient({ url: api.url, token: "alice-secret-token" });
    const { conversationId } = await client.complete("Hello");
    await client.conversations.setInstructions(conversationId, "Answer in French.");
    const saved = (words: string) => ({ code: exitCodes.ok, stdout: "", stderr: `Saved: new answers in this conversation are sampled with ${words}.\n` });
    const modelOptions = () => (api.sim.chatRequests().at(-1)?.body as { options?: Record<string, number> }).options;

    expect(await run(["sampling", "-c", conversationId], env)).toEqual({ code: exitCodes.ok, stdout: "model defaults\n", stderr: "" });
    expect(await run(["sampling", "-c", conversationId, "--temperature", "0.2", "--seed", "42"], env)).toEqual(saved("temperature 0.2, top P model default, seed 42"));
    // One setting more: the two set before stay.
    expect(await run(["-c", conversationId, "sampling", "--top-p", "0.9"], env)).toEqual(saved("temperature 0.2, top P 0.9, seed 42"));
    expect(await run(["sampling", "--conversation", conversationId], env)).toEqual({ code: exitCodes.ok, stdout: "temperature 0.2, top P 0.9, seed 42\n", stderr: "" });
    // Its instructions are another setting: untouched.
    expect((await client.conversations.settings(conversationId)).instructions).toBe("Answer in French.");

    // The next answer in that conversation asks the model server with them.
    expect(await run(["-c", conversationId, "Hello again"], env)).toMatchObject({ code: exitCodes.ok });
    expect(modelOptions()).toEqual({ temperature: 0.2, top_p: 0.9, seed: 42 });

    expect(await run(["sampling", "-c", conversationId, "--seed", "default"], env)).toEqual(saved("temperature 0.2, top P 0.9, seed model default"));
    expect(await run(["-c", conversationId, "And again"], env)).toMatchObject({ code: exitCodes.ok });
    expect(modelOptions()).toEqual({ temperature: 0.2, top_p: 0.9 });
    expect(await run(["sampling", "-c", conversationId, "--reset"], env)).toEqual(saved("model defaults"));
    expect(await client.conversations.settings(conversationId)).toMatchObject({ instructions: "Answer in French.", sampling: defaultSampling });
    expect(await run(["-c", conversationId, "Once more"], env)).toMatchObject({ code: exitCodes.ok });
    expect(modelOptions()).toBeUndefined();

    // A value the API would refuse is a usage error, said before anything is asked; nothing changes.
    expect(await run(["sampling", "-c", conversationId, "--temperature", "0.2", "--top-p", "0"], env)).toEqual({
      code: exitCodes.usage,
      stdout: "",
      stderr: 'chat: --top-p must be a number above 0, at most 1, or default (got "0") — see chat --help\n',
    });
    expect((await client.conversations.settings(conversationId)).sampling).toEqual(defaultSampling);
    for (const argv of [["sampling", "-c", "no-such-conversation"], ["sampling", "-c", "no-such-conversation", "--seed", "1"], ["sampling", "-c", "no-such-conversation", "--reset"]]) {
      const unknown = await run(argv, env);
      expect(unknown).toMatchObject({ code: exitCodes.failed, stdout: "" });
      expect(unknown.stderr).toMatch(/^error: \S+ — Conversation not found\n$/);
    }
  });

  it("chat sampling without -c prints and changes the user's own, which a conversation's settings override one by one", async () => {
    const env = { CHAT_URL: api.url, CHAT_TOKEN: "alice-secret-token" };
    const client = createChatClient({ url: api.url, token: "alice-secret-token" });
    const modelOptions = () => (api.sim.chatRequests().at(-1)?.body as { options?: Record<string, number> }).options;
    try {
      expect(await run(["sampling"], env)).toEqual({ code: exitCodes.ok, stdout: "model defaults\n", stderr: "" });
      expect(await run(["sampling", "--temperature", "0.3", "--seed", "5"], env)).toEqual({
        code: exitCodes.ok,
        stdout: "",
        stderr: "Saved: new answers in conversations without their own settings are sampled with temperature 0.3, top P model default, seed 5.\n",
      });
      expect((await client.settings.get()).sampling).toEqual({ temperature: 0.3, topP: null, seed: 5 });

      // A new conversation's answers get them; a conversation's own setting wins, the others stay the user's.
      const { conversationId } = await client.complete("Hello");
      expect(modelOptions()).toEqual({ temperature: 0.3, seed: 5 });
      expect(await run(["sampling", "-c", conversationId, "--temperature", "1.1"], env)).toEqual({
        code: exitCodes.ok,
        stdout: "",
        stderr: "Saved: new answers in this conversation are sampled with temperature 1.1, top P model default, seed 5 (your default).\n",
      });
      expect(await run(["-c", conversationId, "Hello again"], env)).toMatchObject({ code: exitCodes.ok });
      expect(modelOptions()).toEqual({ temperature: 1.1, seed: 5 });

      expect(await run(["sampling", "--reset"], env)).toMatchObject({ code: exitCodes.ok, stderr: "Saved: new answers in conversations without their own settings are sampled with model defaults.\n" });
      expect(await run(["sampling", "-c", conversationId], env)).toEqual({ code: exitCodes.ok, stdout: "temperature 1.1, top P model default, seed model default\n", stderr: "" });
    } finally {
      await client.settings.setSampling({ temperature: null, topP: null, seed: null });
    }
  });

  describe("images, think levels and usage", () => {
    let dir: string;
    const auth = ["--url", "", "--token", "alice-secret-token"];
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "chat-cli-images-"));
      auth[1] = api.url;
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("--image sends the file's exact bytes to a vision model, which answers about it; --usage prints tokens and context", async () => {
      const png = solidPng(24, 16, [220, 30, 30]);
      const path = join(dir, "red.png");
      writeFileSync(path, png);
      const before = api.sim.chatRequests().length;
      const { code, stdout, stderr } = await run([...auth, "-m", "demo-vision", "--image", path, "--usage", "What is in this picture?"]);
      expect(code).toBe(exitCodes.ok);
      expect(stdout).toContain("24×16");
      expect(stdout.toLowerCase()).toContain("red");
      const sent = api.sim.chatRequests().slice(before).map((r) => r.body as { messages: Array<{ role: string; images?: string[] }> });
      expect(sent.at(-1)?.messages.at(-1)?.images).toEqual([png.toString("base64")]);
      expect(stderr).toMatch(/^\d+ prompt \+ \d+ answer tokens( · [^\n]+)? · context [\d.K]+ of 32K \(\d+%\)\n$/m);
    });

    it("--think passes the level through; a non-image file and a model without vision are clear errors", async () => {
      const before = api.sim.chatRequests().length;
      const thought = await run([...auth, "-m", "gpt-oss", "--think", "low", "explain streams"]);
      expect(thought.code).toBe(exitCodes.ok);
      expect((api.sim.chatRequests().at(-1)?.body as { think?: unknown }).think).toBe("low");

      const text = join(dir, "notes.png");
      writeFileSync(text, "just text");
      const notImage = await run([...auth, "-m", "demo-vision", "--image", text, "hi"]);
      expect(notImage).toMatchObject({ code: exitCodes.usage, stdout: "" });
      expect(notImage.stderr).toBe("chat: notes.png is not a PNG, JPEG, WebP or GIF image (9 bytes)\n");
      const missing = await run([...auth, "--image", join(dir, "nope.png"), "hi"]);
      expect(missing.stderr).toMatch(/^chat: cannot read .*nope\.png \(ENOENT\)\n$/);

      const png = join(dir, "blue.png");
      writeFileSync(png, solidPng(4, 4, [0, 0, 255]));
      const blind = await run([...auth, "-m", "gemma3", "--image", png, "hi"]);
      expect(blind.code).toBe(exitCodes.failed);
      expect(blind.stderr).toMatch(/^error: model_unsupported — .+\n$/);
      // Only the gpt-oss question reached the model.
      expect(api.sim.chatRequests().length).toBe(before + 1);
    });
  });

  describe("text files", () => {
    let dir: string;
    const auth = ["--url", "", "--token", "alice-secret-token"];
    const lastUserContent = (request: { body: unknown } | undefined) =>
      (request?.body as { messages: Array<{ role: string; content: string }> } | undefined)?.messages.filter((m) => m.role === "user").at(-1)?.content;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "chat-cli-files-"));
      auth[1] = api.url;
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("--file sends each file's text before the question, which the demo model describes; the conversation keeps it as a file", async () => {
      const csvText = "region,month,total\nnorth,jan,10\nsouth,jan,12\neast,feb,7\n";
      const csv = join(dir, "sales.csv");
      writeFileSync(csv, csvText);
      const notesText = "# Plan\n\nShip it.";
      const notes = join(dir, "notes.md");
      writeFileSync(notes, notesText);
      const before = api.sim.chatRequests().length;
      const { code, stdout, stderr } = await run([...auth, "--json", "-m", "demo", "--file", csv, "--file", notes, "What is in these?"]);
      expect({ code, stderr }).toEqual({ code: exitCodes.ok, stderr: "" });
      const sent = api.sim.chatRequests().slice(before);
      expect(sent).toHaveLength(1);
      expect(lastUserContent(sent[0])).toBe(
        '<file name="sales.csv">\nregion,month,total\nnorth,jan,10\nsouth,jan,12\neast,feb,7\n</file>\n\n' +
          '<file name="notes.md">\n# Plan\n\nShip it.\n</file>\n\nWhat is in these?',
      );
      const events = stdout.trim().split("\n").map((line) => JSON.parse(line) as { type: string; text?: string; conversationId?: string });
      const answer = events.filter((e) => e.type === "token").map((e) => e.text).join("");
      expect(answer).toContain("sales.csv");
      expect(answer).toContain("3 rows");
      expect(answer).toContain("3 columns (`region`, `month` and `total`)");
      expect(answer).toContain("notes.md");
      const conversationId = events.find((e) => e.type === "run-start")?.conversationId;
      const client = createChatClient({ url: api.url, token: "alice-secret-token" });
      const question = (await client.conversations.get(conversationId!)).messages.find((m) => m.role === "user");
      expect(question?.content).toBe("What is in these?");
      expect(question?.attachments).toMatchObject([
        { type: "file", name: "sales.csv", chars: csvText.length, text: csvText },
        { type: "file", name: "notes.md", chars: notesText.length, text: notesText },
      ]);
    });

    it("in a session the files and images go with the first question only", async () => {
      const path = join(dir, "todo.txt");
      writeFileSync(path, "buy milk\n");
      const png = solidPng(2, 2, [0, 200, 0]);
      const image = join(dir, "green.png");
      writeFileSync(image, png);
      const before = api.sim.chatRequests().length;
      const { code } = await run([...auth, "-m", "demo-vision", "--file", path, "--image", image], {}, "What does it say?\nThanks\n");
      expect(code).toBe(exitCodes.ok);
      const sent = api.sim.chatRequests().slice(before);
      expect(sent.map(lastUserContent)).toEqual(['<file name="todo.txt">\nbuy milk\n</file>\n\nWhat does it say?', "Thanks"]);
      const lastUserImages = sent.map((r) => (r.body as { messages: Array<{ role: string; images?: string[] }> }).messages.at(-1)?.images);
      expect(lastUserImages).toEqual([[png.toString("base64")], undefined]);
    });

    it("refuses a binary, empty or missing file with the client's sentence before anything is sent", async () => {
      const png = join(dir, "photo.png");
      writeFileSync(png, solidPng(2, 2, [0, 0, 0]));
      const empty = join(dir, "empty.txt");
      writeFileSync(empty, "");
      const good = join(dir, "good.txt");
      writeFileSync(good, "fine\n");
      const before = api.sim.chatRequests().length;
      expect(await run([...auth, "--file", good, "--file", png, "hi"])).toEqual({
        code: exitCodes.usage,
        stdout: "",
        stderr: "chat: photo.png is not a text file (it is not UTF-8)\n",
      });
      expect(await run([...auth, "--file", empty, "hi"])).toEqual({ code: exitCodes.usage, stdout: "", stderr: "chat: empty.txt is empty\n" });
      const missing = await run([...auth, "--file", join(dir, "nope.txt"), "hi"]);
      expect(missing).toMatchObject({ code: exitCodes.usage, stdout: "" });
      expect(missing.stderr).toMatch(/^chat: cannot read .*nope\.txt \(ENOENT\)\n$/);
      expect(api.sim.chatRequests().length).toBe(before);
    });
  });
});
