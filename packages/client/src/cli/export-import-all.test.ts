// chat export --all and chat import of its JSON Lines, against the real API (the simulator as its model server), and
// against a loopback stand-in that cuts the export short.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createChatClient, type ChatClient } from "../client.js";
import { startApi, type TestApi } from "../test-support/api.js";
import { cutShortExport, jsonLinesHead, startHttpStub, type HttpStub } from "../test-support/http-stub.js";
import { runCliCaptured, runWithInterrupt } from "../test-support/run-cli.js";
import { exitCodes, runCli } from "./main.js";
import { closedPort } from "../test-support/closed-port.js";

const run = runCliCaptured;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const lines = (text: string) => text.split("\n").slice(0, -1);
interface Doc {
  exportedAt: number;
  conversation: { id: string; title: string };
}
const parse = (line: string) => JSON.parse(line) as Doc;


describe("chat export --all and chat import of JSON Lines", () => {
  let api: TestApi;
  let dir: string;
  const users = ["source", "target", "single", "nobody"] as const;
  const token = (user: (typeof users)[number]) => `${user}-secret-token`;
  const env = (user: (typeof users)[number]) => ({ CHAT_URL: api.url, CHAT_TOKEN: token(user) });
  const clientOf = (user: (typeof users)[number]): ChatClient => createChatClient({ url: api.url, token: token(user) });
  /** The source user's three conversations, in the list's order. */
  let sourceIds: string[];

  beforeAll(async () => {
    api = await startApi({ AUTH_TOKENS: users.map((user) => `${user}:${token(user)}`).join(",") });
    dir = mkdtempSync(join(tmpdir(), "streamchat-cli-export-all-"));
    const source = clientOf("source");
    for (const question of ["What is 6*7?", "Name a smiling marsupial", "Explain TCP slow start"]) await source.complete(question);
    sourceIds = (await source.conversations.list()).map((c) => c.id);
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh directory: what is in it after a command is all the command left. */
  const freshDir = () => mkdtempSync(join(dir, "case-"));

  it("export --all writes every conversation to stdout, one JSON export a line, in the list's order", async () => {
    const exported = await run(["export", "--all"], env("source"));
    expect({ code: exported.code, stderr: exported.stderr }).toEqual({ code: exitCodes.ok, stderr: "" });
    const docs = lines(exported.stdout).map(parse);
    expect(docs.map((doc) => doc.conversation.id)).toEqual(sourceIds);
    const single = parse((await clientOf("source").conversations.export(sourceIds[0]!)).content);
    expect({ ...docs[0], exportedAt: 0 }).toEqual({ ...single, exportedAt: 0 });
    // "-" is stdout too; nobody's export is empty, said on stderr.
    expect((await run(["export", "--all", "-o", "-"], env("source"))).stdout.split("\n")).toHaveLength(4);
    expect(await run(["export", "--all"], env("nobody"))).toEqual({ code: exitCodes.ok, stdout: "", stderr: "No conversations yet.\n" });
  });

  it("export --all -o writes the file, says how many and how large, and never writes over an existing file", async () => {
    const here = freshDir();
    const file = join(here, "all.jsonl");
    const exported = await run(["export", "--all", "-o", file], env("source"));
    expect({ code: exported.code, stdout: exported.stdout }).toEqual({ code: exitCodes.ok, stdout: "" });
    expect(exported.stderr).toBe(`Exported 3 conversations to ${file} (${statSync(file).size} bytes).\n`);
    const written = readFileSync(file, "utf8");
    expect(written.endsWith("\n")).toBe(true);
    expect(lines(written).map((line) => parse(line).conversation.id)).toEqual(sourceIds);
    // No temporary file left beside it.
    expect(readdirSync(here)).toEqual(["all.jsonl"]);

    const again = await run(["export", "--all", "-o", file], env("source"));
    expect(again).toEqual({ code: exitCodes.failed, stdout: "", stderr: `error: cannot write ${file}: it already exists (choose another name or remove it)\n` });
    expect(readFileSync(file, "utf8")).toBe(written);
    expect(readdirSync(here)).toEqual(["all.jsonl"]);

    // A token refused: nothing written, the usual line.
    const refused = await run(["export", "--all", "-o", join(here, "refused.jsonl")], { CHAT_URL: api.url, CHAT_TOKEN: "not-the-token" });
    expect(refused.code).toBe(exitCodes.failed);
    expect(refused.stderr).toMatch(/^error: unauthorized — .+ \(the token given was refused: check --token or CHAT_TOKEN\)\n/);
    expect(readdirSync(here)).toEqual(["all.jsonl"]);
    // A directory that does not exist: said before anything is asked.
    const nowhere = join(here, "missing", "all.jsonl");
    expect(await run(["export", "--all", "-o", nowhere], env("source"))).toEqual({
      code: exitCodes.failed,
      stdout: "",
      stderr: `error: cannot write ${nowhere}: no such file or directory\n`,
    });
  });

  describe("against a server that cuts the export short", () => {
    let stub: HttpStub | undefined;
    afterAll(async () => {
      await stub?.close();
    });
    const serve = async (handler: Parameters<typeof startHttpStub>[0]) => {
      await stub?.close();
      stub = await startHttpStub(handler);
      return { CHAT_URL: stub.url, CHAT_TOKEN: "tok" };
    };
    const line = (id: string) => JSON.stringify({ format: "streamchat.conversation", version: 1, conversation: { id, title: id } });

    it("-o: the file appears only once the export is complete", async () => {
      let held: ServerResponse | undefined;
      const stubEnv = await serve((_req, res) => {
        held = res;
        res.writeHead(200, jsonLinesHead);
        res.write(`${line("a")}\n`);
      });
      const here = freshDir();
      const file = join(here, "all.jsonl");
      const exporting = run(["export", "--all", "-o", file], stubEnv);
      // The first conversation is on disk, in a temporary file beside the target; the target is not there yet.
      const partial = await vi.waitFor(() => {
        const [name, ...others] = readdirSync(here);
        expect(others).toEqual([]);
        expect(name).toMatch(/^\.all\.jsonl\..+\.partial$/);
        expect(readFileSync(join(here, name!), "utf8")).toBe(`${line("a")}\n`);
        return name!;
      });
      expect(existsSync(file)).toBe(false);
      held!.end(`${line("b")}\n`);
      const done = await exporting;
      expect(done).toEqual({ code: exitCodes.ok, stdout: "", stderr: `Exported 2 conversations to ${file} (${statSync(file).size} bytes).\n` });
      expect(readFileSync(file, "utf8")).toBe(`${line("a")}\n${line("b")}\n`);
      expect(readdirSync(here)).toEqual(["all.jsonl"]);
      expect(existsSync(join(here, partial))).toBe(false);
    });

    it("-o: a file that appears under the name while the export runs is not overwritten either", async () => {
      let held: ServerResponse | undefined;
      const stubEnv = await serve((_req, res) => {
        held = res;
        res.writeHead(200, jsonLinesHead);
        res.write(`${line("a")}\n`);
      });
      const here = freshDir();
      const file = join(here, "all.jsonl");
      const exporting = run(["export", "--all", "-o", file], stubEnv);
      await vi.waitFor(() => expect(readdirSync(here)).toHaveLength(1));
      writeFileSync(file, "someone else's\n");
      held!.end(`${line("b")}\n`);
      expect(await exporting).toEqual({ code: exitCodes.failed, stdout: "", stderr: `error: cannot write ${file}: it already exists (choose another name or remove it)\n` });
      expect(readFileSync(file, "utf8")).toBe("someone else's\n");
      expect(readdirSync(here)).toEqual(["all.jsonl"]);
    });

    it("-o: an export cut short (mid-line, or the connection broken) leaves no file under the name, and exits 1", async () => {
      for (const ending of ["end", "cut"] as const) {
        const stubEnv = await serve(cutShortExport([line("a"), line("b")], line("c").slice(0, 20), ending));
        const here = freshDir();
        const file = join(here, "all.jsonl");
        const cut = await run(["export", "--all", "-o", file], stubEnv);
        expect({ code: cut.code, stdout: cut.stdout }).toEqual({ code: exitCodes.failed, stdout: "" });
        expect(cut.stderr).toMatch(new RegExp(`^error: stream_truncated — The export was cut short: [^\\n]+\\nNothing was written to ${escape(file)}\\.\\n$`));
        expect(readdirSync(here)).toEqual([]);
      }
    });

    it("stdout: the whole lines only, then the error on stderr, exit 1", async () => {
      const stubEnv = await serve(cutShortExport([line("a")], line("b").slice(0, 20), "cut"));
      const cut = await run(["export", "--all"], stubEnv);
      expect(cut).toEqual({
        code: exitCodes.failed,
        stdout: `${line("a")}\n`,
        stderr: "error: stream_truncated — The export was cut short: the connection to the server broke before its end.\n",
      });
    });

    it("Ctrl-C stops the download: no file, exit 130", async () => {
      const stubEnv = await serve((_req, res) => {
        res.writeHead(200, jsonLinesHead);
        res.write(`${line("a")}\n`);
      });
      const here = freshDir();
      const file = join(here, "all.jsonl");
      let stderr = "";
      let interrupt: (() => void) | undefined;
      const exporting = runCli(["export", "--all", "-o", file], {
        stdin: new PassThrough(),
        stdout: { write: () => true },
        stderr: { write: (text: string) => (stderr += text) },
        env: stubEnv,
        onInterrupt: (handler) => {
          interrupt = handler;
          return () => (interrupt = undefined);
        },
        exit: (code) => {
          throw new Error(`unexpected exit ${code}`);
        },
      });
      // The first conversation is in the temporary file; the server holds the rest back.
      await vi.waitFor(() => expect(readdirSync(here).map((name) => readFileSync(join(here, name), "utf8"))).toEqual([`${line("a")}\n`]));
      interrupt?.();
      expect(await exporting).toBe(exitCodes.interrupted);
      expect(stderr).toBe(`Stopped: nothing was written to ${file}.\n`);
      expect(readdirSync(here)).toEqual([]);
    });
  });

  it("usage errors: --all with an id, --all with Markdown (exit 2, nothing asked)", async () => {
    for (const [argv, message] of [
      [["export", sourceIds[0]!, "--all"], `chat export --all takes no conversation id (it exports every conversation; got "${sourceIds[0]}")`],
      [["export", "--all", "--format", "markdown"], "--format markdown exports one conversation; chat export --all writes JSON Lines (each line one conversation's JSON export)"],
      [["import", "all.jsonl", "--all"], "--all is an option of chat export"],
    ] as const) {
      expect(await run([...argv], env("source"))).toEqual({ code: exitCodes.usage, stdout: "", stderr: `chat: ${message} — see chat --help\n` });
    }
  });

  it("import of a JSON Lines file: one new conversation per line, in order, ids on stdout, a summary on stderr", async () => {
    const file = join(freshDir(), "all.jsonl");
    expect((await run(["export", "--all", "-o", file], env("source"))).code).toBe(exitCodes.ok);
    const source = clientOf("source");
    const titles = await Promise.all(sourceIds.map(async (id) => (await source.conversations.get(id)).title));

    const imported = await run(["import", file], env("target"));
    expect({ code: imported.code, stderr: imported.stderr }).toEqual({ code: exitCodes.ok, stderr: "Imported 3 conversations.\n" });
    const ids = lines(imported.stdout);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(uuid);
    const target = clientOf("target");
    expect(await Promise.all(ids.map(async (id) => (await target.conversations.get(id)).title))).toEqual(titles);
    for (const [i, id] of ids.entries()) {
      const copy = await target.conversations.get(id);
      const original = await source.conversations.get(sourceIds[i]!);
      expect(copy.messages.map((m) => [m.role, m.content])).toEqual(original.messages.map((m) => [m.role, m.content]));
    }

    // From stdin too.
    const piped = await run(["import", "-"], env("target"), readFileSync(file, "utf8"));
    expect({ code: piped.code, stderr: piped.stderr }).toEqual({ code: exitCodes.ok, stderr: "Imported 3 conversations.\n" });
    expect(lines(piped.stdout)).toHaveLength(3);
    expect((await target.conversations.list()).length).toBe(6);
  });

  it("a line the server refuses does not stop the others: exit 1, the line named with the server's words", async () => {
    const file = join(freshDir(), "all.jsonl");
    expect((await run(["export", "--all", "-o", file], env("source"))).code).toBe(exitCodes.ok);
    const [first, second, third] = lines(readFileSync(file, "utf8"));
    // A byte order mark, Windows line ends and a blank line: line numbers are the file's.
    const content = `\uFEFF${first}\r\n\r\n${JSON.stringify({ format: "someone.else", version: 1 })}\r\n${second}\n${third}\n`;
    const before = (await clientOf("single").conversations.list()).length;
    const imported = await run(["import", "-"], env("single"), content);
    expect(imported.code).toBe(exitCodes.failed);
    expect(imported.stderr).toBe(
      'Imported 3 of 4 conversations; line 3: This file is not a conversation exported from this app (it is JSON in another format, "someone.else").\n',
    );
    const ids = lines(imported.stdout);
    expect(ids).toHaveLength(3);
    const single = clientOf("single");
    expect(await Promise.all(ids.map(async (id) => (await single.conversations.get(id)).title))).toEqual(
      [first, second, third].map((line) => parse(line!).conversation.title),
    );
    expect((await single.conversations.list()).length).toBe(before + 3);
  });

  it("a token refused or nothing answering stops at once, reported as for one file; Ctrl-C stops before the next line", async () => {
    const file = join(freshDir(), "all.jsonl");
    expect((await run(["export", "--all", "-o", file], env("source"))).code).toBe(exitCodes.ok);
    const refused = await run(["import", file], { CHAT_URL: api.url, CHAT_TOKEN: "not-the-token" });
    expect(refused).toMatchObject({ code: exitCodes.failed, stdout: "" });
    expect(refused.stderr).toMatch(/^error: unauthorized — [^\n]+ \(the token given was refused: check --token or CHAT_TOKEN\)\n$/);
    const url = `http://127.0.0.1:${await closedPort()}`;
    expect(await run(["import", file], { CHAT_URL: url })).toEqual({
      code: exitCodes.failed,
      stdout: "",
      stderr: `error: cannot reach the chat server at ${url} — is it running? Start it with "pnpm start", or pass --url / set CHAT_URL.\n`,
    });

    // Ctrl-C as the first id is printed: that conversation stays, no later line is sent.
    const before = (await clientOf("nobody").conversations.list()).length;
    const stopped = await runWithInterrupt(["import", file], env("nobody"), (_text, interrupt) => interrupt());
    expect(stopped.code).toBe(exitCodes.interrupted);
    expect(lines(stopped.stdout)).toHaveLength(1);
    expect(stopped.stderr).toBe("stopping: after the conversation being imported (Ctrl-C again quits)\nImported 1 of 3 conversations; stopped before line 2 (interrupted)\n");
    expect((await clientOf("nobody").conversations.list()).length).toBe(before + 1);
  });

  it("a single JSON export (pretty-printed or on one line) imports as before; a file that is neither is refused in the server's words", async () => {
    const exported = (await clientOf("source").conversations.export(sourceIds[0]!)).content;
    const here = freshDir();
    for (const content of [JSON.stringify(JSON.parse(exported), null, 2), `${JSON.stringify(JSON.parse(exported))}\n`, `\uFEFF${exported}`]) {
      const file = join(here, "chat.json");
      writeFileSync(file, content);
      const imported = await run(["import", file], env("single"));
      const id = imported.stdout.trim();
      expect(id).toMatch(uuid);
      expect(imported).toEqual({ code: exitCodes.ok, stdout: `${id}\n`, stderr: `Imported as a new conversation (continue it with: chat --conversation ${id}).\n` });
      rmSync(file);
    }
    // Two lines that are not both JSON objects: one file, refused whole as before (nothing imported line by line).
    for (const [content, reason] of [
      ["not json\n{}\n", "it is not JSON"],
      ['{"format":"streamchat.conversation"}\n[1, 2]\n', "it is not JSON"],
    ] as const) {
      const refused = await run(["import", "-"], env("single"), content);
      expect(refused).toMatchObject({ code: exitCodes.failed, stdout: "" });
      expect(refused.stderr).toBe(`error: bad_request — This file is not a conversation exported from this app (${reason}).\n`);
    }
  });
});
