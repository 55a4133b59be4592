import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (bound, then released). Another process can take it before
 * the caller binds it; the callers retry or fail loudly, never hang.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port from the kernel");
  return address.port;
}
