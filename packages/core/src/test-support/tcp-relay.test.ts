import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startTcpRelay, type TcpRelay } from "./tcp-relay.js";

/** A TCP server on loopback that keeps what each connection sent. */
async function recordingServer(): Promise<{ url: string; received: () => string; close: () => Promise<void> }> {
  let text = "";
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (data: Buffer) => (text += data.toString()));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    received: () => text,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function clientOf(relay: TcpRelay): Promise<Socket> {
  const url = new URL(relay.url);
  const socket = connect(Number(url.port), url.hostname);
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return socket;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp() {
  const server = await recordingServer();
  cleanups.push(server.close);
  const relay = await startTcpRelay(server.url);
  cleanups.push(relay.close);
  return { server, relay, client: await clientOf(relay) };
}

/** Waits until the server has received `text` (a relay forwards asynchronously); fails after 5 s. */
async function serverHas(server: { received: () => string }, text: string): Promise<void> {
  const until = Date.now() + 5_000;
  while (!server.received().endsWith(text)) {
    if (Date.now() > until) throw new Error(`the server never received ${JSON.stringify(text)}: it has ${JSON.stringify(server.received())}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("cutFrom", () => {
  it("forwards what comes before the marker in the same chunk, and drops the marker and all after it", async () => {
    const { server, relay, client } = await setUp();
    const reached = relay.cutFrom("<done>");
    // One write: the relay reads "mark" and the cut command as one chunk, as when it reads late.
    client.write("mark;<done>;rest");
    await reached;
    client.write("later;");
    // A second connection after the cut: dropped too.
    const other = await clientOf(relay);
    other.write("other;");
    await serverHas(server, "mark;");
    // Nothing after it comes, however long one waits; 100 ms covers a relay that forwards a moment late.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.received()).toBe("mark;");
    client.destroy();
    other.destroy();
  });

  it("relays everything before the chunk holding the marker", async () => {
    const { server, relay, client } = await setUp();
    const reached = relay.cutFrom("<done>");
    client.write("first;");
    await serverHas(server, "first;");
    client.write("<done>;rest");
    await reached;
    expect(server.received()).toBe("first;");
    client.destroy();
  });
});
