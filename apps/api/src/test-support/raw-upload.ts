import { connect, type Socket } from "node:net";

export interface RawUpload {
  socket: Socket;
  /** What the client received, and the error code its connection ended with (EPIPE, ECONNRESET), if any. */
  closed: Promise<{ received: string; error: string | undefined }>;
}

/**
 * A client on a bare socket that POSTs a body of `mib` MiB (Infinity: without end), chunked when the headers say so,
 * honouring backpressure, and reads nothing until `readAfter` resolves: a client still uploading when the server
 * answers, as curl or a browser is when a server refuses a large body early.
 */
export function rawUpload(opts: {
  port: number;
  path: string;
  headers: Record<string, string>;
  mib: number;
  readAfter: Promise<unknown>;
}): RawUpload {
  const socket = connect(opts.port, "127.0.0.1");
  socket.pause();
  let received = "";
  let error: string | undefined;
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code));
  const closed = new Promise<{ received: string; error: string | undefined }>((resolve) => socket.on("close", () => resolve({ received, error })));
  const head = Object.entries({ host: `127.0.0.1:${opts.port}`, ...opts.headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.write(`POST ${opts.path} HTTP/1.1\r\n${head.join("")}\r\n`);
  const mib = Buffer.alloc(1024 * 1024, "a");
  const chunk = opts.headers["transfer-encoding"] === "chunked" ? Buffer.concat([Buffer.from("100000\r\n"), mib, Buffer.from("\r\n")]) : mib;
  let sent = 0;
  const pump = () => {
    while (!socket.destroyed && sent < opts.mib) {
      sent += 1;
      if (!socket.write(chunk)) return void socket.once("drain", pump);
    }
  };
  pump();
  void opts.readAfter.then(() => socket.resume());
  return { socket, closed };
}
