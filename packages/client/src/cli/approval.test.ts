import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "@streamchat/core";
import { createChatClient } from "../client.js";
import type { EventOf } from "@streamchat/core";
import { startApi, type TestApi } from "../test-support/api.js";
import { startOlderApi } from "../test-support/older-api.js";
import { approvalQuestion, isYes } from "./approval-prompt.js";
import { ApprovalQuestions } from "./approval-questions.js";
import { exitCodes, runCli } from "./main.js";

// The CLI's y/N prompt for tool calls that need approval, against the real API (a tool of the test's own that asks).

const archived: string[] = [];
const archive = defineTool({
  name: "archive_file",
  description: "Archives a file",
  input: z.object({ path: z.string() }),
  requiresApproval: true,
  execute: async ({ path }) => {
    archived.push(path);
    return { archived: path };
  },
});

let api: TestApi;
beforeAll(async () => {
  api = await startApi({}, { extraTools: [archive] });
});
afterAll(() => api?.close());

/** runCli with `input` as the whole of stdin (ended after it). */
async function run(argv: string[], input: string | undefined) {
  const stdin = new PassThrough();
  if (input !== undefined) stdin.end(input);
  else stdin.end();
  let stdout = "";
  let stderr = "";
  const code = await runCli(["--url", api.url, ...argv], {
    stdin,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    onInterrupt: () => () => {},
    exit: (c) => {
      throw new Error(`unexpected exit ${c}`);
    },
  });
  return { code, stdout, stderr };
}

const ask = (path: string) => `use the archive_file tool with {"path":"${path}"}`;

describe("chat CLI approval prompt", () => {
  it("asks y/N with the tool and its arguments; y runs the tool and the answer follows", async () => {
    const { code, stdout, stderr } = await run([ask("yes.txt")], "y\n");
    expect(stderr).toContain('? The model wants to run archive_file (built-in tool) with {"path":"yes.txt"}\n  Archives a file\n  Approve? [y/N] ');
    expect(stderr).toMatch(/→ archive_file \{"path":"yes.txt"\} ✓ \d+ ms/);
    expect(code).toBe(exitCodes.ok);
    expect(stdout.length).toBeGreaterThan(1);
    expect(archived).toContain("yes.txt");
  });

  it("denies on anything but yes: tool_denied is printed and the model's answer continues", async () => {
    const { code, stdout, stderr } = await run([ask("no.txt")], "\n");
    expect(stderr).toContain("Approve? [y/N] ");
    expect(stderr).toMatch(/→ archive_file \{"path":"no.txt"\} ✗ tool_denied — The user denied the call to archive_file/);
    expect(stdout).toContain("I did not use archive_file");
    expect(code).toBe(exitCodes.ok);
    expect(archived).not.toContain("no.txt");
  });

  it("denies when input ends before an answer (a piped question cannot approve by accident)", async () => {
    const { code, stderr } = await run([ask("eof.txt")], undefined);
    expect(stderr).toContain("Approve? [y/N] ");
    expect(stderr).toContain("✗ tool_denied");
    expect(code).toBe(exitCodes.ok);
    expect(archived).not.toContain("eof.txt");
  });

  it("denies when a pipe that is no terminal stays open without an answer: no wait for the run's approval timeout", async () => {
    // A program running chat (execFile, a CI step) gives it a pipe it never writes to and never ends.
    const stdin = new PassThrough();
    let stdout = "";
    let stderr = "";
    const code = await runCli(["--url", api.url, ask("open-pipe.txt")], {
      stdin,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      onInterrupt: () => () => {},
      exit: (c) => {
        throw new Error(`unexpected exit ${c}`);
      },
      pipedAnswerWaitMs: 300,
    });
    expect(stderr).toContain(
      "Approve? [y/N] \n(no answer within 300 ms on input that is no terminal: denied — pipe the answer in, or pass --auto-deny)\n",
    );
    expect(stderr).toMatch(/→ archive_file \{"path":"open-pipe.txt"\} ✗ tool_denied/);
    expect(stdout).toContain("I did not use archive_file");
    expect(code).toBe(exitCodes.ok);
    expect(archived).not.toContain("open-pipe.txt");
    stdin.end();
  });

  it("--approval-wait and CHAT_APPROVAL_WAIT set that wait for a pipe that stays open", async () => {
    const openPipe = async (argv: string[], env: Record<string, string>) => {
      const stdin = new PassThrough();
      let stderr = "";
      const code = await runCli(["--url", api.url, ...argv], {
        stdin,
        stdout: { write: () => {} },
        stderr: { write: (text: string) => (stderr += text) },
        env,
        onInterrupt: () => () => {},
        exit: (c) => {
          throw new Error(`unexpected exit ${c}`);
        },
      });
      stdin.end();
      return { code, stderr };
    };
    const byFlag = await openPipe(["--approval-wait", "0.3", ask("flag-wait.txt")], { CHAT_APPROVAL_WAIT: "120" });
    expect(byFlag.stderr).toContain("Approve? [y/N] \n(no answer within 300 ms on input that is no terminal: denied");
    expect(byFlag.code).toBe(exitCodes.ok);
    const byEnv = await openPipe([ask("env-wait.txt")], { CHAT_APPROVAL_WAIT: "0.25" });
    expect(byEnv.stderr).toContain("Approve? [y/N] \n(no answer within 250 ms on input that is no terminal: denied");
    expect(byEnv.code).toBe(exitCodes.ok);
    expect(archived).not.toContain("flag-wait.txt");
    expect(archived).not.toContain("env-wait.txt");
  });

  it("ends the question's line after an answer piped in, which no terminal echoed", async () => {
    const approved = await run([ask("piped-yes.txt")], "y\n");
    expect(approved.stderr).toMatch(/Approve\? \[y\/N\] \n→ archive_file \{"path":"piped-yes.txt"\} ✓/);
    const denied = await run([ask("piped-no.txt")], "n\n");
    expect(denied.stderr).toMatch(/Approve\? \[y\/N\] \n→ archive_file \{"path":"piped-no.txt"\} ✗ tool_denied/);
  });

  it("shortens long arguments in the question and the tool line on whole characters (no U+FFFD)", async () => {
    // 😀 (two UTF-16 units) right where the question (500) and the tool line (200) cut; `{"path":"` is 9 long.
    const question = await run([ask(`${"b".repeat(489)}😀tail`)], "n\n");
    expect(question.stderr).toContain(`with {"path":"${"b".repeat(489)}…\n`);
    const toolLine = await run([ask(`${"a".repeat(189)}😀tail`)], "n\n");
    expect(toolLine.stderr).toContain(`→ archive_file {"path":"${"a".repeat(189)}… ✗ tool_denied`);
    for (const { stderr } of [question, toolLine]) expect(Buffer.from(stderr).toString()).toBe(stderr);
  });

  it("--auto-deny denies without asking", async () => {
    const { code, stdout, stderr } = await run(["--auto-deny", ask("auto.txt")], "y\n");
    expect(stderr).not.toContain("Approve?");
    expect(stderr).toContain("→ archive_file: denied (--auto-deny)");
    expect(stderr).toContain("✗ tool_denied");
    expect(stdout).toContain("I did not use archive_file");
    expect(code).toBe(exitCodes.ok);
    expect(archived).not.toContain("auto.txt");
  });

  it("asks in interactive mode too, reading the answer from the same input as the questions", async () => {
    const { code, stderr } = await run([], `${ask("repl.txt")}\ny\n/exit\n`);
    expect(stderr).toContain("Approve? [y/N] ");
    expect(stderr).toMatch(/→ archive_file \{"path":"repl.txt"\} ✓/);
    expect(code).toBe(exitCodes.ok);
    expect(archived).toContain("repl.txt");
  });
});

/** Polls `check` until it holds (or fails after `ms`): what the CLI printed is read while it runs. */
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("chat CLI approval prompt when another client decides first", () => {
  it("stops asking, says so, and takes the next line typed as the next command, not as the answer", async () => {
    const stdin = new PassThrough();
    let stderr = "";
    const exit = runCli(["--url", api.url], {
      stdin,
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      onInterrupt: () => () => {},
      exit: (c) => {
        throw new Error(`unexpected exit ${c}`);
      },
      // The question must stay open until the other client decides.
      pipedAnswerWaitMs: 120_000,
    });
    stdin.write(`${ask("elsewhere.txt")}\n`);
    await until(() => stderr.includes("Approve? [y/N] "));

    // Another tab of the same user approves the call.
    const other = createChatClient({ url: api.url });
    let runId: string | null = null;
    for (const conversation of await other.conversations.list()) {
      runId ??= (await other.conversations.get(conversation.id)).activeRunId;
    }
    expect(runId).toBeTruthy();
    let callId: string | undefined;
    for await (const event of other.events(runId!)) {
      if (event.type === "approval-request") {
        callId = event.callId;
        break;
      }
    }
    await other.approve(runId!, callId!, true);

    await until(() => /✓/.test(stderr));
    expect(stderr).toContain("Approve? [y/N] \n(archive_file: approved elsewhere)\n");
    expect(archived).toContain("elsewhere.txt");
    // The prompt gave up its read: "/exit" reaches the command loop and the CLI leaves.
    stdin.write("/exit\n");
    expect(await exit).toBe(exitCodes.ok);
    expect(stderr).not.toContain("already decided");
  });
});

/**
 * The CLI's questions for `request`, with the answer typed only when the test calls `type`: what happens between the
 * question and the answer (another client deciding) is the test's. The run's stream is not fed to the questions, as
 * when the other decision's approval-result has not reached the CLI yet: its own decision is sent and refused.
 */
function questionsFor(client: ReturnType<typeof createChatClient>, request: EventOf<"approval-request">) {
  let stderr = "";
  let type: (line: string) => void = () => {};
  const typed = new Promise<string>((resolve) => (type = resolve));
  const questions = new ApprovalQuestions({
    client,
    nextLine: () => typed,
    stderr: { write: (text: string) => (stderr += text) },
    autoDeny: false,
    inputEchoed: false,
    signal: new AbortController().signal,
  });
  questions.request(request);
  return { questions, type, stderr: () => stderr };
}

/** Starts a run that asks for approval, and its approval-request. */
async function approvalRequest(client: ReturnType<typeof createChatClient>, path: string): Promise<EventOf<"approval-request">> {
  const { runId } = await client.send(ask(path));
  for await (const event of client.events(runId)) if (event.type === "approval-request") return event;
  throw new Error("the run asked nothing");
}

describe("chat CLI approval prompt when its decision loses to another", () => {
  it.each([
    { won: "approve", answer: "n", path: "lost-to-approve.txt", says: "(archive_file: already approved elsewhere)\n" },
    { won: "deny", answer: "y", path: "lost-to-deny.txt", says: "(archive_file: already denied elsewhere)\n" },
    { won: "cancel", answer: "y", path: "lost-to-cancel.txt", says: "(archive_file: the answer has ended)\n" },
  ])("says in plain words what won when another client's $won came first", async ({ won, answer, path, says }) => {
    const cli = createChatClient({ url: api.url });
    const request = await approvalRequest(cli, path);
    const asked = questionsFor(cli, request);
    await until(() => asked.stderr().includes("Approve? [y/N] "));

    const other = createChatClient({ url: api.url });
    if (won === "cancel") await other.cancel(request.runId);
    else await other.approve(request.runId, request.callId, won === "approve");
    // The run acted on the other decision (approve() answers then); a cancelled run is over once its done is out.
    if (won === "cancel") for await (const event of other.events(request.runId)) if (event.type === "done") break;
    asked.type(answer);
    await asked.questions.settled();

    expect(asked.stderr()).toContain(`Approve? [y/N] \n${says}`);
    expect(asked.questions.failure).toBeUndefined();
    // The run went on with the decision that won; it ends before the next test looks for a run waiting for approval.
    for await (const event of other.events(request.runId)) if (event.type === "done") break;
    expect(archived.includes(path)).toBe(won === "approve");
  });

  it("keeps the server's own sentence when it does not say what won (an older server)", async () => {
    const older = await startOlderApi();
    try {
      const request: EventOf<"approval-request"> = {
        type: "approval-request",
        runId: "r",
        at: 0,
        callId: "c",
        name: "archive_file",
        args: { path: "older.txt" },
        source: "builtin",
        expiresAt: Date.now() + 60_000,
      };
      const asked = questionsFor(createChatClient({ url: older.url }), request);
      asked.type("n");
      await asked.questions.settled();
      expect(asked.stderr()).toContain("Approve? [y/N] \n(This call was already approved.)\n");
      expect(asked.questions.failure).toBeUndefined();
    } finally {
      await older.close();
    }
  });
});

describe("approval prompt helpers", () => {
  it("only y or yes approves", () => {
    for (const yes of ["y", "Y", "yes", " YES "]) expect(isYes(yes)).toBe(true);
    for (const no of ["", "n", "no", "yep", "y es", undefined]) expect(isYes(no)).toBe(false);
  });

  it("names the MCP server of an MCP tool", () => {
    const question = approvalQuestion({ type: "approval-request", runId: "r", at: 0, callId: "c", name: "files__write", args: { path: "x" }, source: "files", expiresAt: 1 });
    expect(question).toBe('? The model wants to run files__write (MCP server "files") with {"path":"x"}\n  Approve? [y/N] ');
  });
});
