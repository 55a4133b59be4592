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
  /**
   * Answers the next `count` requests whose line starts with `requestLine` with an HTML `status` page (a proxy whose
   * upstream failed). `forwarded`: the API got the request and acted on it; only its answer is lost. `onFailed` is
   * called as each page is written.
   */
  failRequests(requestLine: string, status: number, opts?: { forwarded?: boolean; count?: number; onFailed?: () => void }): void;
  close(): Promise<void>;
}

const errorPage = (status: number) => {
  const body = `<html><body>${status} from the test proxy</body></html>`;
  return `HTTP/1.1 ${status} Proxy Error\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
};

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
  const failures: Array<{ requestLine: string; status: number; forwarded: boolean; count: number; onFailed: () => void }> = [];
  /** Connections whose next answer from the API is replaced by this status's page. */
  const answerLost = new WeakMap<Socket, { status: number; onFailed: () => void }>();

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
      const failure = failures.find((f) => f.count > 0 && text.startsWith(f.requestLine));
      if (failure) {
        failure.count -= 1;
        if (!failure.forwarded) {
          client.end(errorPage(failure.status));
          failure.onFailed();
          return;
        }
        answerLost.set(client, { status: failure.status, onFailed: failure.onFailed });
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
      const lost = answerLost.get(client);
      if (lost !== undefined) {
        // The client's socket ends after the page is written; the API's answer goes nowhere.
        client.end(errorPage(lost.status));
        target.removeAllListeners("close").on("error", () => {}).destroy();
        answerLost.delete(client);
        lost.onFailed();
        return;
      }
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
    failRequests(requestLine, status, opts = {}) {
      failures.push({ requestLine, status, forwarded: opts.forwarded ?? false, count: opts.count ?? 1, onFailed: opts.onFailed ?? (() => {}) });
    },
    async close() {
      for (const socket of allSockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
