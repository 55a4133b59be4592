import { describe, expect, it } from "vitest";
import { defaultUrl, listLimits, parseCliArgs, searchLimits, usage } from "./args.js";

describe("parseCliArgs", () => {
  it("joins positionals into the question and reads defaults from the environment", () => {
    expect(parseCliArgs(["what", "is", "2+2"], { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "tok" })).toEqual({
      kind: "run",
      options: {
        question: "what is 2+2",
        continueAnswer: false,
        model: undefined,
        conversationId: undefined,
        url: "http://127.0.0.1:4000",
        token: "tok",
        json: false,
        autoDeny: false,
        images: [],
        files: [],
        think: undefined,
        usage: undefined,
        approvalWaitMs: undefined,
      },
    });
  });

  it("prefers flags over the environment", () => {
    const parsed = parseCliArgs(
      ["-m", "qwen3", "--conversation", "c1", "--url", "http://127.0.0.1:5000/", "--token", "flag", "--json", "--auto-deny", "hi"],
      { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "env" },
    );
    expect(parsed).toEqual({
      kind: "run",
      options: { question: "hi", continueAnswer: false, model: "qwen3", conversationId: "c1", url: "http://127.0.0.1:5000/", token: "flag", json: true, autoDeny: true, images: [], files: [], think: undefined, usage: undefined, approvalWaitMs: undefined },
    });
  });

  it("--continue: the conversation to write on in, no question, nothing attached, no other command", () => {
    expect(parseCliArgs(["--continue", "-c", "c1"], {})).toMatchObject({ kind: "run", options: { continueAnswer: true, conversationId: "c1", question: undefined } });
    const message = (argv: string[]) => {
      const parsed = parseCliArgs(argv, {});
      return parsed.kind === "usage-error" ? parsed.message : `not a usage error: ${parsed.kind}`;
    };
    expect(message(["--continue"])).toBe("--continue needs the conversation (-c <conversation-id>)");
    expect(message(["--continue", "-c", "c1", "more please"])).toBe("--continue takes no question: it writes on from the answer the conversation ends with");
    expect(message(["--continue", "-c", "c1", "--file", "notes.txt"])).toBe("--continue sends no message, so no --image or --file");
    expect(message(["list", "--continue"])).toBe("--continue is an option of chat -c <conversation-id>, not of chat list");
  });

  it("--instructions: a new conversation's own instructions, not with -c and not on a command", () => {
    expect(parseCliArgs(["--instructions", "Answer in haiku.", "Hello"], {})).toMatchObject({
      kind: "run",
      options: { instructions: "Answer in haiku.", question: "Hello", conversationId: undefined },
    });
    expect(parseCliArgs(["Hello"], {})).toMatchObject({ kind: "run", options: { instructions: undefined } });
    const message = (argv: string[]) => {
      const parsed = parseCliArgs(argv, {});
      return parsed.kind === "usage-error" ? parsed.message : `not a usage error: ${parsed.kind}`;
    };
    expect(message(["-c", "c1", "--instructions", "Other.", "Hello"])).toBe('--instructions go with a new conversation; for this one: chat instructions -c c1 "…"');
    expect(message(["--instructions", " ", "Hello"])).toBe("--instructions needs a value");
    expect(message(["list", "--instructions", "x"])).toBe("--instructions is not an option of chat list");
  });

  it("--temperature, --top-p, --seed with a question: a new conversation's sampling, not with -c and not on a command", () => {
    expect(parseCliArgs(["--temperature", "0.2", "--top-p", "0.9", "--seed", "42", "Hello"], {})).toMatchObject({
      kind: "run",
      options: { sampling: { temperature: 0.2, topP: 0.9, seed: 42 }, question: "Hello", conversationId: undefined },
    });
    // Those not given are the model's own (null); none given: no sampling of its own at all.
    expect(parseCliArgs(["--seed=7", "Hello"], {})).toMatchObject({ kind: "run", options: { sampling: { temperature: null, topP: null, seed: 7 } } });
    expect(parseCliArgs(["Hello"], {})).toMatchObject({ kind: "run", options: { sampling: undefined } });
    // default (any case) is the model's own: for a new conversation the same as leaving the option out.
    expect(parseCliArgs(["--temperature", "Default", "--top-p", "0.5", "Hello"], {})).toMatchObject({
      kind: "run",
      options: { sampling: { temperature: null, topP: 0.5, seed: null } },
    });
    // With --instructions, and in interactive mode (no question), where the session's first conversation takes them.
    expect(parseCliArgs(["--instructions", "Answer in haiku.", "--temperature", "1.5", "Hello"], {})).toMatchObject({
      kind: "run",
      options: { instructions: "Answer in haiku.", sampling: { temperature: 1.5, topP: null, seed: null }, question: "Hello" },
    });
    expect(parseCliArgs(["--top-p", "0.9"], {})).toMatchObject({ kind: "run", options: { question: undefined, sampling: { temperature: null, topP: 0.9, seed: null } } });

    const message = (argv: string[]) => {
      const parsed = parseCliArgs(argv, {});
      return parsed.kind === "usage-error" ? parsed.message : `not a usage error: ${parsed.kind}`;
    };
    // Checked as chat sampling checks them, with the same words.
    expect(message(["--top-p=0", "Hello"])).toBe('--top-p must be a number above 0, at most 1, or default (got "0")');
    expect(message(["--seed", "1.5", "Hello"])).toBe('--seed must be a whole number from 0 to 2147483647, or default (got "1.5")');
    expect(message(["--temperature", " ", "Hello"])).toBe("--temperature needs a value (a number from 0 to 2, or default)");
    // An existing conversation's sampling is chat sampling's to change: the command that would, with the values given.
    expect(message(["-c", "c1", "--temperature", "0.2", "--seed", "default", "Hello"])).toBe(
      "--temperature, --seed go with a new conversation; to change this one's sampling, use chat sampling -c c1 --temperature 0.2 --seed default",
    );
    expect(message(["-c", "c1", "--top-p", "0.9"])).toBe("--top-p goes with a new conversation; to change this one's sampling, use chat sampling -c c1 --top-p 0.9");
    expect(message(["--continue", "-c", "c1", "--seed", "42"])).toBe("--seed goes with a new conversation; to change this one's sampling, use chat sampling -c c1 --seed 42");
    for (const [argv, option] of [
      [["list", "--temperature", "0.2"], "temperature"],
      [["export", "c1", "--seed", "1"], "seed"],
      [["import", "chat.json", "--top-p", "0.9"], "top-p"],
      [["instructions", "-c", "c1", "--temperature", "0.2"], "temperature"],
    ] as const) {
      expect(message([...argv]), argv.join(" ")).toBe(`--${option} is an option of chat sampling`);
    }
    expect(usage).toMatch(/^Usage: chat \[--instructions <text>\] \[--temperature <n>\] \[--top-p <n>\] \[--seed <n>\] \[options\] \[question\]$/m);
  });

  it("has no question in interactive mode and uses the default URL", () => {
    expect(parseCliArgs([], {})).toMatchObject({ kind: "run", options: { question: undefined, url: defaultUrl } });
  });

  it("reports usage errors", () => {
    expect(parseCliArgs(["--modle", "x", "hi"], {})).toMatchObject({ kind: "usage-error", message: expect.stringContaining("--modle") });
    expect(parseCliArgs(["--model"], {})).toMatchObject({ kind: "usage-error" });
    expect(parseCliArgs(["--url", "ftp://x", "hi"], {})).toMatchObject({ kind: "usage-error", message: expect.stringContaining("--url") });
    expect(parseCliArgs(["  "], {})).toMatchObject({ kind: "usage-error", message: "the question is empty" });
    expect(parseCliArgs(["--model", "", "hi"], {})).toMatchObject({ kind: "usage-error", message: "--model needs a value" });
  });

  it("words parseArgs' errors as one line naming the option as typed", () => {
    const message = (argv: string[]) => {
      const parsed = parseCliArgs(argv, {});
      return parsed.kind === "usage-error" ? parsed.message : `not a usage error: ${parsed.kind}`;
    };
    expect(message(["--bogus", "hi"])).toBe(`unknown option --bogus (a question that starts with "-" goes after "--": chat -- "--bogus")`);
    expect(message(["-m"])).toBe("--model needs a value");
    expect(message(["--json=yes", "hi"])).toBe("--json takes no value");
    expect(message(["-m", "--json", "hi"])).toBe(`--model needs a value (one that starts with "-" is written --model=-…)`);
    for (const argv of [["--bogus"], ["-x"], ["-m"], ["--think"], ["--json=1"], ["-m", "--json"], ["-c", "-m", "x"]]) {
      expect(message(argv)).not.toContain("\n");
    }
  });

  it("--no-usage turns the usage lines off (on by default in a terminal)", () => {
    expect(parseCliArgs(["--no-usage", "hi"], {})).toMatchObject({ kind: "run", options: { usage: false } });
    expect(parseCliArgs(["--usage", "hi"], {})).toMatchObject({ kind: "run", options: { usage: true } });
    expect(parseCliArgs(["hi"], {})).toMatchObject({ kind: "run", options: { usage: undefined } });
  });

  it("--approval-wait (or CHAT_APPROVAL_WAIT) sets how long a piped approval question waits, in seconds", () => {
    const waitMs = (argv: string[], env: Record<string, string> = {}) => {
      const parsed = parseCliArgs(argv, env);
      return parsed.kind === "run" ? parsed.options.approvalWaitMs : parsed;
    };
    expect(waitMs(["hi"])).toBeUndefined();
    expect(waitMs(["--approval-wait", "30", "hi"])).toBe(30_000);
    expect(waitMs(["--approval-wait=2.5", "hi"])).toBe(2500);
    expect(waitMs(["hi"], { CHAT_APPROVAL_WAIT: "0.25" })).toBe(250);
    expect(waitMs(["--approval-wait", "60", "hi"], { CHAT_APPROVAL_WAIT: "5" })).toBe(60_000);
    expect(waitMs(["hi"], { CHAT_APPROVAL_WAIT: "" })).toBeUndefined();
    expect(waitMs(["--approval-wait", "86400", "hi"])).toBe(86_400_000);
  });

  it("refuses an --approval-wait that is no positive number of seconds, saying which setting is wrong", () => {
    const limits = "must be a number of seconds above 0, at most 86400";
    for (const bad of ["0", "0.0", "-5", "abc", "1e3", "0x10", "Infinity", "86401", "10s"]) {
      expect(parseCliArgs([`--approval-wait=${bad}`, "hi"], {})).toEqual({
        kind: "usage-error",
        message: `--approval-wait ${limits} (got ${JSON.stringify(bad)}); to deny without asking, pass --auto-deny`,
      });
    }
    expect(parseCliArgs(["hi"], { CHAT_APPROVAL_WAIT: "never" })).toEqual({
      kind: "usage-error",
      message: `CHAT_APPROVAL_WAIT ${limits} (got "never"); to deny without asking, pass --auto-deny`,
    });
    expect(parseCliArgs(["--approval-wait", " ", "hi"], {})).toEqual({ kind: "usage-error", message: "--approval-wait needs a value" });
    expect(parseCliArgs(["--approval-wait"], {})).toEqual({ kind: "usage-error", message: "--approval-wait needs a value" });
    // Not read by the commands, which ask no approvals.
    expect(parseCliArgs(["export", "c1"], { CHAT_APPROVAL_WAIT: "never" })).toMatchObject({ kind: "export" });
  });

  it("shows help", () => {
    expect(parseCliArgs(["--help", "--bogus-ignored-after"], {})).toMatchObject({ kind: "usage-error" });
    expect(parseCliArgs(["-h"], {})).toEqual({ kind: "help" });
  });

  it("reads chat export and chat import", () => {
    const env = { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "tok" };
    expect(parseCliArgs(["export", "c1"], env)).toEqual({
      kind: "export",
      options: { conversationId: "c1", format: "json", output: undefined, url: "http://127.0.0.1:4000", token: "tok" },
    });
    expect(parseCliArgs(["--url", "http://127.0.0.1:5000", "export", "c1", "--format", "markdown", "-o", "out.md"], env)).toMatchObject({
      kind: "export",
      options: { conversationId: "c1", format: "markdown", output: "out.md", url: "http://127.0.0.1:5000" },
    });
    expect(parseCliArgs(["import", "chat.json", "-t", "flag"], env)).toEqual({
      kind: "import",
      options: { file: "chat.json", url: "http://127.0.0.1:4000", token: "flag" },
    });
    expect(parseCliArgs(["import", "-"], {})).toMatchObject({ kind: "import", options: { file: "-" } });
    // A question that merely starts with the word, quoted as one argument, is still a question.
    expect(parseCliArgs(["export my notes as a table"], {})).toMatchObject({ kind: "run", options: { question: "export my notes as a table" } });
  });

  it("reads chat export --all, with -o or without, and refuses it with an id, Markdown or on another command", () => {
    const env = { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "tok" };
    expect(parseCliArgs(["export", "--all"], env)).toEqual({
      kind: "export-all",
      options: { output: undefined, url: "http://127.0.0.1:4000", token: "tok" },
    });
    expect(parseCliArgs(["export", "--all", "-o", "all.jsonl", "--format", "json"], env)).toMatchObject({ kind: "export-all", options: { output: "all.jsonl" } });
    const error = (argv: string[]) => parseCliArgs(argv, {});
    expect(error(["export", "c1", "--all"])).toEqual({
      kind: "usage-error",
      message: 'chat export --all takes no conversation id (it exports every conversation; got "c1")',
    });
    expect(error(["export", "--all", "--format", "markdown"])).toEqual({
      kind: "usage-error",
      message: "--format markdown exports one conversation; chat export --all writes JSON Lines (each line one conversation's JSON export)",
    });
    expect(error(["export", "--all", "-f", "pdf"])).toEqual({ kind: "usage-error", message: '--format must be json or markdown (got "pdf")' });
    expect(error(["export", "--all", "-o", ""])).toEqual({ kind: "usage-error", message: "--output needs a file name" });
    expect(error(["import", "all.jsonl", "--all"])).toEqual({ kind: "usage-error", message: "--all is an option of chat export" });
    expect(error(["list", "--all"])).toEqual({ kind: "usage-error", message: "--all is an option of chat export" });
    expect(error(["--all", "hi"])).toEqual({ kind: "usage-error", message: "--all is an option of chat export" });
  });

  it("reports usage errors of the commands", () => {
    const error = (argv: string[]) => parseCliArgs(argv, {});
    expect(error(["export"])).toEqual({ kind: "usage-error", message: "chat export needs one conversation id (or --all for every conversation)" });
    expect(error(["export", "a", "b"])).toEqual({ kind: "usage-error", message: "chat export needs one conversation id (or --all for every conversation)" });
    expect(error(["export", "c1", "--format", "pdf"])).toEqual({ kind: "usage-error", message: '--format must be json or markdown (got "pdf")' });
    expect(error(["export", "c1", "-o", " "])).toEqual({ kind: "usage-error", message: "--output needs a file name" });
    expect(error(["export", "c1", "--model", "x"])).toEqual({ kind: "usage-error", message: "--model is not an option of chat export" });
    expect(error(["import"])).toEqual({ kind: "usage-error", message: "chat import needs one file (- for stdin)" });
    expect(error(["import", "a.json", "-o", "x"])).toEqual({ kind: "usage-error", message: "--output is an option of chat export" });
    expect(error(["--format", "json", "hi"])).toEqual({ kind: "usage-error", message: "--format is an option of chat export" });
  });

  it("reads chat instructions: print, set (one argument or stdin), --clear; refuses what would surprise", () => {
    const env = { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "tok" };
    expect(parseCliArgs(["instructions"], env)).toEqual({ kind: "instructions", options: { set: undefined, url: "http://127.0.0.1:4000", token: "tok" } });
    expect(parseCliArgs(["instructions", "Answer in French."], env)).toMatchObject({ kind: "instructions", options: { set: "Answer in French." } });
    expect(parseCliArgs(["instructions", "-"], env)).toMatchObject({ kind: "instructions", options: { set: "-" } });
    expect(parseCliArgs(["instructions", "--clear"], env)).toMatchObject({ kind: "instructions", options: { set: "" } });
    const error = (argv: string[]) => parseCliArgs(argv, {});
    // Unquoted words: likely a question, never saved as instructions.
    expect(error(["instructions", "for", "baking", "bread"])).toEqual({
      kind: "usage-error",
      message: 'chat instructions takes the new instructions as one quoted argument (a question: quote it whole, chat "instructions …")',
    });
    expect(parseCliArgs(["instructions for baking bread"], {})).toMatchObject({ kind: "run", options: { question: "instructions for baking bread" } });
    expect(error(["instructions", " "])).toEqual({ kind: "usage-error", message: "chat instructions --clear removes them" });
    expect(error(["instructions", "x", "--clear"])).toEqual({ kind: "usage-error", message: "chat instructions --clear takes no text" });
    expect(error(["--clear", "hi"])).toEqual({ kind: "usage-error", message: "--clear is an option of chat instructions" });
    expect(error(["export", "c1", "--clear"])).toEqual({ kind: "usage-error", message: "--clear is an option of chat instructions" });
    expect(error(["instructions", "-o", "x"])).toEqual({ kind: "usage-error", message: "--output is an option of chat export" });
    expect(error(["instructions", "-m", "x"])).toEqual({ kind: "usage-error", message: "--model is not an option of chat instructions" });
  });

  it("reads chat instructions -c: the conversation's own instructions, printed, set (argument or stdin) or cleared", () => {
    const env = { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "tok" };
    expect(parseCliArgs(["instructions", "-c", "c1"], env)).toEqual({
      kind: "instructions",
      options: { set: undefined, conversationId: "c1", url: "http://127.0.0.1:4000", token: "tok" },
    });
    expect(parseCliArgs(["instructions", "--conversation", "c1", "Answer in French."], env)).toMatchObject({
      kind: "instructions",
      options: { set: "Answer in French.", conversationId: "c1" },
    });
    // Options go anywhere, as for the other commands.
    expect(parseCliArgs(["-c", "c1", "instructions", "-"], env)).toMatchObject({ kind: "instructions", options: { set: "-", conversationId: "c1" } });
    expect(parseCliArgs(["instructions", "--clear", "--conversation=c1"], env)).toMatchObject({ kind: "instructions", options: { set: "", conversationId: "c1" } });
    // Without -c: the user's custom instructions, no conversation.
    const mine = parseCliArgs(["instructions", "Be brief."], env);
    expect(mine).toMatchObject({ kind: "instructions", options: { set: "Be brief." } });
    expect(mine.kind === "instructions" && mine.options.conversationId).toBeUndefined();

    const error = (argv: string[]) => parseCliArgs(argv, {});
    expect(error(["instructions", "-c", " "])).toEqual({ kind: "usage-error", message: "--conversation needs a value" });
    expect(error(["instructions", "-c"])).toEqual({ kind: "usage-error", message: "--conversation needs a value" });
    expect(error(["instructions", "-c", "c1", "x", "--clear"])).toEqual({ kind: "usage-error", message: "chat instructions -c <conversation-id> --clear takes no text" });
    expect(error(["instructions", "-c", "c1", " "])).toEqual({ kind: "usage-error", message: "chat instructions -c <conversation-id> --clear removes them" });
    expect(error(["instructions", "-c", "c1", "answer", "in", "French"])).toEqual({
      kind: "usage-error",
      message: 'chat instructions takes the new instructions as one quoted argument (a question: quote it whole, chat "instructions …")',
    });
    expect(error(["instructions", "-c", "c1", "-m", "x"])).toEqual({ kind: "usage-error", message: "--model is not an option of chat instructions" });
    // -c is still no option of the other commands, nor --clear one of a question in a conversation.
    expect(error(["export", "c1", "-c", "c2"])).toEqual({ kind: "usage-error", message: "--conversation is not an option of chat export" });
    expect(error(["-c", "c1", "--clear", "hi"])).toEqual({ kind: "usage-error", message: "--clear is an option of chat instructions" });
    // A quoted question that starts with the word is still a question in that conversation.
    expect(parseCliArgs(["-c", "c1", "instructions for baking bread"], {})).toMatchObject({
      kind: "run",
      options: { question: "instructions for baking bread", conversationId: "c1" },
    });
    expect(usage).toMatch(/^ {7}chat instructions \[-c <conversation-id>\] \["<text>" \| - \| --clear\] \[options\]$/m);
  });

  it("reads chat sampling -c: printed, the settings given changed (default: the model's), or all reset", () => {
    const env = { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "tok" };
    const server = { url: "http://127.0.0.1:4000", token: "tok" };
    // Without -c: the user's own, for every conversation that sets none.
    expect(parseCliArgs(["sampling"], env)).toEqual({ kind: "sampling", options: { ...server, set: {} } });
    expect(parseCliArgs(["sampling", "--temperature", "0.3", "--seed", "default"], env)).toEqual({ kind: "sampling", options: { ...server, set: { temperature: 0.3, seed: null } } });
    expect(parseCliArgs(["sampling", "--reset"], env)).toEqual({ kind: "sampling", options: { ...server, set: { temperature: null, topP: null, seed: null } } });
    expect(parseCliArgs(["sampling", "-c", "c1"], env)).toEqual({ kind: "sampling", options: { ...server, conversationId: "c1", set: {} } });
    expect(parseCliArgs(["sampling", "-c", "c1", "--temperature", "0.2", "--top-p=0.9", "--seed", "42"], env)).toEqual({
      kind: "sampling",
      options: { ...server, conversationId: "c1", set: { temperature: 0.2, topP: 0.9, seed: 42 } },
    });
    // Only those given change; "default" (any case) puts one back to the model's. Options go anywhere.
    expect(parseCliArgs(["--seed", "7", "--conversation=c1", "sampling", "--top-p", "DEFAULT"], env)).toEqual({
      kind: "sampling",
      options: { ...server, conversationId: "c1", set: { topP: null, seed: 7 } },
    });
    expect(parseCliArgs(["sampling", "-c", "c1", "--reset"], env)).toEqual({
      kind: "sampling",
      options: { ...server, conversationId: "c1", set: { temperature: null, topP: null, seed: null } },
    });
    // The limits' ends are settings too; decimals as a person writes them.
    for (const [argv, set] of [
      [["--temperature", "0"], { temperature: 0 }],
      [["--temperature", "2"], { temperature: 2 }],
      [["--temperature", " .5 "], { temperature: 0.5 }],
      [["--top-p", "1"], { topP: 1 }],
      [["--top-p", "0.01"], { topP: 0.01 }],
      [["--seed", "0"], { seed: 0 }],
      [["--seed", "2147483647"], { seed: 2_147_483_647 }],
    ] as const) {
      expect(parseCliArgs(["sampling", "-c", "c1", ...argv], {}), argv.join(" ")).toMatchObject({ kind: "sampling", options: { set } });
    }
    // A question that starts with the word, quoted whole, is still a question.
    expect(parseCliArgs(["sampling methods in statistics"], {})).toMatchObject({ kind: "run", options: { question: "sampling methods in statistics" } });
    expect(usage).toMatch(/^ {7}chat sampling \[-c <conversation-id>\] \[--temperature <n>\] \[--top-p <n>\] \[--seed <n>\] \[--reset\] \[options\]$/m);
    expect(usage).toMatch(/^ {6}--temperature <n> {6}sampling, a new conversation: 0 to 2 /m);
    expect(usage).toMatch(/^ {6}--reset {16}sampling: every setting back to its default$/m);
  });

  it("refuses chat sampling with an empty conversation, with values it cannot send, and its options on other commands", () => {
    const message = (argv: string[]) => {
      const parsed = parseCliArgs(argv, {});
      return parsed.kind === "usage-error" ? parsed.message : `not a usage error: ${parsed.kind}`;
    };
    expect(message(["sampling", "-c", " "])).toBe("--conversation needs a value");
    expect(message(["sampling", "-c", "c1", "0.2"])).toBe('chat sampling takes no words (a question: quote it whole, chat "sampling …")');
    for (const bad of ["2.01", "-1", "abc", "1e0", "0x1", "Infinity", "NaN", "1.2.3"]) {
      expect(message(["sampling", "-c", "c1", `--temperature=${bad}`])).toBe(`--temperature must be a number from 0 to 2, or default (got ${JSON.stringify(bad)})`);
    }
    for (const bad of ["0", "0.0", "1.01", "-0.5"]) {
      expect(message(["sampling", "-c", "c1", `--top-p=${bad}`])).toBe(`--top-p must be a number above 0, at most 1, or default (got ${JSON.stringify(bad)})`);
    }
    for (const bad of ["1.5", "-1", "2147483648", "99999999999999999999"]) {
      expect(message(["sampling", "-c", "c1", `--seed=${bad}`])).toBe(`--seed must be a whole number from 0 to 2147483647, or default (got ${JSON.stringify(bad)})`);
    }
    expect(message(["sampling", "-c", "c1", "--seed", " "])).toBe("--seed needs a value (a whole number from 0 to 2147483647, or default)");
    expect(message(["sampling", "-c", "c1", "--seed"])).toBe("--seed needs a value");
    // A negative number reads as an option unless written with "=": parseArgs says so.
    expect(message(["sampling", "-c", "c1", "--temperature", "-1"])).toBe('--temperature needs a value (one that starts with "-" is written --temperature=-…)');
    expect(message(["sampling", "-c", "c1", "--reset", "--seed", "42", "--top-p", "default"])).toBe("--reset puts every setting back to its default: not with --top-p, --seed");
    expect(message(["sampling", "--reset", "--temperature", "1"])).toBe("--reset puts every setting back to its default: not with --temperature");
    expect(message(["sampling", "0.2"])).toBe('chat sampling takes no words (a question: quote it whole, chat "sampling …")');
    expect(message(["sampling", "-c", "c1", "--reset=yes"])).toBe("--reset takes no value");
    // Nothing of the other commands.
    expect(message(["sampling", "-c", "c1", "--clear"])).toBe("--clear is an option of chat instructions");
    expect(message(["sampling", "-c", "c1", "-m", "x"])).toBe("--model is not an option of chat sampling");
    expect(message(["sampling", "-c", "c1", "--json"])).toBe("--json is not an option of chat sampling");

    // The settings go with chat sampling and a new conversation's question (below); --reset with chat sampling alone,
    // and none with another command.
    expect(message(["--reset"])).toBe("--reset is an option of chat sampling");
    expect(message(["--reset", "Hello"])).toBe("--reset is an option of chat sampling");
    expect(message(["instructions", "-c", "c1", "--temperature", "0.2"])).toBe("--temperature is an option of chat sampling");
    expect(message(["list", "--reset"])).toBe("--reset is an option of chat sampling");
    expect(message(["export", "c1", "--seed", "1"])).toBe("--seed is an option of chat sampling");
  });

  it("reads chat list, chat search and chat models with their defaults, --limit (-n) and --json", () => {
    const env = { CHAT_URL: "http://127.0.0.1:4000", CHAT_TOKEN: "tok" };
    const server = { url: "http://127.0.0.1:4000", token: "tok" };
    expect(parseCliArgs(["list"], env)).toEqual({ kind: "list", options: { ...server, limit: listLimits.default, json: false } });
    expect(parseCliArgs(["list", "--limit", "500", "--json"], env)).toEqual({ kind: "list", options: { ...server, limit: 500, json: true } });
    expect(parseCliArgs(["list", "--title", "  trip KYOTO "], env)).toEqual({ kind: "list", options: { ...server, limit: listLimits.default, json: false, title: "trip KYOTO" } });
    expect(parseCliArgs(["--title", "x", "what is 2+2?"], env)).toEqual({ kind: "usage-error", message: "--title is an option of chat list" });
    expect(parseCliArgs(["-n", "3", "list", "-t", "flag"], env)).toEqual({ kind: "list", options: { ...server, token: "flag", limit: 3, json: false } });
    expect(parseCliArgs(["search", "train", "to", "Lyon"], env)).toEqual({
      kind: "search",
      options: { ...server, query: "train to Lyon", limit: searchLimits.default, json: false },
    });
    expect(parseCliArgs(["search", "  Lyon ", "--limit=100", "--json", "--url", "http://127.0.0.1:5000"], env)).toEqual({
      kind: "search",
      options: { url: "http://127.0.0.1:5000", token: "tok", query: "Lyon", limit: 100, json: true },
    });
    // Words that start with "-" go after "--", as in a question.
    expect(parseCliArgs(["search", "--", "-v"], {})).toMatchObject({ kind: "search", options: { query: "-v" } });
    expect(parseCliArgs(["models"], env)).toEqual({ kind: "models", options: { ...server, json: false } });
    expect(parseCliArgs(["models", "--json"], {})).toEqual({ kind: "models", options: { url: defaultUrl, token: undefined, json: true } });
    // A question that merely starts with the word, quoted as one argument, is still a question.
    for (const question of ["list the planets", "search the web for me", "models of the atom"]) {
      expect(parseCliArgs([question], {})).toMatchObject({ kind: "run", options: { question } });
    }
  });

  it("reports usage errors of chat list, chat search and chat models, naming the option", () => {
    const error = (argv: string[]) => parseCliArgs(argv, {});
    for (const bad of ["0", "100001", "-1", "abc", "2.5", "1e2", "0x10", " "]) {
      const message = bad.trim() === "" ? "--limit needs a value" : `--limit must be a whole number from 1 to 100000 (got ${JSON.stringify(bad)})`;
      expect(error(["list", `--limit=${bad}`])).toEqual({ kind: "usage-error", message });
    }
    expect(error(["search", "x", "--limit", "101"])).toEqual({ kind: "usage-error", message: '--limit must be a whole number from 1 to 100 (got "101")' });
    expect(error(["list", "--limit"])).toEqual({ kind: "usage-error", message: "--limit needs a value" });
    expect(error(["list", "-n"])).toEqual({ kind: "usage-error", message: "--limit needs a value" });
    expect(error(["search"])).toEqual({ kind: "usage-error", message: "chat search needs the words to find" });
    expect(error(["search", " ", "\t"])).toEqual({ kind: "usage-error", message: "chat search needs the words to find" });
    expect(error(["search", "x".repeat(201)])).toEqual({ kind: "usage-error", message: "the search words are at most 200 characters (got 201)" });
    expect(error(["search", ` ${"x".repeat(200)} `])).toMatchObject({ kind: "search" });
    expect(error(["list", "the", "planets"])).toEqual({ kind: "usage-error", message: 'chat list takes no words (a question: quote it whole, chat "list …")' });
    expect(error(["models", "x"])).toEqual({ kind: "usage-error", message: 'chat models takes no words (a question: quote it whole, chat "models …")' });
    expect(error(["models", "--limit", "3"])).toEqual({ kind: "usage-error", message: "--limit is an option of chat list and chat search" });
    expect(error(["export", "c1", "-n", "3"])).toEqual({ kind: "usage-error", message: "--limit is an option of chat list and chat search" });
    expect(error(["--limit", "3", "hi"])).toEqual({ kind: "usage-error", message: "--limit is an option of chat list and chat search" });
    expect(error(["list", "-m", "demo"])).toEqual({ kind: "usage-error", message: "--model is not an option of chat list" });
    expect(error(["search", "x", "-c", "c1"])).toEqual({ kind: "usage-error", message: "--conversation is not an option of chat search" });
    expect(error(["list", "--format", "json"])).toEqual({ kind: "usage-error", message: "--format is an option of chat export" });
    // --json is still no option of the commands that print no list.
    expect(error(["export", "c1", "--json"])).toEqual({ kind: "usage-error", message: "--json is not an option of chat export" });
    expect(error(["instructions", "--json"])).toEqual({ kind: "usage-error", message: "--json is not an option of chat instructions" });
  });

  it("lists the new commands and --limit in the usage text", () => {
    expect(usage).toMatch(/^ {7}chat list \[--title <words>\] \[--archived\] \[--limit <n>\] \[--json\] \[options\]$/m);
    expect(usage).toMatch(/^ {6}--archived {13}list: the archived conversations/m);
    expect(usage).toMatch(/^ {7}chat search <words> \[--limit <n>\] \[--json\] \[options\]$/m);
    expect(usage).toMatch(/^ {7}chat models \[--json\] \[options\]$/m);
    expect(usage).toMatch(/^ {2}-n, --limit <n> {12}list: at most n conversations \(default 20, at most 100000\)/m);
  });

  it("takes repeated --image paths and --think levels or on/off", () => {
    const parsed = parseCliArgs(["--image", "a.png", "-i", "b.jpg", "--think", "High", "--usage", "what is this?"], {});
    expect(parsed).toMatchObject({ kind: "run", options: { images: ["a.png", "b.jpg"], think: "high", usage: true } });
    expect(parseCliArgs(["--think", "on", "x"], {})).toMatchObject({ options: { think: true } });
    expect(parseCliArgs(["--think", "off", "x"], {})).toMatchObject({ options: { think: false } });
    expect(parseCliArgs(["--think", "max", "x"], {})).toEqual({ kind: "usage-error", message: '--think must be low, medium, high, on or off (got "max")' });
    expect(parseCliArgs(["--image", " ", "x"], {})).toEqual({ kind: "usage-error", message: "--image needs a file path" });
  });

  it("takes repeated --file paths beside --image, in the order given", () => {
    expect(parseCliArgs(["--file", "data.csv", "-i", "a.png", "--file=notes.md", "compare them"], {})).toMatchObject({
      kind: "run",
      options: { files: ["data.csv", "notes.md"], images: ["a.png"], question: "compare them" },
    });
    // In a session the files go with the first question: no question is needed.
    expect(parseCliArgs(["--file", "data.csv"], {})).toMatchObject({ kind: "run", options: { files: ["data.csv"], question: undefined } });
    expect(parseCliArgs(["--file", " ", "x"], {})).toEqual({ kind: "usage-error", message: "--file needs a file path" });
    expect(parseCliArgs(["x", "--file"], {})).toEqual({ kind: "usage-error", message: "--file needs a value" });
  });

  it("refuses --file and --image given to a command, which sends no question", () => {
    // Without the check, "chat import --file chat.json" would read no file at all.
    expect(parseCliArgs(["import", "--file", "chat.json"], {})).toEqual({ kind: "usage-error", message: "--file is not an option of chat import" });
    expect(parseCliArgs(["export", "c1", "--image", "a.png"], {})).toEqual({ kind: "usage-error", message: "--image is not an option of chat export" });
    expect(parseCliArgs(["instructions", "--file", "rules.md"], {})).toEqual({ kind: "usage-error", message: "--file is not an option of chat instructions" });
  });

  it("lists --file in the usage text, without a short form (-f is --format)", () => {
    expect(usage).toMatch(/^ {6}--file <path> {10}attach a text file \(UTF-8; repeat for up to 8\)/m);
    expect(parseCliArgs(["-f", "json", "hi"], {})).toEqual({ kind: "usage-error", message: "--format is an option of chat export" });
  });
});
