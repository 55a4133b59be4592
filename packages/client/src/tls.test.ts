// A server reached over https whose certificate this process does not trust (self-signed, a private CA): the error
// says so, rather than that the server is not running, and is not retried (another try meets the same certificate).
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient } from "./client.js";
import { ChatClientError } from "./errors.js";
import { exitCodes } from "./cli/main.js";
import { runCliCaptured } from "./test-support/run-cli.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url));

async function clientError(promise: Promise<unknown>): Promise<ChatClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatClientError);
  return error as ChatClientError;
}

describe("an https server with an untrusted certificate", () => {
  let server: Server;
  let url: string;
  let connections = 0;

  beforeAll(async () => {
    server = createServer({ key: fixture("key.pem"), cert: fixture("cert.pem") }, (_req, res) => res.end("{}"));
    // TLS handshakes begun: one per try, the refused ones included.
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    url = `https://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("fails with a message about the certificate, not retryable", async () => {
    const client = createChatClient({ url });
    for (const call of [client.health(), client.send("Hello")]) {
      const error = await clientError(call);
      expect(error).toMatchObject({ code: "unreachable", retryable: false });
      expect(error.message).toMatch(/certificate.*DEPTH_ZERO_SELF_SIGNED_CERT/);
    }
  });

  it("a run's events fail with the certificate's code at the first try, not as a lost connection after retries", async () => {
    connections = 0;
    const client = createChatClient({ url });
    const events = (async () => {
      for await (const event of client.events("run-1")) void event;
    })();
    const error = await clientError(events);
    expect(error).toMatchObject({ code: "unreachable", retryable: false });
    expect(error.message).toMatch(/certificate.*DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(connections).toBe(1);
  });

  it("the CLI says the certificate is not trusted and how to trust a private CA, exit 1", async () => {
    const { code, stderr } = await runCliCaptured(["Hello"], { CHAT_URL: url });
    expect(code).toBe(exitCodes.failed);
    expect(stderr).toContain("certificate");
    expect(stderr).toContain("NODE_EXTRA_CA_CERTS");
    expect(stderr).not.toContain("is it running");
  });
});
