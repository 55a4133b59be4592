import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inCi } from "./test-cluster.js";
import { canConnect, type NginxProcess, localNginxConfig, renderNginxSite, startNginx } from "./nginx.js";
import { nginxBinary, nginxTemplatePath } from "./paths.js";
import { waitUntil } from "./process.js";
import { processGroup } from "./proc-tree.js";

const template = readFileSync(nginxTemplatePath, "utf8");
/** The template's directives, comments left out. */
const directives = (text: string) =>
  text
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter(Boolean)
    .join("\n");

describe("deploy/nginx.conf", () => {
  it("has the settings SSE behind a load balancer needs, and no sticky sessions", () => {
    const d = directives(template);
    expect(d).toMatch(/^proxy_buffering off;$/m);
    expect(d).toMatch(/^proxy_http_version 1\.1;$/m);
    expect(d).toMatch(/^proxy_set_header Connection "";$/m);
    expect(d).toMatch(/^keepalive \d+;$/m);
    expect(d).toMatch(/^proxy_read_timeout 1h;$/m);
    expect(d).not.toMatch(/ip_hash|hash \$|sticky/);
  });

  it("fills both placeholders and refuses a template with one it does not know", () => {
    const site = renderNginxSite({ listen: "127.0.0.1:8080", upstreams: ["127.0.0.1:3001", "127.0.0.1:3002"] }, template);
    expect(directives(site)).toMatch(/^listen 127\.0\.0\.1:8080;$/m);
    expect(directives(site)).toMatch(/^server 127\.0\.0\.1:3001 .*;$/m);
    expect(directives(site)).toMatch(/^server 127\.0\.0\.1:3002 .*;$/m);
    expect(directives(site)).not.toContain("${");
    expect(() => renderNginxSite({ listen: "80", upstreams: ["a:1"] }, `${template}\nserver_name \${STREAMCHAT_NAME};`)).toThrow(
      /STREAMCHAT_NAME/,
    );
    expect(() => renderNginxSite({ listen: "80", upstreams: [] }, template)).toThrow(/at least one upstream/);
  });

  it("keeps every file nginx writes in the given directory", () => {
    const conf = localNginxConfig("server {}", "/tmp/x");
    for (const line of directives(conf).split("\n").filter((l) => /(_path|^pid|^error_log) /.test(l))) expect(line).toContain("/tmp/x/");
    expect(conf).toMatch(/^daemon off;$/m);
  });
});

/** A tiny upstream: /sse writes one event and holds the response open until release(); / says who answered. */
async function upstream(name: string) {
  const held: http.ServerResponse[] = [];
  let connections = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (req.url === "/sse") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(`id: 1\ndata: first from ${name}\n\n`);
      held.push(res);
      return;
    }
    res.end(name);
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    name,
    hostPort: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => ({ connections, requests }),
    release() {
      for (const res of held.splice(0)) res.end(`id: 2\ndata: last\n\n`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const haveNginx = nginxBinary() !== null;
if (!haveNginx && !inCi) console.warn("[nginx] SKIPPED the nginx proxy tests: no nginx binary (apt-get install nginx)");

describe.runIf(!haveNginx && inCi)("nginx under CI", () => {
  it("is installed (CI=true requires it: .ci/run installs Debian's nginx)", () => {
    throw new Error("nginx not found under CI=true");
  });
});

describe.runIf(haveNginx)("nginx from deploy/nginx.conf in front of two upstreams", () => {
  let a: Awaited<ReturnType<typeof upstream>>;
  let b: Awaited<ReturnType<typeof upstream>>;
  let nginx: NginxProcess;

  beforeAll(async () => {
    a = await upstream("a");
    b = await upstream("b");
    nginx = await startNginx({ upstreams: [a.hostPort, b.hostPort] });
  });
  afterAll(async () => {
    await nginx?.stop();
    await a?.close();
    await b?.close();
  });

  it("forwards an SSE event while the upstream still holds the response open", async () => {
    const response = await fetch(`${nginx.url}/sse`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = response.body!.getReader();
    // The upstream holds the response open: this read only returns if nginx forwarded the first event before the end.
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toMatch(/^id: 1\ndata: first from [ab]\n\n$/);
    a.release();
    b.release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe("id: 2\ndata: last\n\n");
  });

  it("spreads requests over both upstreams (no stickiness) and reuses its upstream connections", async () => {
    const before = { a: a.stats(), b: b.stats() };
    const answered: string[] = [];
    for (let i = 0; i < 20; i++) answered.push(await (await fetch(`${nginx.url}/`)).text());
    expect(new Set(answered)).toEqual(new Set(["a", "b"]));
    const newConnections = a.stats().connections - before.a.connections + (b.stats().connections - before.b.connections);
    const newRequests = a.stats().requests - before.a.requests + (b.stats().requests - before.b.requests);
    expect(newRequests).toBe(20);
    // HTTP/1.1 keepalive to the upstreams: 20 requests do not need 20 connections.
    expect(newConnections).toBeLessThan(20);
  });

  it("sends everything to the other upstream when one is gone", async () => {
    await b.close();
    const answered: string[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${nginx.url}/`);
      expect(response.status).toBe(200);
      answered.push(await response.text());
    }
    expect(answered).toEqual(["a", "a", "a", "a", "a", "a"]);
  });

  it("kill() ends the master and its workers at once: nothing is left accepting on the port", async () => {
    const other = await startNginx({ upstreams: [a.hostPort], workerProcesses: 2 });
    other.kill();
    // The whole process group goes (a worker whose master alone was killed went on serving the port).
    await waitUntil(() => processGroup(other.pid).length === 0, { timeoutMs: 10_000, what: "nginx's process group to end" });
    expect(await canConnect(other.port)).toBe(false);
    await other.stop();
  });

  it("stop() ends the master and its workers", async () => {
    const pid = nginx.pid;
    await nginx.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(readFileSync(`/proc/self/stat`, "utf8")).toBeTruthy();
  });
});
