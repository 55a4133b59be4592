// Servers that crash, hang, are missing or list broken schemas: that tool or server fails, the others work.
import { ChatError, executeTool, toolSpec, validateToolCall } from "@streamchat/core";
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { createMcpHub, type McpHub, type McpHubOptions } from "./hub.js";
import { configOf, everythingServer, faultServer, faultServerPath, recordingLogger, until, toolNamed } from "./test-support/servers.js";
import type { McpServerConfig } from "./config.js";

const signal = new AbortController().signal;
const hubs: McpHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});

async function startHub(servers: Record<string, McpServerConfig>, options: McpHubOptions = {}) {
  const log = recordingLogger();
  const hub = createMcpHub(configOf(servers), { log, shutdownGraceMs: 500, restart: { initialDelayMs: 100, maxDelayMs: 400 }, ...options });
  hubs.push(hub);
  await hub.ready();
  return { hub, log };
}

const stateOf = (hub: McpHub, server: string) => hub.status().find((s) => s.name === server);

describe("hub faults", () => {
  it("a missing command fails that server with the reason; the others keep working", async () => {
    const { hub } = await startHub({ gone: { command: "/nonexistent/mcp-server", args: [], env: {}, requireApproval: false, enabled: true }, fault: faultServer() });
    expect(stateOf(hub, "gone")).toMatchObject({
      state: "failed",
      error: 'cannot start "/nonexistent/mcp-server": spawn /nonexistent/mcp-server ENOENT',
      nextRetryAt: expect.any(Number),
      tools: [],
    });
    expect(hub.tools().every((t) => t.source === "fault")).toBe(true);
    await expect(executeTool(toolNamed(hub, "fault__echo"), { text: "still here" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
  });

  it("a server that exits mid-call fails that call clearly, is restarted, and works again", async () => {
    const { hub, log } = await startHub({ fault: faultServer() });
    const firstPid = stateOf(hub, "fault")!.pid;
    const outcome = await executeTool(toolNamed(hub, "fault__exit"), {}, { signal, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({
      ok: false,
      error: {
        code: "tool_failed",
        message: 'Tool fault__exit failed: the MCP server "fault" stopped during the call (the process exited with code 3; see the server log for its error output).',
      },
    });
    // What it printed as it stopped is logged with the failure, not shown.
    expect(log.lines).toContainEqual({ message: "MCP server failed", data: expect.objectContaining({ server: "fault", stderrTail: expect.arrayContaining(["exiting mid-call"]) }) });
    await until(() => stateOf(hub, "fault")?.state === "connected" && stateOf(hub, "fault")!.restarts === 1, "the restart");
    expect(stateOf(hub, "fault")!.pid).not.toBe(firstPid);
    await expect(executeTool(toolNamed(hub, "fault__echo"), { text: "back" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: true,
      result: { content: [{ type: "text", text: "back" }] },
    });
  });

  it("a call to a server that is restarting waits for it, within the call's time", async () => {
    const { hub } = await startHub({ fault: faultServer() }, { restart: { initialDelayMs: 1_000 } });
    const echo = toolNamed(hub, "fault__echo");
    await executeTool(toolNamed(hub, "fault__exit"), {}, { signal, timeoutMs: 10_000 });
    expect(stateOf(hub, "fault")!.state).toBe("failed");
    // Failed: the call says so at once, with the next attempt.
    await expect(executeTool(echo, { text: "x" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/^Tool fault__echo failed: the MCP server "fault" is not available \(the process exited with code 3; see the server log for its error output; next attempt in \d+ s\)\.$/) },
    });
    await until(() => stateOf(hub, "fault")?.state === "starting", "the restart to begin", 10_000);
    await expect(executeTool(echo, { text: "waited" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
  });

  it("a hanging call times out, is cancelled at the server, and the server keeps working", async () => {
    // The hub's own timeout is far away: only the run's signal can cancel the request in time.
    const { hub, log } = await startHub({ fault: faultServer() }, { toolTimeoutMs: 120_000 });
    const outcome = await executeTool(toolNamed(hub, "fault__hang"), {}, { signal, timeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, error: { code: "tool_timeout", message: "Tool fault__hang timed out after 300 ms." } });
    await until(() => log.stderr("fault").includes("cancelled hang"), "the server to see the cancellation");
    expect(stateOf(hub, "fault")!.state).toBe("connected");
    await expect(executeTool(toolNamed(hub, "fault__echo"), { text: "ok" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
  });

  it("the hub's own timeout fails a hanging call as tool_timeout too", async () => {
    const { hub } = await startHub({ fault: faultServer() }, { toolTimeoutMs: 200 });
    await expect(executeTool(toolNamed(hub, "fault__hang"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: false,
      error: { code: "tool_timeout", message: "Tool fault__hang timed out after 200 ms." },
    });
  });

  it("lines on stdout that are not JSON-RPC are logged and skipped: the server and its calls go on", async () => {
    const { hub, log } = await startHub({ noisy: faultServer(["--noisy"]) });
    expect(stateOf(hub, "noisy")).toMatchObject({ state: "connected", restarts: 0 });
    await expect(executeTool(toolNamed(hub, "noisy__echo"), { text: "through" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: true,
      result: { content: [{ type: "text", text: "through" }] },
    });
    await until(() => log.lines.filter((l) => l.message === "MCP server connection error" && l.data["server"] === "noisy").length >= 2, "both lines logged");
    expect(stateOf(hub, "noisy")).toMatchObject({ state: "connected", restarts: 0 });
  });

  it("isError: true is a failed tool result with the server's message", async () => {
    const { hub } = await startHub({ fault: faultServer() });
    await expect(executeTool(toolNamed(hub, "fault__fail"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: "Tool fault__fail failed: disk on fire" },
    });
  });

  it("a result the SDK would not read fails that call alone: the session, and calls on it, go on", async () => {
    const { hub } = await startHub({ fault: faultServer() }, { toolTimeoutMs: 120_000 });
    // A call in flight on the same session when the bad result arrives.
    const stop = new AbortController();
    const hanging = executeTool(toolNamed(hub, "fault__hang"), {}, { signal: stop.signal, timeoutMs: 60_000 });
    // A block of a type MCP does not define is passed on, and summarized for the model.
    const odd = await executeTool(toolNamed(hub, "fault__odd"), {}, { signal, timeoutMs: 10_000 });
    expect(odd).toMatchObject({ ok: true, result: { content: [{ type: "video" }, { type: "text", text: "see the video" }] } });
    expect(odd.ok && odd.content).toBe("see the video\n[video content]");
    // A known block that is not whole is an invalid result: a short message, not a dump of zod issues.
    await expect(executeTool(toolNamed(hub, "fault__malformed"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
      ok: false,
      error: { code: "tool_failed", message: 'Tool fault__malformed failed: the MCP server "fault" returned a result that is not valid MCP.' },
    });
    expect(stateOf(hub, "fault")).toMatchObject({ state: "connected", restarts: 0 });
    stop.abort();
    await expect(hanging).rejects.toMatchObject({ code: "cancelled" });
    await expect(executeTool(toolNamed(hub, "fault__echo"), { text: "still here" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
  });

  it("a large result over stdio is read whole; one over maxMessageBytes fails its call and restarts the server, the API lives on", { timeout: 60_000 }, async () => {
    // 12 MB: over the SDK's ReadBuffer limit (10 MiB), whose exception was thrown in the stdout listener, uncaught:
    // it ended the whole process. Any file-reading server returning a big file did that.
    const { hub, log } = await startHub({ fault: faultServer() }, { toolTimeoutMs: 60_000, maxMessageBytes: 16 * 1024 * 1024, restart: { initialDelayMs: 50 } });
    const big = await executeTool(toolNamed(hub, "fault__big"), { bytes: 12_000_000 }, { signal, timeoutMs: 60_000 });
    expect(big).toMatchObject({ ok: true });
    expect((big.ok && (big.result as { content: Array<{ text: string }> }).content[0]?.text.length)).toBe(12_000_000);
    expect(stateOf(hub, "fault")).toMatchObject({ state: "connected", restarts: 0 });

    // Over the limit: the call fails saying why, the server is stopped and started again.
    const huge = await executeTool(toolNamed(hub, "fault__big"), { bytes: 20_000_000 }, { signal, timeoutMs: 60_000 });
    expect(huge).toMatchObject({
      ok: false,
      error: {
        code: "tool_failed",
        message: expect.stringMatching(/^Tool fault__big failed: the MCP server "fault" stopped during the call \(it sent a message larger than 16 MiB \(the limit\) and was stopped[;)]/),
      },
    });
    await until(() => stateOf(hub, "fault")?.state === "connected" && stateOf(hub, "fault")!.restarts === 1, "the restart", 30_000);
    await expect(executeTool(toolNamed(hub, "fault__echo"), { text: "back" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
    expect(log.lines.some((l) => l.message === "MCP server failed" && String(l.data["err"]).includes("larger than 16 MiB"))).toBe(true);
  });

  it("a finished call leaves nothing on its signal: ending the run later cancels no answered request", async () => {
    const { hub } = await startHub({ fault: faultServer() });
    const run = new AbortController();
    await expect(toolNamed(hub, "fault__echo").execute({ text: "hi" }, { signal: run.signal })).resolves.toMatchObject({ content: [{ text: "hi" }] });
    // The SDK's listener stayed on the signal it was given and sent notifications/cancelled when the run ended.
    expect(getEventListeners(run.signal, "abort")).toHaveLength(0);
  });

  it("a server flooding stderr fills the log only within bounds: long lines cut, lines over the budget counted", async () => {
    const { hub, log } = await startHub({ fault: faultServer(["--chatty"]) });
    await until(() => log.lines.some((l) => l.message === "MCP server writes too much to stderr; its next lines are counted, not logged"), "the notice");
    const logged = log.stderr("fault");
    // Before: all 301 lines were logged, the first whole (100 000 characters).
    expect(logged).toHaveLength(100);
    expect(logged[0]).toMatch(/^x{2000}… \(\d+ characters\)$/);
    expect(logged.at(-1)).toBe("noise 99");
    await expect(executeTool(toolNamed(hub, "fault__echo"), { text: "still here" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
  });

  it("tools with a broken input schema are not offered, say why, and the others are", async () => {
    const { hub } = await startHub({ fault: faultServer() });
    const names = hub.tools().map((t) => t.name);
    expect(names).toEqual(["fault__echo", "fault__exit", "fault__hang", "fault__fail", "fault__grow", "fault__odd", "fault__malformed", "fault__big", "fault__pick"]);
    const tools = stateOf(hub, "fault")!.tools;
    expect(tools.find((t) => t.mcpName === "broken")!.error).toMatch(/^not offered: its inputSchema is not a valid JSON Schema: schema is invalid: /);
    expect(tools.find((t) => t.mcpName === "not_object")!.error).toBe('not offered: its inputSchema does not have "type": "object"');
  });

  it("a tool whose input schema is only a top-level $ref is offered when it points at an object schema", async () => {
    const { hub, log } = await startHub({ fault: faultServer(["--ref-schemas"]) });
    const names = hub.tools().map((t) => t.name);
    // Before: neither was offered ('its inputSchema does not have "type": "object"').
    expect(names).toEqual(expect.arrayContaining(["fault__ref_defs", "fault__ref_definitions"]));
    expect(names).not.toEqual(expect.arrayContaining(["fault__ref_missing"]));
    expect(names.filter((n) => n.startsWith("fault__ref_"))).toEqual(["fault__ref_defs", "fault__ref_definitions"]);

    const defs = toolNamed(hub, "fault__ref_defs");
    // The model gets the object schema itself, its definitions kept so the references inside still resolve.
    expect(toolSpec(defs).parameters).toEqual({
      type: "object",
      properties: { city: { $ref: "#/$defs/City" } },
      required: ["city"],
      additionalProperties: false,
      $defs: { Input: expect.any(Object), City: { type: "string", minLength: 1 } },
    });
    const tools = hub.tools();
    expect(validateToolCall(tools, { id: "c1", name: "fault__ref_defs", args: { city: "" } })).toMatchObject({ ok: false, error: { code: "invalid_tool_args" } });
    expect(validateToolCall(tools, { id: "c2", name: "fault__ref_defs", args: { city: "Oslo", extra: 1 } })).toMatchObject({ ok: false, error: { code: "invalid_tool_args" } });
    expect(validateToolCall(tools, { id: "c3", name: "fault__ref_definitions", args: { n: 1.5 } })).toMatchObject({ ok: false, error: { code: "invalid_tool_args" } });
    await expect(executeTool(defs, { city: "Oslo" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true, result: { content: [{ text: 'picked {"city":"Oslo"}' }] } });
    expect(toolSpec(toolNamed(hub, "fault__ref_definitions")).parameters).toMatchObject({ type: "object", properties: { n: { type: "integer" } }, required: ["n"] });

    // What cannot be resolved to an object schema is still refused, logged and named in the status.
    const status = stateOf(hub, "fault")!.tools;
    expect(status.find((t) => t.mcpName === "ref_missing")!.error).toBe('not offered: its inputSchema\'s top-level $ref "#/$defs/Nowhere" cannot be resolved');
    expect(status.find((t) => t.mcpName === "ref_not_object")!.error).toBe('not offered: its inputSchema does not have "type": "object"');
    expect(status.find((t) => t.mcpName === "ref_remote")!.error).toBe('not offered: its inputSchema\'s top-level $ref "https://example.com/input.json" is not a reference into the schema itself');
    expect(log.lines.filter((l) => l.message === "MCP tool not offered").map((l) => l.data["tool"])).toEqual(["broken", "not_object", "ref_missing", "ref_not_object", "ref_remote"]);
  });

  it("a schema with oneOf at its top level is sent to the model in a form model APIs accept, and still checks the arguments", async () => {
    // OpenAI refuses the whole request ("must not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level"): one
    // such tool failed every run that offered it, whatever was asked.
    const { hub } = await startHub({ fault: faultServer() });
    const pick = toolNamed(hub, "fault__pick");
    const spec = toolSpec(pick).parameters as Record<string, unknown>;
    expect(Object.keys(spec).filter((key) => ["oneOf", "anyOf", "allOf", "not", "enum", "const"].includes(key))).toEqual([]);
    expect(spec).toEqual({ type: "object", properties: { verbose: { type: "boolean" }, id: { type: "string" }, path: { type: "string" } } });
    const tools = hub.tools();
    expect(validateToolCall(tools, { id: "c1", name: "fault__pick", args: { verbose: true } })).toMatchObject({ ok: false, error: { code: "invalid_tool_args" } });
    expect(validateToolCall(tools, { id: "c2", name: "fault__pick", args: { id: "a", path: "/b" } })).toMatchObject({ ok: false, error: { code: "invalid_tool_args" } });
    await expect(executeTool(pick, { id: "a" }, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true, result: { content: [{ text: 'picked {"id":"a"}' }] } });
  });

  it("a cwd that does not exist is named as the reason, not the command", async () => {
    const { hub } = await startHub({ fault: faultServer([], { cwd: "/nonexistent/mcp-dir" }) }, { restart: { maxAttempts: 1 } });
    expect(stateOf(hub, "fault")).toMatchObject({
      state: "failed",
      error: `cannot start "${process.execPath}": its working directory (cwd) /nonexistent/mcp-dir is not a directory; gave up after 1 attempt in a row`,
    });
  });

  it("rejects bad arguments before the server is called", async () => {
    const { hub, log } = await startHub({ fault: faultServer() });
    const tools = hub.tools();
    const check = validateToolCall(tools, { id: "c1", name: "fault__echo", args: { text: 42, extra: true } });
    expect(check).toEqual({
      ok: false,
      error: { code: "invalid_tool_args", message: 'Invalid arguments for fault__echo: must not have the property "extra"; text: must be string' },
    });
    const good = validateToolCall(tools, { id: "c2", name: "fault__echo", args: { text: "fine" } });
    expect(good.ok).toBe(true);
    if (good.ok) await executeTool(good.tool, good.args, { signal, timeoutMs: 10_000 });
    // The server saw the valid call only (stderr is its own pipe: wait for the line).
    await until(() => log.stderr("fault").includes('called echo {"text":"fine"}'), "the server's log of the call");
    expect(log.stderr("fault").filter((line) => line.startsWith("called echo"))).toEqual(['called echo {"text":"fine"}']);
  });

  it("tools/list_changed: the new tool is offered and listeners hear of it", async () => {
    const { hub } = await startHub({ fault: faultServer() });
    let changes = 0;
    hub.onChange(() => changes++);
    await executeTool(toolNamed(hub, "fault__grow"), {}, { signal, timeoutMs: 10_000 });
    const extra = await until(() => hub.tools().find((t) => t.name === "fault__extra"), "fault__extra");
    expect(changes).toBeGreaterThan(0);
    await expect(executeTool(extra, {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true, result: { content: [{ text: "extra answered" }] } });
  });

  it("a server that keeps crashing at start is retried with back-off, then left failed", async () => {
    const { hub, log } = await startHub({ crashy: faultServer(["--crash-on-start"]), every: everythingServer() }, { restart: { initialDelayMs: 50, maxDelayMs: 100, maxAttempts: 3 } });
    const status = await until(() => {
      const s = stateOf(hub, "crashy");
      return s?.state === "failed" && s.nextRetryAt === undefined ? s : undefined;
    }, "giving up");
    expect(status).toMatchObject({
      restarts: 2,
      error: "the process exited with code 2; see the server log for its error output; gave up after 3 attempts in a row",
    });
    // The line it printed holds a password: in the log with each failure, nowhere in what users see.
    expect(JSON.stringify(hub.status())).not.toContain("hunter2");
    const failures = log.lines.filter((l) => l.message === "MCP server failed" && l.data["server"] === "crashy");
    expect(failures).toHaveLength(3);
    for (const failure of failures) expect(failure.data["stderrTail"]).toEqual(["fault-server: cannot open postgres://app:hunter2@db/app"]);
    expect(hub.tools().length).toBeGreaterThan(0);
    expect(hub.tools().every((t) => t.source === "every")).toBe(true);
  });

  it("a crash after a connection that lasted starts the back-off afresh instead of counting towards giving up", async () => {
    const { hub } = await startHub({ fault: faultServer() }, { restart: { initialDelayMs: 50, maxAttempts: 2, stableAfterMs: 0 } });
    for (let crash = 1; crash <= 3; crash++) {
      await executeTool(toolNamed(hub, "fault__exit"), {}, { signal, timeoutMs: 10_000 });
      await until(() => stateOf(hub, "fault")?.state === "connected" && stateOf(hub, "fault")!.restarts === crash, `restart ${crash}`);
    }
  });

  it("a server that never answers initialize fails after the connect timeout", async () => {
    const { hub } = await startHub({ mute: faultServer(["--mute"]) }, { connectTimeoutMs: 300, restart: { maxAttempts: 1 } });
    expect(stateOf(hub, "mute")).toMatchObject({ state: "failed", error: "did not finish starting within 300 ms; gave up after 1 attempt in a row" });
    expect(stateOf(hub, "mute")).not.toHaveProperty("nextRetryAt");
  });

  it("a server still starting (no answer to initialize) shows as starting, leaves the others' tools alone, and ends with close()", async () => {
    const log = recordingLogger();
    const hub = createMcpHub(configOf({ mute: faultServer(["--mute"]), fault: faultServer() }), { log, connectTimeoutMs: 60_000, shutdownGraceMs: 300 });
    hubs.push(hub);
    await until(() => stateOf(hub, "fault")?.state === "connected", "the other server");
    expect(stateOf(hub, "mute")).toMatchObject({ state: "starting", pid: expect.any(Number) });
    expect(hub.tools().every((t) => t.source === "fault")).toBe(true);
    const pid = stateOf(hub, "mute")!.pid!;
    const started = Date.now();
    await hub.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(isAlive(pid)).toBe(false);
  });

  it("connectTimeoutMs bounds the whole start-up, not each of its requests", async () => {
    // Three pages of tools/list, each 1600 ms late: each within 3000 ms (the server's own start included), the listing not.
    const { hub } = await startHub({ slow: faultServer(["--slow-list=1600"]) }, { connectTimeoutMs: 3_000, restart: { maxAttempts: 1 } });
    // Before: connected after about 5 s, although connectTimeoutMs said 3000 (with 50 pages, 50 times that).
    expect(stateOf(hub, "slow")).toMatchObject({ state: "failed", error: "did not finish starting within 3000 ms; gave up after 1 attempt in a row" });
  });

  it("close() ends a server that ignores stdin's end and SIGTERM with SIGKILL", async () => {
    const { hub } = await startHub({ stubborn: faultServer(["--stubborn"]) }, { shutdownGraceMs: 200 });
    const pid = stateOf(hub, "stubborn")!.pid!;
    expect(isAlive(pid)).toBe(true);
    await hub.close();
    expect(isAlive(pid)).toBe(false);
  });

  it("close() also ends what a server started itself (its process group)", async () => {
    const launcher = { command: "sh", args: ["-c", `sleep 300 & echo "background $!" >&2; exec "${process.execPath}" "${faultServerPath}"`], env: {}, requireApproval: false, enabled: true };
    const { hub, log } = await startHub({ wrapped: launcher });
    expect(stateOf(hub, "wrapped")!.state).toBe("connected");
    const line = await until(() => log.stderr("wrapped").find((l) => l.startsWith("background ")), "the background pid");
    const background = Number(line.split(" ")[1]);
    expect(isAlive(background)).toBe(true);
    await hub.close();
    await until(() => !isAlive(background), "the background process to end", 10_000);
  });

  it("a server whose pipes outlive it (held by a daemon it started) is still seen to exit, and close() returns", async () => {
    const launcher = {
      command: "sh",
      args: ["-c", `setsid sleep 300 & echo "daemon $!" >&2; exec "${process.execPath}" "${faultServerPath}"`],
      env: {},
      requireApproval: false,
      enabled: true,
    };
    const { hub, log } = await startHub({ wrapped: launcher }, { restart: { maxAttempts: 1 } });
    const line = await until(() => log.stderr("wrapped").find((l) => l.startsWith("daemon ")), "the daemon's pid");
    const daemon = Number(line.split(" ")[1]);
    try {
      const outcome = await executeTool(toolNamed(hub, "wrapped__exit"), {}, { signal, timeoutMs: 10_000 });
      expect(outcome).toMatchObject({ ok: false, error: { message: expect.stringContaining("stopped during the call (the process exited with code 3") } });
      expect(stateOf(hub, "wrapped")!.state).toBe("failed");
      await hub.close();
    } finally {
      process.kill(daemon, "SIGKILL");
    }
  });

  it("calls after close() fail clearly", async () => {
    const { hub } = await startHub({ fault: faultServer() });
    const echo = toolNamed(hub, "fault__echo");
    await hub.close();
    await expect(echo.execute({ text: "late" }, { signal })).rejects.toEqual(new ChatError("tool_failed", 'Tool fault__echo failed: the MCP server "fault" is shut down.'));
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
