import { describe, expect, it } from "vitest";
import { serverEnvironment, StdioProcessTransport } from "./stdio-transport.js";

describe("serverEnvironment", () => {
  it("passes the safe variables and the configured env, nothing else of the API's", () => {
    const parent = { PATH: "/usr/bin", HOME: "/home/api", LANG: "C.UTF-8", OPENAI_API_KEY: "sk-1", AUTH_TOKENS: "a:b", MCP_CONFIG: "/x.json" };
    expect(serverEnvironment({ TOKEN: "t", PATH: "/opt/bin" }, parent)).toEqual({ PATH: "/opt/bin", HOME: "/home/api", LANG: "C.UTF-8", TOKEN: "t" });
  });

  it("drops exported shell functions", () => {
    expect(serverEnvironment({}, { PATH: "/usr/bin", SHELL: "() { :; }; echo pwned" })).toEqual({ PATH: "/usr/bin" });
  });
});

describe("StdioProcessTransport", () => {
  it("says why the process ended without its stderr, and keeps the last lines for the log", async () => {
    const transport = new StdioProcessTransport({
      command: process.execPath,
      args: ["-e", "console.error('first'); console.error('config file missing'); process.exit(4)"],
      env: {},
      graceMs: 200,
    });
    const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
    await transport.start();
    await closed;
    expect(transport.exit).toEqual({ code: 4, signal: null });
    // The reason is shown to users: what a server prints as it crashes may be a secret.
    expect(transport.describeExit()).toBe("the process exited with code 4");
    expect(transport.stderrTail).toEqual(["first", "config file missing"]);
  });

  it("rejects start() for a command that does not exist", async () => {
    const transport = new StdioProcessTransport({ command: "/nonexistent/server", args: [], env: {}, graceMs: 200 });
    await expect(transport.start()).rejects.toThrow('cannot start "/nonexistent/server": spawn /nonexistent/server ENOENT');
  });
});
