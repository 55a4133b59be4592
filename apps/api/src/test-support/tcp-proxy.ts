import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in the test process between an API child and one of its servers (PostgreSQL, Redis), to put the
 * child's connections into states a real network or a crash produces at a chosen moment:
 * - `hold()` / `release()`: what the child sends (and what it is answered) waits in the proxy, then goes on in order
 *   (a server that stops answering for a while, the connections still open);
 * - `cutAt(match)`: from the first chunk the child sends that `match`es, that chunk and everything after it on every
 *   connection is dropped, never reaching the server (a process that dies right before those bytes leave it; the
 *   child is SIGKILLed after).
 */
export interface TcpProxy {
  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string;
  hold(): void;
  release(): void;
  /** Resolves once a chunk matched: nothing the child sends from there on reaches the server. */
  cutAt(match: (chunk: Buffer) => boolean): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  held: Array<{ to: Socket; chunk: Buffer }>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let holding = false;
  let cut = false;
  let cutMatch: ((chunk: Buffer) => boolean) | undefined;
  let onCut: (() => void) | undefined;

  const send = (pair: Pair, to: Socket, chunk: Buffer) => {
    if (holding) pair.held.push({ to, chunk });
    else if (!to.destroyed) to.write(chunk);
  };

  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    client.on("data", (chunk: Buffer) => {
      if (!cut && cutMatch?.(chunk)) {
        cut = true;
        onCut?.();
      }
      if (cut) return;
      send(pair, upstream, chunk);
    });
    upstream.on("data", (chunk: Buffer) => send(pair, client, chunk));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the proxy has no port");
  const port = address.port;

  return {
    url(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.toString();
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const pair of pairs) {
        for (const { to, chunk } of pair.held.splice(0)) if (!to.destroyed) to.write(chunk);
      }
    },
    cutAt(match) {
      return new Promise<void>((resolve) => {
        cutMatch = match;
        onCut = resolve;
      });
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
