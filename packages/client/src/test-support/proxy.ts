import { connect, createServer, type Socket } from "node:net";

export interface SseRequest {
  /** The request target, e.g. `/trpc/chat.events?input=…`. */
  target: string;
  /** The tRPC input carried in the query string. */
  input: unknown;
  /** The `Last-Event-ID` header the EventSource sent on a reconnect. */
  lastEventIdHeader: string | undefined;
}

/**
 * A loopback TCP proxy in front of the API that lets a test cut the sockets carrying SSE subscriptions
 * (a real connection drop, not a mocked one) and refuse the next subscription request with an HTTP error.
 */
export interface CuttingProxy {
  url: string;
  sseRequests: SseRequest[];
  /**
   * Subscription connections the server accepted (its `connected` event went through to the client), counted
   * from the start. Cut after this, the client has seen its reconnect succeed.
   */
  acceptedSubscriptions(): number;
  /** Destroys every open connection that carried a chat.events request; returns how many. */
  cutSubscriptions(): number;
  /** Answers the next `count` subscription requests with this status instead of forwarding them. */
  refuseSubscriptions(status: number, count?: number): void;
  /**
   * Holds every later request whose line starts with `requestLine` (e.g. `POST /trpc/chat.cancel`): never forwarded,
   * never answered, until the proxy closes (a server that hangs on that call).
   */
  holdRequests(requestLine: string): void;
  close(): Promise<void>;
}

const ssePath = /^GET (\/trpc\/chat\.events\S*) HTTP\/1\.1\r\n/;

function parseInput(target: string): unknown {
  const raw = new URL(target, "http://proxy").searchParams.get("input");
  return raw === null ? undefined : (JSON.parse(raw) as unknown);
}

export async function startCuttingProxy(upstreamUrl: string): Promise<CuttingProxy> {
  const upstream = new URL(upstreamUrl);
  const sseSockets = new Set<Socket>();
  const allSockets = new Set<Socket>();
  const sseRequests: SseRequest[] = [];
  const accepted = new WeakSet<Socket>();
  let acceptedCount = 0;
  let refusals: { status: number; count: number } | undefined;
  const held: string[] = [];
  const holding = new WeakSet<Socket>();

  const server = createServer((client) => {
    const target = connect({ host: upstream.hostname, port: Number(upstream.port) });
    allSockets.add(client).add(target);
    const closeBoth = () => {
      client.destroy();
      target.destroy();
      sseSockets.delete(client);
      allSockets.delete(client);
      allSockets.delete(target);
    };
    client.on("error", closeBoth).on("close", closeBoth);
    target.on("error", closeBoth).on("close", closeBoth);
    client.on("data", (chunk: Buffer) => {
      const text = chunk.toString("latin1");
      if (holding.has(client) || held.some((line) => text.startsWith(line))) {
        holding.add(client);
        return;
      }
      // Request heads are a few hundred bytes and arrive in one chunk on loopback.
      const head = ssePath.exec(chunk.toString("latin1"));
      if (head?.[1]) {
        const lastEventId = /\r\nlast-event-id: *([^\r]*)\r\n/i.exec(chunk.toString("latin1"))?.[1];
        sseRequests.push({ target: head[1], input: parseInput(head[1]), lastEventIdHeader: lastEventId });
        if (refusals && refusals.count > 0) {
          refusals.count -= 1;
          client.end(`HTTP/1.1 ${refusals.status} Refused by test proxy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
          return;
        }
        sseSockets.add(client);
      }
      target.write(chunk);
    });
    target.on("data", (chunk: Buffer) => {
      client.write(chunk);
      // Written before any cut: destroying a socket whose input was all read ends it with FIN, after this data.
      if (sseSockets.has(client) && !accepted.has(client) && chunk.toString("latin1").includes("event: connected")) {
        accepted.add(client);
        acceptedCount += 1;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");

  return {
    url: `http://127.0.0.1:${address.port}`,
    sseRequests,
    acceptedSubscriptions: () => acceptedCount,
    cutSubscriptions() {
      const cut = [...sseSockets];
      for (const socket of cut) socket.destroy();
      return cut.length;
    },
    refuseSubscriptions(status, count = 1) {
      refusals = { status, count };
    },
    holdRequests(requestLine) {
      held.push(requestLine);
    },
    async close() {
      for (const socket of allSockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
