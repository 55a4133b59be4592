// A Streamable HTTP server whose answers come compressed, as behind a reverse proxy that compresses (nginx's gzip,
// a CDN's brotli): the SDK's own server behind a small proxy that compresses what it was asked to, event streams
// flushed event by event.
import type { OutgoingHttpHeaders } from "node:http";
import { createBrotliCompress, createGzip } from "node:zlib";
import { executeTool } from "@streamchat/core";
import { afterEach, describe, expect, it } from "vitest";
import { startHttpHub } from "./test-support/http-hub.js";
import { passOn, startHttpProxy } from "./test-support/http-proxy.js";
import { startHttpMcpServer, toolNamed } from "./test-support/servers.js";

const signal = new AbortController().signal;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface CompressingProxy {
  url: string;
  /** The accept-encoding of every POST. */
  asked: Array<string | undefined>;
  /** Compressed bytes sent for the answers to calls of the named tool. */
  sentFor(tool: string): number;
}

async function startCompressingProxy(coding: "gzip" | "br", jsonResponse: boolean): Promise<CompressingProxy> {
  const upstream = await startHttpMcpServer(
    (mcp) => {
      mcp.registerTool("echo", { description: "Echoes" }, () => ({ content: [{ type: "text", text: "echo: compressed" }] }));
      // 3 MB that compress to a few kilobytes.
      mcp.registerTool("dump", { description: "Returns a whole log file" }, () => ({ content: [{ type: "text", text: "0123456789".repeat(300_000) }] }));
    },
    0,
    { jsonResponse },
  );
  const asked: Array<string | undefined> = [];
  const sent = new Map<string, number>();
  const proxy = await startHttpProxy(upstream.url, {
    onRequest: (_body, _res, req) => {
      if (req.method === "POST") asked.push(req.headers["accept-encoding"]);
      return false;
    },
    upstreamHeaders: (req) => ({ ...req.headers, "accept-encoding": "identity" }),
    relay: (answer, res, req, body) => {
      const tool = /"name":"(\w+)"/.exec(body)?.[1] ?? "";
      res.on("close", () => answer.destroy());
      const status = answer.statusCode ?? 502;
      if (!(req.headers["accept-encoding"] ?? "").includes(coding) || status === 202 || status === 204) {
        passOn(answer, res);
        return;
      }
      const headers: OutgoingHttpHeaders = { ...answer.headers, "content-encoding": coding };
      delete headers["content-length"];
      res.writeHead(status, headers);
      const compressor = coding === "gzip" ? createGzip() : createBrotliCompress();
      compressor.on("data", (chunk: Buffer) => {
        sent.set(tool, (sent.get(tool) ?? 0) + chunk.length);
        res.write(chunk);
      });
      compressor.on("end", () => res.end());
      // Each piece goes out as it comes: an event stream's events must not wait in the compressor.
      answer.on("data", (chunk: Buffer) => {
        compressor.write(chunk);
        compressor.flush();
      });
      answer.on("end", () => compressor.end());
      answer.on("error", () => res.destroy());
    },
  });
  cleanups.push(async () => {
    await proxy.close();
    await upstream.close();
  });
  return { url: proxy.url, asked, sentFor: (tool) => sent.get(tool) ?? 0 };
}

describe("hub with a Streamable HTTP server whose answers come compressed", () => {
  for (const [coding, jsonResponse] of [
    ["gzip", false],
    ["br", true],
  ] as const) {
    const answer = jsonResponse ? "JSON answers" : "event streams";
    it(`asks for compressed answers and reads them (${coding}, ${answer})`, async () => {
      const proxy = await startCompressingProxy(coding, jsonResponse);
      const hub = await startHttpHub(proxy.url, cleanups);
      expect(hub.status()[0]).toMatchObject({ state: "connected" });
      await expect(executeTool(toolNamed(hub, "web__echo"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
        ok: true,
        result: { content: [{ type: "text", text: "echo: compressed" }] },
      });
      // Before: nothing was asked for compressed (and a compressed answer would not have read as MCP).
      expect(proxy.asked.length).toBeGreaterThan(2);
      expect(proxy.asked.every((encoding) => encoding === "gzip, deflate, br")).toBe(true);
    });

    it(`an answer that decodes past maxMessageBytes fails its call as an oversized one does, however small compressed (${coding}, ${answer})`, async () => {
      const proxy = await startCompressingProxy(coding, jsonResponse);
      const hub = await startHttpHub(proxy.url, cleanups, { maxMessageBytes: 1024 * 1024 });
      await expect(executeTool(toolNamed(hub, "web__dump"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({
        ok: false,
        error: { code: "tool_failed", message: 'Tool web__dump failed: the MCP server "web" sent a message larger than 1 MiB (the limit).' },
      });
      // It came compressed, far under the limit as sent.
      expect(proxy.sentFor("dump")).toBeGreaterThan(0);
      expect(proxy.sentFor("dump")).toBeLessThan(100 * 1024);
      expect(hub.status()[0]).toMatchObject({ state: "connected", restarts: 0 });
      await expect(executeTool(toolNamed(hub, "web__echo"), {}, { signal, timeoutMs: 10_000 })).resolves.toMatchObject({ ok: true });
    });
  }
});
