import { connect, createServer, type Socket } from "node:net";

export interface TcpRelay {
  /** The target's URL with this relay's host and port. */
  url: string;
  /** From now on the server's replies are held back (the connections stay open): a server that stops answering. */
  freeze(): void;
  /** Sends what was held back and relays again. */
  thaw(): void;
  /**
   * The next client message that contains `marker` reaches the server, but its reply does not: the client's connection
   * is cut once the reply holds `replyEnd` (e.g. PostgreSQL's ReadyForQuery: the statement's transaction has ended).
   */
  loseReplyTo(marker: string, replyEnd: Buffer): void;
  /** Replies lost so far. */
  lost(): number;
  /**
   * From the first `marker` clients send, the marker and everything after it (on every connection) is dropped before
   * the server: a process that dies right before those bytes leave it. What came before the marker in the same chunk
   * still reaches the server (the kernel may hand the relay two writes as one chunk, when it reads late). Resolves at
   * the marker. A marker split across two chunks is not seen.
   */
  cutFrom(marker: string): Promise<void>;
  /**
   * From now on what clients send is held back before the server (in order, the connections open) until
   * `releaseRequests`: a client whose writes (a database commit) are as late as a test wants.
   */
  holdRequests(): void;
  /** Sends what was held back and relays again. */
  releaseRequests(): void;
  /** How many times clients have sent `marker` so far (e.g. one run's stream key in a read). */
  sent(marker: string): number;
  /** Breaks every connection and refuses new ones until `restore`: the server out of this client's reach, its data intact. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP relay on loopback to the host and port of `targetUrl` (redis://, postgres://…), for the faults a connection
 * can show: a server that stops answering, a reply lost after the server acted, requests held back, a server out of
 * reach.
 */
export async function startTcpRelay(targetUrl: string): Promise<TcpRelay> {
  const target = new URL(targetUrl);
  let frozen = false;
  const held: Array<{ client: Socket; data: Buffer }> = [];
  let losing: { marker: string; replyEnd: Buffer } | undefined;
  let lost = 0;
  let cutting: { marker: string; reached: () => void; done: boolean } | undefined;
  let holdingRequests = false;
  const heldRequests: Array<{ upstream: Socket; data: Buffer }> = [];
  let refusing = false;
  // Kept whole: a marker split across two chunks still counts once.
  let sentText = "";
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let replyEnd: Buffer | undefined;
    let reply = Buffer.alloc(0);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("data", (chunk: Buffer) => {
      if (cutting?.done) return;
      let data = chunk;
      const at = cutting ? data.indexOf(cutting.marker) : -1;
      if (cutting && at >= 0) {
        cutting.done = true;
        cutting.reached();
        data = data.subarray(0, at);
        if (data.length === 0) return;
      }
      sentText += data.toString("latin1");
      if (losing && data.includes(losing.marker)) {
        replyEnd = losing.replyEnd;
        losing = undefined;
      }
      if (holdingRequests) heldRequests.push({ upstream, data });
      else upstream.write(data);
    });
    upstream.on("data", (data) => {
      if (replyEnd) {
        reply = Buffer.concat([reply, data]);
        if (!reply.includes(replyEnd)) return;
        lost += 1;
        return end();
      }
      if (frozen) held.push({ client, data });
      else client.write(data);
    });
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the relay has no TCP port");
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  return {
    url: url.toString(),
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const { client, data } of held.splice(0)) if (!client.destroyed) client.write(data);
    },
    loseReplyTo: (marker, end) => {
      losing = { marker, replyEnd: end };
    },
    lost: () => lost,
    cutFrom: (marker) =>
      new Promise<void>((resolve) => {
        cutting = { marker, reached: resolve, done: false };
      }),
    holdRequests: () => {
      holdingRequests = true;
    },
    releaseRequests: () => {
      holdingRequests = false;
      for (const { upstream, data } of heldRequests.splice(0)) if (!upstream.destroyed) upstream.write(data);
    },
    sent: (marker) => sentText.split(marker).length - 1,
    cut: () => {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    restore: () => {
      refusing = false;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
