import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionParamsToken, maxBatchSize, trpcCallOf } from "./trpc-http.js";
import { eventually, startTestApi, type TestApi } from "./test-support/harness.js";

describe("trpcCallOf", () => {
  it("reads the procedure paths of a call, split only for batch=1, as tRPC reads them", () => {
    expect(trpcCallOf("/trpc/chat.send")).toMatchObject({ paths: ["chat.send"], batch: false });
    expect(trpcCallOf("/trpc/health,models.list?batch=1&input=%7B%7D")).toMatchObject({ paths: ["health", "models.list"], batch: true });
    expect(trpcCallOf("/trpc/health,models.list")).toMatchObject({ paths: ["health,models.list"], batch: false });
    expect(trpcCallOf("/trpc/health%2Chealth?batch=1")?.paths).toEqual(["health", "health"]);
    expect(trpcCallOf("/trpc/health?x=1?batch=1")).toMatchObject({ paths: ["health"], batch: false, search: "x=1?batch=1" });
    expect(trpcCallOf("/trpc/health,health?batch=%31")?.batch).toBe(true);
  });

  it("is undefined for anything but procedure names under /trpc/", () => {
    for (const url of ["/api/chat", "/trpc", "/trpc/", "/trpc/%25", "/trpc/%E0%A4%A", "/trpc/a b", "/trpc/a/b"]) {
      expect(trpcCallOf(url), url).toBeUndefined();
    }
  });

  it("finds the token of connectionParams, and tells when they do not parse", () => {
    const query = (params: string) => new URLSearchParams({ connectionParams: params }).toString();
    expect(connectionParamsToken("")).toEqual({ token: undefined });
    expect(connectionParamsToken(query(JSON.stringify({ token: "t-123456" })))).toEqual({ token: "t-123456" });
    expect(connectionParamsToken(query("{nope"))).toBeNull();
  });
});

describe("batches over HTTP", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  const batchOf = (n: number, path = "health") => Array.from({ length: n }, () => path).join(",");
  const refusal = (calls: number) => ({
    error: {
      code: -32600,
      message: `Too many calls in one batch (${calls}, at most ${maxBatchSize}): split them into several requests (httpBatchLink's maxItems).`,
      data: { code: "BAD_REQUEST", httpStatus: 400, appCode: "bad_request" },
    },
  });

  it(`runs a batch of ${maxBatchSize} calls and refuses a larger one with a typed bad_request`, async () => {
    const ok = await fetch(`${api.url}/trpc/${batchOf(maxBatchSize)}?batch=1`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toHaveLength(maxBatchSize);
    for (const calls of [maxBatchSize + 1, 500]) {
      const res = await fetch(`${api.url}/trpc/${batchOf(calls)}?batch=1`);
      expect(res.status, String(calls)).toBe(400);
      expect(await res.json()).toEqual(refusal(calls));
    }
    // Without batch=1 the commas are one (unknown) procedure's name, as tRPC reads it: no batch to count.
    expect((await fetch(`${api.url}/trpc/${batchOf(maxBatchSize + 1)}`)).status).toBe(404);
  });

  it("refuses an oversized mutation batch on its headers, before its body is read", async () => {
    const socket = connect(Number(new URL(api.url).port), "127.0.0.1");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
    socket.on("error", () => {});
    const path = `/trpc/${batchOf(maxBatchSize + 1, "chat.cancel")}?batch=1`;
    // A body announced and never sent: the answer cannot have waited for it.
    socket.write(`POST ${path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"0":`);
    await eventually(() => received.includes('"appCode":"bad_request"}}}'), "the 400 before the body", 3000);
    expect(received).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(received.slice(received.indexOf("\r\n\r\n") + 4))).toEqual(refusal(maxBatchSize + 1));
    socket.destroy();
  });

  it("lets the official client batch up to the limit (httpBatchLink's maxItems splits larger ones)", async () => {
    const { createTRPCClient, httpBatchLink } = await import("@trpc/client");
    const client = createTRPCClient<import("./router/root.js").AppRouter>({
      links: [httpBatchLink({ url: `${api.url}/trpc`, maxItems: maxBatchSize })],
    });
    const answers = await Promise.all(Array.from({ length: maxBatchSize * 2 + 1 }, () => client.health.query()));
    expect(answers.every((answer) => answer.ok)).toBe(true);
  });
});
