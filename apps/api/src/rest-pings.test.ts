import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArrivingText } from "./test-support/arriving-text.js";
import { eventually, startTestApi, type TestApi } from "./test-support/harness.js";

// Short enough for a test; long enough that a stall of a busy machine cannot make a steadily written stream look quiet.
const pingIntervalMs = 1000;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ restPingIntervalMs: pingIntervalMs });
});
afterAll(() => api?.close());

/** A POST /api/chat/stream read as it arrives: wait for text in it, and its whole body at the end. */
function openStream(message: string) {
  const body = new ArrivingText();
  const ended = new Promise<string>((resolve, reject) => {
    const req = httpRequest(`${api.url}/api/chat/stream`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      res.setEncoding("utf8");
      res.on("data", body.append);
      res.on("end", () => resolve(body.text));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(JSON.stringify({ message }));
  });
  return { ended, body: () => body.text, until: (text: string) => body.until(text) };
}

const pings = (body: string) => body.split("\n\n").filter((block) => block === ": ping").length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("POST /api/chat/stream keep-alive pings", () => {
  it("pings a stream that stays quiet, again after each quiet interval, and ends it as usual", async () => {
    const control = api.sim.control();
    const stream = openStream("a slow model");
    await control.connected;
    await stream.until("event: thinking");
    // Quiet for the interval (and at most a quarter more): the first ping; as long again: the second.
    await eventually(() => pings(stream.body()) >= 2, "two pings of a quiet stream");
    await control.push({ content: "at last" });
    await control.push({ done: true });
    const body = await stream.ended;
    expect(body).toContain('event: token\ndata: "at last"\n\n');
    expect(body.endsWith("event: done\ndata: null\n\n")).toBe(true);
  });

  it("does not ping a stream that writes more often than the interval", async () => {
    const control = api.sim.control();
    const stream = openStream("a steady model");
    await control.connected;
    await stream.until("event: thinking");
    // Three intervals of tokens, ten an interval: never quiet long enough for a ping.
    for (let i = 0; i < 30; i++) {
      await control.push({ content: `t${i} ` });
      await stream.until(`"t${i} "`);
      await sleep(pingIntervalMs / 10);
    }
    await control.push({ done: true });
    const body = await stream.ended;
    expect(body.match(/event: token/g)).toHaveLength(30);
    expect(pings(body)).toBe(0);
  });
});
