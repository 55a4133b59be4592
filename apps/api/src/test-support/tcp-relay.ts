import { connect, createServer, type Socket } from "node:net";

export interface TcpRelay {
  /** The target's URL with this relay's host and port. */
  url: string;
  /** From now on the server's replies are held back (the connections stay open): a server that stops answering. */
  freeze(): void;
  /** Sends what was held back and relays again. */
  thaw(): void;
  close(): Promise<void>;
}

/** A TCP relay on loopback to the host and port of `targetUrl` (redis://, postgres://…), for faults a socket can show. */
export async function startTcpRelay(targetUrl: string): Promise<TcpRelay> {
  const target = new URL(targetUrl);
  let frozen = false;
  const held: Array<{ client: Socket; data: Buffer }> = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on("data", (data) => upstream.write(data));
    upstream.on("data", (data) => (frozen ? held.push({ client, data }) : client.write(data)));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
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
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
