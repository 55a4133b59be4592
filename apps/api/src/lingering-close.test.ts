import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { lingerOnClose, type Lingering } from "./lingering-close.js";
import { eventually } from "./test-support/harness.js";
import { rawUpload } from "./test-support/raw-upload.js";
import { sleep } from "./test-support/reliability.js";

/** A server that refuses every request at once, before reading its body, and closes the connection after. */
async function refusingServer(lingering: Lingering | undefined) {
  const sockets: Socket[] = [];
  const server = createServer((req, res) => {
    if (lingering) lingerOnClose(req.socket, lingering);
    res.writeHead(413, { connection: "close", "content-type": "text/plain" });
    res.end("too large");
  });
  server.on("connection", (socket: Socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, sockets, port: (server.address() as AddressInfo).port };
}

/** A chunked upload of `mib` MiB to the refusing server, read from after `readAfter`. */
function uploader(port: number, mib: number, readAfter: Promise<unknown>) {
  return rawUpload({ port, path: "/", headers: { "content-type": "application/json", "transfer-encoding": "chunked" }, mib, readAfter });
}

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

describe("closing a connection whose request body was refused", () => {
  it("a client still uploading that reads a moment later gets the answer, not a reset", async () => {
    // Without the lingering close (the first case) Node closes with the upload unread: the kernel resets the
    // connection and the client's pending write fails before it reads the answer.
    const results = [];
    for (const lingering of [undefined, { maxMs: 5000, maxBytes: 64 * 1024 * 1024 }]) {
      const refusing = await refusingServer(lingering);
      server = refusing.server;
      const { closed } = uploader(refusing.port, 8, sleep(300));
      results.push(await closed);
      server.close();
    }
    expect(results[0]?.received).not.toMatch(/^HTTP\/1\.1 413/);
    expect(results[1]?.received).toMatch(/^HTTP\/1\.1 413 [\s\S]*\r\ntoo large\r\n/);
  });

  it("reads no more than maxBytes of a client that keeps uploading and never reads, and closes after maxMs", async () => {
    const maxBytes = 4 * 1024 * 1024;
    const refusing = await refusingServer({ maxMs: 500, maxBytes });
    server = refusing.server;
    uploader(refusing.port, Infinity, new Promise(() => {}));
    await eventually(() => refusing.sockets.length > 0, "the server's connection");
    const socket = refusing.sockets[0]!;
    // The test's own timeout is the bound on the wait: the server closes it (the paused client would not notice).
    await new Promise((resolve) => socket.once("close", resolve));
    // What the parser had read before the answer (in flight on loopback) plus at most maxBytes (and one read) after.
    expect(socket.bytesRead).toBeLessThan(maxBytes + 16 * 1024 * 1024);
  });

  it("closes at once when the client closes after reading the answer", async () => {
    const refusing = await refusingServer({ maxMs: 60_000, maxBytes: 64 * 1024 * 1024 });
    server = refusing.server;
    const { socket, closed } = uploader(refusing.port, 2, Promise.resolve());
    socket.on("data", () => socket.end());
    expect((await closed).received).toMatch(/^HTTP\/1\.1 413/);
    await new Promise((resolve) => refusing.sockets[0]?.once("close", resolve));
  });
});
