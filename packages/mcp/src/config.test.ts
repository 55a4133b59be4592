import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadMcpConfig, parseMcpConfig } from "./config.js";

const file = "/etc/streamchat/mcp.json";
const parse = (json: unknown, env: NodeJS.ProcessEnv = {}) => parseMcpConfig(json, file, env);

describe("parseMcpConfig", () => {
  it("reads stdio and Streamable HTTP servers in the file's order, with defaults", () => {
    const config = parse({
      mcpServers: {
        files: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/srv"], requireApproval: ["write_file"] },
        search: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer abc" }, requireApproval: true },
        old: { command: "old-server", enabled: false, cwd: "/tmp" },
      },
      globalShortcut: "Ctrl+Space",
    });
    expect(config.servers).toEqual([
      {
        name: "files",
        config: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/srv"], env: {}, requireApproval: ["write_file"], enabled: true },
      },
      { name: "search", config: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer abc" }, requireApproval: true, enabled: true } },
      { name: "old", config: { command: "old-server", args: [], env: {}, cwd: "/tmp", requireApproval: false, enabled: false } },
    ]);
  });

  it("names the file, the server and the field of a bad value", () => {
    expect(() => parse({ mcpServers: { web: { url: "ftp://example.com" } } })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "web": url: must be an http:// or https:// URL.',
    );
    expect(() => parse({ mcpServers: { files: { command: "x", args: "-y" } } })).toThrow(/^MCP_CONFIG \/etc\/streamchat\/mcp.json: server "files": args: /);
    expect(() => parse({ mcpServers: { files: { command: "x", requireApproval: "yes" } } })).toThrow(/server "files": requireApproval: /);
    expect(() => parse({ mcpServers: { files: { command: "" } } })).toThrow(/server "files": command: must not be empty/);
  });

  it("refuses unknown keys, so a misspelt requireApproval cannot run tools unapproved", () => {
    expect(() => parse({ mcpServers: { files: { command: "x", requireAproval: true } } })).toThrow(/server "files": .*requireAproval/);
    expect(() => parse({ mcpServers: { web: { url: "http://h/mcp", env: { A: "1" } } } })).toThrow(/server "web": .*env/);
  });

  it("refuses server names that would not say which server a tool belongs to", () => {
    expect(() => parse({ mcpServers: { a__b: { command: "x" } } })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "a__b": the name must not contain "__" nor end with "_" (its tools are offered as <server>__<tool>).',
    );
    expect(() => parse({ mcpServers: { "files.": { command: "x" } } })).toThrow(/server "files\.": the name must not contain "__" nor end with "_"/);
    expect(() => parse({ mcpServers: { "my server": { command: "x" }, my_server: { command: "y" } } })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "my_server": the name gives its tools the same names as server "my server"\'s (my_server__…).',
    );
  });

  it("names the server and the field of values fetch or spawn would refuse at every start, never printing the value", () => {
    expect(() => parse({ mcpServers: { web: { url: "http://h/mcp", headers: { "X Token": "a" } } } })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "web": headers: "X Token" is not a valid HTTP header name.',
    );
    expect(() => parse({ mcpServers: { web: { url: "http://h/mcp", headers: { Authorization: "Bearer ${TOKEN}" } } } }, { TOKEN: "abc\nX-Evil: 1" })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "web": headers.Authorization: must not contain a line break or a NUL character.',
    );
    // A token read from a file keeps its final newline: fetch trims it, so it is fine.
    expect(parse({ mcpServers: { web: { url: "http://h/mcp", headers: { Authorization: "Bearer ${TOKEN}" } } } }, { TOKEN: "abc\n" }).servers).toHaveLength(1);
    expect(() => parse({ mcpServers: { files: { command: "x", env: { "A=B": "1" } } } })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "files": env: "A=B" is not a valid variable name.',
    );
    expect(() => parse({ mcpServers: { files: { command: "x", env: { KEY: "${SECRET}" } } } }, { SECRET: "a\u0000b" })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "files": env.KEY: must not contain a NUL character.',
    );
    expect(() => parse({ mcpServers: { files: { command: "x", args: ["a\u0000"] } } })).toThrow(/server "files": args\.0: must not contain a NUL character\.$/);
  });

  it("says what to do with an entry that is not an object, or asks for the SSE transport", () => {
    expect(() => parse({ mcpServers: { files: "npx -y @modelcontextprotocol/server-filesystem /srv" } })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "files": must be an object with "command" (a stdio server) or "url" (a Streamable HTTP server).',
    );
    expect(() => parse({ mcpServers: { old: { type: "sse", url: "http://h/sse" } } })).toThrow(
      /^MCP_CONFIG \/etc\/streamchat\/mcp.json: server "old": type: "sse" \(the older HTTP\+SSE transport\) is not supported: give the url of the server's Streamable HTTP endpoint/,
    );
    expect(() => parse({ mcpServers: { odd: { type: "websocket", url: "http://h/ws" } } })).toThrow(/server "odd": type: Invalid option: expected one of "stdio"\|"http"\|"streamable-http"/);
  });

  it("needs exactly one of command and url", () => {
    expect(() => parse({ mcpServers: { both: { command: "x", url: "http://h/mcp" } } })).toThrow(/server "both": needs either "command"/);
    expect(() => parse({ mcpServers: { none: { args: [] } } })).toThrow(/server "none": needs either "command"/);
  });

  it("needs an mcpServers object", () => {
    expect(() => parse({ servers: {} })).toThrow(/^MCP_CONFIG \/etc\/streamchat\/mcp.json: mcpServers: /);
    expect(() => parse([])).toThrow(/^MCP_CONFIG \/etc\/streamchat\/mcp.json: /);
  });

  it("expands ${VAR} and ${VAR:-default} from the API's environment", () => {
    const config = parse(
      {
        mcpServers: {
          gh: { command: "gh-mcp", args: ["--org=${ORG:-acme}"], env: { GITHUB_TOKEN: "${GH_TOKEN}" } },
          web: { url: "http://${MCP_HOST}/mcp", headers: { Authorization: "Bearer ${WEB_TOKEN}" } },
        },
      },
      { GH_TOKEN: "ghp_123", MCP_HOST: "127.0.0.1:9000", WEB_TOKEN: "t0k" },
    );
    expect(config.servers[0]!.config).toMatchObject({ args: ["--org=acme"], env: { GITHUB_TOKEN: "ghp_123" } });
    expect(config.servers[1]!.config).toMatchObject({ url: "http://127.0.0.1:9000/mcp", headers: { Authorization: "Bearer t0k" } });
    expect(() => parse({ mcpServers: { gh: { command: "x", env: { T: "${MISSING}" } } } })).toThrow(
      'MCP_CONFIG /etc/streamchat/mcp.json: server "gh": env.T: refers to ${MISSING}, which is not set in the API\'s environment.',
    );
  });
});

describe("loadMcpConfig", () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("reads the file, and names it when it is missing or not JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-config-"));
    dirs.push(dir);
    const good = join(dir, "good.json");
    await writeFile(good, JSON.stringify({ mcpServers: { a: { command: "a-server" } } }));
    await expect(loadMcpConfig(good)).resolves.toMatchObject({ servers: [{ name: "a", config: { command: "a-server" } }] });

    const bad = join(dir, "bad.json");
    await writeFile(bad, "{ mcpServers: ");
    await expect(loadMcpConfig(bad)).rejects.toThrow(new RegExp(`^MCP_CONFIG ${bad}: not valid JSON`));
    await expect(loadMcpConfig(join(dir, "missing.json"))).rejects.toThrow(/missing.json: cannot read the file \(ENOENT\)/);
  });
});
