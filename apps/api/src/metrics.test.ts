import { afterEach, describe, expect, it } from "vitest";
import { collectRun, startTestApi, type TestApi } from "./test-support/harness.js";

/** GET /metrics (DESIGN.md §8): Prometheus text on every replica, embedded mode included. */

const apis: TestApi[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

async function api(env: Record<string, string> = {}): Promise<TestApi> {
  const started = await startTestApi({ env });
  apis.push(started);
  return started;
}

describe("GET /metrics", () => {
  it("needs no auth without METRICS_TOKEN; counts runs, their end and TTFT (with _bucket lines before and after)", async () => {
    const { url, client, sim } = await api();
    const before = await fetch(`${url}/metrics`);
    expect(before.status).toBe(200);
    expect(before.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text0 = await before.text();
    // A histogram without observations prints its buckets too: dashboards see the series from the start.
    expect(text0).toMatch(/^streamchat_ttft_seconds_bucket\{le="0.025",replica="[^"]+"\} 0$/m);
    expect(text0).toMatch(/^streamchat_ttft_seconds_bucket\{le="\+Inf",replica="[^"]+"\} 0$/m);
    expect(text0).toMatch(/^streamchat_runs_started_total\{replica="[^"]+"\} 0$/m);
    expect(text0).toMatch(/^streamchat_store_up\{replica="[^"]+"\} 1$/m);
    // Embedded: no Redis, no Redis gauge value.
    expect(text0).not.toMatch(/^streamchat_redis_up\{/m);

    const control = sim.control();
    const { runId } = await client().chat.send.mutate({ message: "count me" });
    await control.connected;
    await control.push({ content: "hi" });
    const active = await (await fetch(`${url}/metrics`)).text();
    expect(active).toMatch(/^streamchat_runs_active\{replica="[^"]+"\} 1$/m);
    await control.push({ done: true });
    await collectRun(client(), runId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await (await fetch(`${url}/metrics`)).text();
    expect(after).toMatch(/^streamchat_runs_started_total\{replica="[^"]+"\} 1$/m);
    expect(after).toMatch(/^streamchat_runs_finished_total\{reason="stop",replica="[^"]+"\} 1$/m);
    expect(after).toMatch(/^streamchat_runs_active\{replica="[^"]+"\} 0$/m);
    expect(after).toMatch(/^streamchat_ttft_seconds_count\{replica="[^"]+"\} 1$/m);
    expect(after).toMatch(/^streamchat_ttft_seconds_bucket\{le="\+Inf",replica="[^"]+"\} 1$/m);
    expect(after).toMatch(/^streamchat_subscriptions_active\{replica="[^"]+"\} 0$/m);
  });

  it("with METRICS_TOKEN: 401 without the bearer token or with a wrong one, 200 with it; /healthz stays open", async () => {
    const { url } = await api({ METRICS_TOKEN: "s3cret-metrics" });
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: "Bearer wrong-token" } })).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: "Bearer s3cret-metrics" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("streamchat_ttft_seconds_bucket");
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("with METRICS_TOKEN: takes the bearer scheme in any case, as the other routes do", async () => {
    const { url, client } = await api({ METRICS_TOKEN: "s3cret-metrics", AUTH_TOKENS: "alice:alice-token-1" });
    // The same header form works on tRPC (auth.ts): HTTP auth schemes are case-insensitive.
    expect(await client().health.query()).toBeDefined();
    const trpc = await fetch(`${url}/trpc/models.list`, { headers: { authorization: "bearer alice-token-1" } });
    expect(trpc.status).toBe(200);
    for (const authorization of ["bearer s3cret-metrics", "BEARER s3cret-metrics", "Bearer  s3cret-metrics"]) {
      const res = await fetch(`${url}/metrics`, { headers: { authorization } });
      expect(res.status, authorization).toBe(200);
    }
    for (const authorization of ["Basic s3cret-metrics", "s3cret-metrics", "Bearer s3cret-metrics-", "Bearer"]) {
      const res = await fetch(`${url}/metrics`, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
    }
  });
});
