import { createServer, OutgoingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { compactHead } from "./http-head.js";
import { isFlatString } from "./test-support/heap.js";

const headOf = (message: object): string => Reflect.get(message, "_header") as string;

describe("compactHead", () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  it("leaves the head a response keeps as one flat string, byte for byte the same", async () => {
    let held: ServerResponse | undefined;
    const server = createServer((_req, res) => {
      res.writeHead(200, ["content-type", "text/event-stream", "cache-control", "no-cache", "x-a", "1", "x-b", "2", "x-c", "3"]);
      res.write(": open\n\n");
      held = res;
    }).listen(0, "127.0.0.1");
    closers.push(() => server.closeAllConnections(), () => server.close());
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    const req = request({ host: "127.0.0.1", port, path: "/" });
    closers.push(() => req.destroy());
    await new Promise((resolve) => req.once("response", resolve).end());

    const res = held!;
    const before = headOf(res);
    // What this is for: Node keeps the head as the pieces it concatenated.
    expect(isFlatString(before)).toBe(false);
    compactHead(res);
    expect(isFlatString(headOf(res))).toBe(true);
    expect(headOf(res)).toBe(before);
    expect(headOf(res)).toMatch(/^HTTP\/1\.1 200 OK\r\ncontent-type: text\/event-stream\r\n[^]*\r\n\r\n$/);
  });

  it("does nothing to a message that has no head yet", () => {
    const message = new OutgoingMessage();
    compactHead(message);
    expect(Reflect.get(message, "_header")).toBeNull();
  });
});
