// A URL where something answers, but not the streamchat API (a wrong path, another service on that port, a proxy's
// error page): the error says what answered, with its status, and a subscription is not retried into a timeout.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatClient } from "./client.js";
import { ChatClientError } from "./errors.js";
import { exitCodes } from "./cli/main.js";
import { runCliCaptured } from "./test-support/run-cli.js";

async function clientError(promise: Promise<unknown>): Promise<ChatClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatClientError);
  return error as ChatClientError;
}

describe("a server that is not the streamchat API", () => {
  let server: Server;
  let url: string;
  const requests: string[] = [];
  let status = 404;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(status, { "content-type": "text/html" }).end(`<html><body>${status}</body></html>`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    url = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("a query or a mutation fails with the answer's status, saying the URL is not the API's", async () => {
    status = 404;
    const client = createChatClient({ url });
    for (const call of [client.health(), client.send("Hello")]) {
      const error = await clientError(call);
      expect(error).toMatchObject({ code: "bad_request", status: 404, trpcCode: undefined, retryable: false });
      expect(error.message).toMatch(/404.*not the streamchat API/);
    }
  });

  it("a subscription refused with 404 fails at once with that status (no reconnects)", async () => {
    status = 404;
    requests.length = 0;
    const error = await clientError(createChatClient({ url }).events("some-run").next());
    expect(error).toMatchObject({ code: "bad_request", status: 404, retryable: false });
    expect(requests).toHaveLength(1);
  });

  it("a 502 page (a proxy whose upstream is down) keeps its status and stays retryable", async () => {
    status = 502;
    const error = await clientError(createChatClient({ url }).health());
    expect(error).toMatchObject({ code: "internal", status: 502, retryable: true });
    expect(error.message).toMatch(/502/);
  });

  it("the CLI names the status and the URL it used, exit 1", async () => {
    status = 404;
    const { code, stderr } = await runCliCaptured(["Hello"], { CHAT_URL: url });
    expect(code).toBe(exitCodes.failed);
    expect(stderr).toContain("404");
    expect(stderr).toContain(url);
  });

  it("chat list, search and models say the same as a question, exit 1, nothing on stdout", async () => {
    status = 404;
    const asked = await runCliCaptured(["Hello"], { CHAT_URL: url });
    expect(asked.stderr).toBe(`error: bad_request — The server answered 404, which is not the streamchat API: is the URL right? (at ${url}; pass --url or set CHAT_URL)\n`);
    for (const argv of [["list"], ["search", "x"], ["models", "--json"]]) {
      expect(await runCliCaptured(argv, { CHAT_URL: url })).toEqual({ code: exitCodes.failed, stdout: "", stderr: asked.stderr });
    }
  });
});
