import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "./test-support/harness.js";

/**
 * The API itself with LEAN_MUTATIONS=1 (the default: mutations answered by lean-mutations.ts) and LEAN_MUTATIONS=0
 * (tRPC's fetch adapter): the same requests get the same status, headers (helmet's, CORS's, tRPC's) and bytes, but
 * for ids and the framing (a Content-Length against chunked); the body limits of the routes are the same.
 */

const origin = "http://app.example.test";
// MAX_IMAGE_BYTES 1024, MAX_FILE_CHARS 1: chat.send takes 4 × 1024 as base64, 8 × 6 plus MAX_BODY_BYTES (7,558 bytes), other calls 2,048.
const env = { AUTH_TOKENS: "alice:alice-token-1", CORS_ORIGINS: origin, MAX_BODY_BYTES: "2048", MAX_IMAGE_BYTES: "1024", MAX_FILE_CHARS: "1" };
const headers = { authorization: "Bearer alice-token-1", origin, "content-type": "application/json" };
let lean: TestApi;
let trpc: TestApi;

beforeAll(async () => {
  [lean, trpc] = await Promise.all([startTestApi({ env }), startTestApi({ env: { ...env, LEAN_MUTATIONS: "0" } })]);
});
afterAll(async () => {
  await Promise.all([lean?.close(), trpc?.close()]);
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function post(api: TestApi, path: string, body: unknown, extra: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${api.url}/trpc/${path}`, { method: "POST", headers: { ...headers, ...extra }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const { date: _date, "content-length": _length, "transfer-encoding": _chunked, ...rest } = Object.fromEntries(res.headers);
  return { status: res.status, headers: rest, body: await res.text() };
}

/** The same request to both APIs; ids (different on each) are replaced by their role. */
async function same(path: string, body: unknown, extra: Record<string, string> = {}): Promise<Answer> {
  const [a, b] = await Promise.all([lean, trpc].map((api) => post(api, path, body, extra)));
  const scrub = (answer: Answer) => ({ ...answer, body: answer.body.replace(/"(runId|conversationId|messageId|id)":"[^"]+"/g, '"$1":"<id>"') });
  expect(scrub(a!)).toEqual(scrub(b!));
  return a!;
}

describe("mutations in the API, LEAN_MUTATIONS=1 against LEAN_MUTATIONS=0", () => {
  it("has a lean route per mutation only when LEAN_MUTATIONS is on; the import keeps its own", () => {
    for (const path of ["chat.send", "chat.cancel", "conversations.rename"]) {
      expect([path, lean.server.app.hasRoute({ method: "POST", url: `/trpc/${path}` })]).toEqual([path, true]);
      expect([path, trpc.server.app.hasRoute({ method: "POST", url: `/trpc/${path}` })]).toEqual([path, false]);
    }
    expect(trpc.server.app.hasRoute({ method: "POST", url: "/trpc/conversations.import" })).toBe(true);
  });

  it("the same answers to a send, alone and batched, and to its failures", async () => {
    const sent = await same("chat.send", { message: "hello there" });
    expect(sent.status).toBe(200);
    expect(sent.headers).toMatchObject({ "content-type": "application/json", vary: "trpc-accept, accept", "access-control-allow-origin": origin });
    expect(JSON.parse(sent.body)).toMatchObject({ result: { data: { runId: expect.any(String), conversationId: expect.any(String) } } });
    expect((await same("chat.send?batch=1", { 0: { message: "hello again" } })).status).toBe(200);
    // zod, unknown conversation, no token, a body that is not JSON
    expect((await same("chat.send", { message: "" })).status).toBe(400);
    expect((await same("chat.send", { message: "hi", conversationId: "nope" })).status).toBe(404);
    expect((await same("chat.send", { message: "hi" }, { authorization: "" })).status).toBe(401);
    expect((await same("chat.send", "{oops")).status).toBe(400);
  });

  it("keeps each route's body limit: attachments on chat.send, MAX_BODY_BYTES elsewhere", async () => {
    const big = "x".repeat(3000);
    // Over 2,048 but under 7,558: a send may be that large (zod then refuses the message's length, or not).
    const send = await same("chat.send", { message: big });
    expect(send.status).not.toBe(413);
    const rename = await same("conversations.rename", { conversationId: "c", title: big });
    expect(rename.status).toBe(413);
    expect(JSON.parse(rename.body)).toMatchObject({ error: { message: "Request body is too large (at most 2048 bytes).", data: { code: "PAYLOAD_TOO_LARGE" } } });
    expect((await same("chat.send", { message: "y".repeat(8000) })).status).toBe(413);
  });
});
