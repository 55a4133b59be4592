import { createServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, beforeAll, describe, it } from "vitest";
import { chatEventSchema, type ChatEvent } from "@streamchat/core";
import { startTcpRelay } from "@streamchat/core/test-support";
import { createChatClient } from "./client.js";
import { startApi, type TestApi } from "./test-support/api.js";
import { drain, runStart, text } from "./test-support/events.js";
import { spawnCli } from "./test-support/spawn-cli.js";

const parseNdjson = (stdout: string): ChatEvent[] =>
  stdout
    .trimEnd()
    .split("\n")
    .map((line) => chatEventSchema.parse(JSON.parse(line)));


// Real processes (exit codes, signals, stdin), started as `pnpm chat` does: node + tsx. Each start costs a
// second or more of CPU, so the tests run concurrently and wait generously; cli/main.test.ts covers the rest
// in-process.
describe.concurrent("chat CLI process", { timeout: 90_000 }, () => {
  let api: TestApi;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await startApi();
    env = { CHAT_URL: api.url };
  });
  afterAll(async () => {
    await api?.close();
  });

  it("--json prints one parseable event per line, run-start first and done last", async ({ expect }) => {
    const { code, stdout, stderr } = await spawnCli(["--json", "What is 12*7?"], env).exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const events = parseNdjson(stdout);
    expect(events[0]?.type).toBe("run-start");
    expect(events.at(-1)).toMatchObject({ type: "done", reason: "stop" });
    expect(events.find((e) => e.type === "tool-call")).toMatchObject({ name: "calculator" });
    expect(text(events)).toContain("84");
  });

  it("exits 1 with the error code on stderr when the run fails", async ({ expect }) => {
    const { code, stdout, stderr } = await spawnCli(["--model", "sim-not-found", "Hello"], env).exited;
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^error: model_not_found — .+\n$/);
  });

  it("exits 2 on usage errors", async ({ expect }) => {
    const bad = await spawnCli(["--modle", "demo", "Hello"], env).exited;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`chat: unknown option --modle (a question that starts with "-" goes after "--": chat -- "--modle") — see chat --help\n`);
  });

  it("Ctrl-C cancels the run on the server and exits 130", async ({ expect }) => {
    const control = api.sim.control({ lastUserIncludes: "interrupt-me" });
    const cli = spawnCli(["--json", "please interrupt-me"], env);
    await control.connected;
    await control.push({ content: "first-token" });
    await cli.waitForStdout("first-token");
    cli.child.kill("SIGINT");
    const { code, stdout } = await cli.exited;
    expect(code).toBe(130);
    await control.closedByClient;
    const { runId, conversationId } = runStart(parseNdjson(stdout));
    const client = createChatClient({ url: api.url });
    expect((await drain(client.events(runId))).at(-1)).toMatchObject({ type: "done", reason: "cancelled" });
    const conversation = await client.conversations.get(conversationId);
    expect(conversation.runs.map((r) => r.reason)).toEqual(["cancelled"]);
  });

  it("Ctrl-C while the server has not answered the question: says it waits to cancel the run; a second Ctrl-C exits 130 at once, none exits 130 after the grace", async ({ expect }) => {
    // A server that takes the connection and the request, and never answers (hung, or stuck behind a proxy).
    let requested = 0;
    let onRequest = () => {};
    const sockets = new Set<Socket>();
    const hung = createServer((socket) => {
      sockets.add(socket);
      socket.on("data", () => {
        requested++;
        onRequest();
      });
    });
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const arrived = (n: number) => new Promise<void>((resolve) => (onRequest = () => requested >= n && resolve()));
    try {
      const waitingForSecond = arrived(1);
      const twice = spawnCli(["--url", url, "Hello"], env);
      await waitingForSecond;
      twice.child.kill("SIGINT");
      await twice.waitForStderr("stopping: waiting for the server to name the run");
      twice.child.kill("SIGINT");
      const quit = await Promise.race([
        twice.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("still running 5 s after the second Ctrl-C")), 5000)),
      ]);
      expect(quit.code).toBe(130);

      const waitingForOnce = arrived(2);
      const once = spawnCli(["--url", url, "Hello"], env);
      await waitingForOnce;
      once.child.kill("SIGINT");
      const { code, stderr } = await Promise.race([
        once.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("still running 20 s after Ctrl-C")), 20_000)),
      ]);
      expect({ code, stderr }).toEqual({ code: 130, stderr: "stopping: waiting for the server to name the run, to cancel it (Ctrl-C again quits)\n" });
    } finally {
      for (const socket of sockets) socket.destroy();
      hung.close();
    }
  });

  it("Ctrl-C before the server answered the question: the run it started all the same is cancelled once the answer comes", async ({ expect }) => {
    const relay = await startTcpRelay(api.url);
    try {
      const control = api.sim.control({ lastUserIncludes: "late-answer" });
      // The server starts the run, and its answer to the question is held back (a slow network, a busy proxy).
      relay.freeze();
      const cli = spawnCli(["--url", relay.url.replace(/\/$/, ""), "--json", "please late-answer"], env);
      await control.connected;
      cli.child.kill("SIGINT");
      // (A CLI that exits at once never sees the answer.)
      await Promise.race([cli.waitForStderr("stopping: waiting for the server to name the run"), cli.exited]);
      relay.thaw();
      const { code } = await cli.exited;
      expect(code).toBe(130);
      // The run was cancelled, not left answering for nobody, and its model request stopped.
      const client = createChatClient({ url: api.url });
      const [hit] = await client.conversations.search("please late-answer");
      const reasons = async () => (await client.conversations.get(hit!.conversationId)).runs.map((r) => r.reason);
      await expect.poll(reasons, { timeout: 10_000 }).toEqual(["cancelled"]);
      await control.closedByClient;
    } finally {
      await relay.close();
    }
  });

  it("SIGTERM (timeout, kill, a CI job stopped) cancels the run on the server and exits 143", async ({ expect }) => {
    const control = api.sim.control({ lastUserIncludes: "terminate-me" });
    const cli = spawnCli(["--json", "please terminate-me"], env);
    await control.connected;
    await control.push({ content: "first-token" });
    await cli.waitForStdout("first-token");
    cli.child.kill("SIGTERM");
    const { code, stdout } = await cli.exited;
    expect(code).toBe(143);
    await control.closedByClient;
    const { runId } = runStart(parseNdjson(stdout));
    expect((await drain(createChatClient({ url: api.url }).events(runId))).at(-1)).toMatchObject({ type: "done", reason: "cancelled" });
  });

  it("SIGHUP (the terminal closed) cancels the run on the server and exits 129", async ({ expect }) => {
    const control = api.sim.control({ lastUserIncludes: "hang-up-on-me" });
    const cli = spawnCli(["--json", "please hang-up-on-me"], env);
    await control.connected;
    await control.push({ content: "first-token" });
    await cli.waitForStdout("first-token");
    cli.child.kill("SIGHUP");
    const { code, signal, stdout } = await cli.exited;
    expect({ code, signal }).toEqual({ code: 129, signal: null });
    await control.closedByClient;
    const { runId, conversationId } = runStart(parseNdjson(stdout));
    const client = createChatClient({ url: api.url });
    expect((await drain(client.events(runId))).at(-1)).toMatchObject({ type: "done", reason: "cancelled" });
    expect((await client.conversations.get(conversationId)).runs.map((r) => r.reason)).toEqual(["cancelled"]);
  });

  // Questions piped in are a script: SIGTERM and Ctrl-C alike cancel the answer and stop it, with the signal's exit code.
  it.for([
    { signal: "SIGTERM", code: 143, tag: "repl-terminate" },
    { signal: "SIGINT", code: 130, tag: "repl-ctrl-c" },
  ] as const)("$signal with questions piped in: the answer is cancelled, no later question is asked, exit $code", async ({ signal, code: exitCode, tag }, { expect }) => {
    const control = api.sim.control({ lastUserIncludes: tag });
    const cli = spawnCli(["--json"], env, `please ${tag}\nWhat is 2+3?\nHello\n`);
    await control.connected;
    await control.push({ content: "first-token" });
    await cli.waitForStdout("first-token");
    const { conversationId } = runStart(parseNdjson(cli.stdout().slice(0, cli.stdout().lastIndexOf("\n"))));
    cli.child.kill(signal);
    const { code } = await cli.exited;
    expect(code).toBe(exitCode);
    await control.closedByClient;
    const conversation = await createChatClient({ url: api.url }).conversations.get(conversationId);
    expect(conversation.runs.map((r) => r.reason)).toEqual(["cancelled"]);
    expect(conversation.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([`please ${tag}`]);
  });

  it("a reader of stdout that leaves (| head -1) stops the answer on the server, quietly", async ({ expect }) => {
    const control = api.sim.control({ lastUserIncludes: "read-one-line" });
    const cli = spawnCli(["--json", "please read-one-line"], env);
    await control.connected;
    await control.push({ content: "first-token" });
    await cli.waitForStdout("first-token");
    const { runId } = runStart(parseNdjson(cli.stdout().slice(0, cli.stdout().lastIndexOf("\n"))));
    cli.child.stdout.destroy(); // what head does after its line
    await control.push({ content: "nobody reads this" });
    await control.closedByClient;
    const { code, stderr } = await cli.exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const client = createChatClient({ url: api.url });
    expect((await drain(client.events(runId))).at(-1)).toMatchObject({ type: "done", reason: "cancelled" });
  });

  it("a reader of stdout that leaves in interactive mode: the answer stops and no question piped in after it is asked", async ({ expect }) => {
    const control = api.sim.control({ lastUserIncludes: "repl-reader-leaves" });
    const cli = spawnCli(["--json"], env, "please repl-reader-leaves\nWhat is 2+3?\nHello\n");
    await control.connected;
    await control.push({ content: "first-token" });
    await cli.waitForStdout("first-token");
    const { conversationId } = runStart(parseNdjson(cli.stdout().slice(0, cli.stdout().lastIndexOf("\n"))));
    cli.child.stdout.destroy();
    // The next write finds the pipe closed.
    await control.push({ content: "nobody reads this" });
    await control.closedByClient;
    const { code, stderr } = await cli.exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const conversation = await createChatClient({ url: api.url }).conversations.get(conversationId);
    expect(conversation.runs.map((r) => r.reason)).toEqual(["cancelled"]);
    expect(conversation.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["please repl-reader-leaves"]);
  });

  it("interactive mode keeps the conversation between turns until /new", async ({ expect }) => {
    const { code, stdout, stderr } = await spawnCli(["--json"], env, "Hello\nWhat is 2+3?\n/new\nHello again\n/exit\n").exited;
    expect(stderr).toBe("(new conversation)\n");
    expect(code).toBe(0);
    const starts = parseNdjson(stdout).filter((e) => e.type === "run-start");
    expect(starts).toHaveLength(3);
    const [first, second, third] = starts;
    expect(second?.conversationId).toBe(first?.conversationId);
    expect(third?.conversationId).not.toBe(first?.conversationId);
    const conversation = await createChatClient({ url: api.url }).conversations.get(first!.conversationId);
    expect(conversation.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([
      "Hello",
      "What is 2+3?",
    ]);
  });

  it("chat list, chat search and chat models print their lines on stdout and exit 0; none found is a line on stderr", async ({ expect }) => {
    const { conversationId } = await createChatClient({ url: api.url }).complete("Process-listed question");
    // Other tests add conversations meanwhile: the whole list, which holds this one.
    const [listed, found, none, models] = await Promise.all([
      spawnCli(["list", "--json", "--limit", "500"], env).exited,
      spawnCli(["search", "process-listed"], env).exited,
      spawnCli(["search", "no-such-words-anywhere"], env).exited,
      spawnCli(["models"], env).exited,
    ]);
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: "" });
    const ids = listed.stdout.trimEnd().split("\n").map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toContain(conversationId);
    expect({ code: found.code, stderr: found.stderr }).toEqual({ code: 0, stderr: "" });
    // The question and the answer that repeats it, newest first; not a terminal: each line whole, not shortened.
    const hits = found.stdout.trimEnd().split("\n");
    expect(hits).toHaveLength(2);
    expect(hits[1]).toBe(`${conversationId}  Process-listed question — Process-listed question`);
    expect(hits[0]).toMatch(new RegExp(`^${conversationId}  Process-listed question — .*\\*\\*Process-listed question\\*\\*.{20,}`));
    expect(none).toMatchObject({ code: 0, stdout: "", stderr: 'No message contains "no-such-words-anywhere".\n' });
    expect({ code: models.code, stderr: models.stderr }).toEqual({ code: 0, stderr: "" });
    expect(models.stdout).toMatch(/^\S+ \(default\) {2}/m);
    expect(models.stdout).toMatch(/^gpt-oss +uses tools · thinks \(low, medium, high\) · 128K context$/m);
  });
});
