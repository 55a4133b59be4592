import { Agent, request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArrivingText } from "../test-support/arriving-text.js";
import { collectRun, startTestApi, type TestApi } from "../test-support/harness.js";
import { normalised, rawGet } from "../test-support/sse-conformance.js";

/**
 * The API itself with LEAN_SSE=1 (the default: chat.events through the lean writer) and LEAN_SSE=0 (tRPC's
 * producer): the same requests get the same status, headers (helmet's, CORS's, tRPC's) and bytes, but for
 * what differs between two servers anyway (ids, clocks).
 */

const origin = "http://app.example.test";
const env = { AUTH_TOKENS: "alice:alice-token-1", CORS_ORIGINS: origin };
const authorization = "Bearer alice-token-1";
let lean: TestApi;
let trpc: TestApi;

beforeAll(async () => {
  [lean, trpc] = await Promise.all([startTestApi({ env }), startTestApi({ env: { ...env, LEAN_SSE: "0" } })]);
});
afterAll(async () => {
  await Promise.all([lean?.close(), trpc?.close()]);
});

const events = (api: TestApi, input: unknown, extra = "") =>
  `${api.url}/trpc/chat.events?input=${encodeURIComponent(JSON.stringify(input))}${extra}`;

/** Ids, clocks and usage figures of a run differ between two servers; the rest must not. */
function scrub(body: string, runId: string, conversationId: string): string {
  return body
    .replaceAll(runId, "<run>")
    .replaceAll(conversationId, "<conversation>")
    .replace(/"(at|(?!reconnect)\w+Ms|tokensPerSecond)":[\d.]+/g, '"$1":0');
}

describe("chat.events in the API, LEAN_SSE=1 against LEAN_SSE=0", () => {
  it("is served by the lean route only when LEAN_SSE is on", () => {
    expect(lean.server.app.hasRoute({ method: "GET", url: "/trpc/chat.events" })).toBe(true);
    expect(trpc.server.app.hasRoute({ method: "GET", url: "/trpc/chat.events" })).toBe(false);
  });

  it("the same headers and events for a whole run, replayed and resumed", async () => {
    const answers = await Promise.all(
      [lean, trpc].map(async (api) => {
        const client = api.client("alice-token-1");
        const { runId, conversationId } = await client.chat.send.mutate({ message: "hello there" });
        await collectRun(client, runId);
        const headers = { authorization, origin };
        const whole = normalised(await rawGet(events(api, { runId }), headers));
        const resumed = normalised(await rawGet(events(api, { runId }), { ...headers, "last-event-id": "3" }));
        return {
          whole: { ...whole, body: scrub(whole.body, runId, conversationId) },
          resumed: { ...resumed, body: scrub(resumed.body, runId, conversationId) },
        };
      }),
    );
    const [viaLean, viaTrpc] = answers;
    expect(viaLean).toEqual(viaTrpc);
    expect(viaLean!.whole.headers).toMatchObject({
      "content-type": "text/event-stream",
      "access-control-allow-origin": origin,
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none';frame-ancestors 'none'",
    });
    expect(viaLean!.whole.body).toMatch(/^event: connected\ndata: \{"reconnectAfterInactivityMs":25000\}\n\n\ndata: \{"type":"run-start"/);
    expect(viaLean!.whole.body).toMatch(/"type":"done".*\nid: \d+\n\n\nevent: return\ndata: \n\n\n$/s);
    expect(viaLean!.resumed.body).toMatch(/^event: connected\n.*\n\n\ndata: [^\n]*\nid: 4\n/s);
  });

  it("the same bytes for a run followed live, token by token (the lean writer takes them straight from the run)", async () => {
    const answers = await Promise.all(
      [lean, trpc].map(async (api) => {
        const control = api.sim.control();
        const { runId, conversationId } = await api.client("alice-token-1").chat.send.mutate({ message: "live please" });
        await control.connected;
        const live = openEvents(events(api, { runId }), { authorization, origin });
        await live.until('"type":"run-start"');
        // Each token is written once the previous one reached the client: the subscriber is caught up every time.
        for (const text of ["alpha ", "beta ", "gamma"]) {
          await control.push({ content: text });
          await live.until(`"text":"${text}"`);
        }
        await control.push({ done: true });
        const answer = await live.ended;
        return { ...answer, body: scrub(answer.body, runId, conversationId) };
      }),
    );
    const [viaLean, viaTrpc] = answers;
    expect(viaLean).toEqual(viaTrpc);
    expect(viaLean!.body.match(/"type":"token"/g)).toHaveLength(3);
    expect(viaLean!.body).toMatch(/"type":"done".*\nid: \d+\n\n\nevent: return\ndata: \n\n\n$/s);
  });

  it("a keep-alive connection serves request after request after live streams written straight from their runs", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const control = lean.sim.control();
        const { runId } = await lean.client("alice-token-1").chat.send.mutate({ message: `keep-alive ${i}` });
        await control.connected;
        const live = openEvents(events(lean, { runId }), { authorization }, agent);
        await live.until('"type":"run-start"');
        // The last token and the done in one push: the writer's held direct write and the pulled done share a turn.
        await control.push({ content: `token ${i}` });
        await live.until(`"text":"token ${i}"`);
        await control.push({ done: true });
        const answer = await live.ended;
        expect(answer.status).toBe(200);
        expect(answer.body).toMatch(/"type":"done".*\nevent: return\ndata: \n\n\n$/s);
      }
      // Every stream went over the one pooled connection, and it still answers.
      const health = await new Promise<number>((resolve, reject) => {
        httpRequest(`${lean.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        }).on("error", reject).end();
      });
      expect(health).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it("the same errors: no token, a token in connectionParams, an unknown run, a bad lastEventId", async () => {
    const cases: Array<[unknown, Record<string, string>, string]> = [
      [{ runId: "nope" }, {}, ""],
      [{ runId: "nope" }, {}, `&connectionParams=${encodeURIComponent(JSON.stringify({ token: "alice-token-1" }))}`],
      [{ runId: "nope" }, { authorization }, ""],
      [{ runId: "nope", lastEventId: "abc" }, { authorization }, ""],
      [{ runId: "" }, { authorization, origin }, ""],
    ];
    for (const [input, headers, extra] of cases) {
      const [a, b] = await Promise.all([lean, trpc].map(async (api) => normalised(await rawGet(events(api, input, extra), headers))));
      expect(a).toEqual(b);
      expect(a!.body).toContain("event: serialized-error");
    }
  });
});

/** A GET of an SSE stream read as it arrives: wait for text in it, and its whole (normalised) answer at the end. */
function openEvents(url: string, headers: Record<string, string>, agent: Agent | false = false) {
  const body = new ArrivingText();
  const ended = new Promise<ReturnType<typeof normalised>>((resolve, reject) => {
    const req = httpRequest(url, { headers, agent }, (res) => {
      res.setEncoding("utf8");
      res.on("data", body.append);
      res.on("end", () => resolve(normalised({ status: res.statusCode ?? 0, headers: res.headers, body: body.text })));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
  return { ended, until: (text: string) => body.until(text) };
}
