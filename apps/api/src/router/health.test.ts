import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, testBackend, type TestApi } from "../test-support/harness.js";
import { maxBatchSize } from "../trpc-http.js";

describe("health", () => {
  describe("with AUTH_TOKENS", () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1" } });
    });
    afterAll(() => api?.close());

    it("tells an anonymous caller only whether the service is up, the store's state and the demo flag", async () => {
      const anonymous = await api.client().health.query();
      expect(anonymous).toEqual({ ok: true, demo: true, store: { ok: true } });
      // The raw answer too: nothing else on the wire.
      const raw = await (await fetch(`${api.url}/trpc/health`)).text();
      expect(raw).not.toMatch(/ollama|providerVersion|sqlite|"version"/);
    });

    it("shows provider, versions and store kind to a signed-in caller", async () => {
      expect(await api.client("alice-token-1").health.query()).toEqual({
        ok: true,
        provider: "ollama",
        demo: true,
        providerReachable: true,
        providerVersion: expect.any(String),
        store: { kind: testBackend, ok: true },
        version: "0.1.0",
        limits: { maxImportBytes: 10 * 1024 * 1024, maxImageBytes: 5 * 1024 * 1024, maxFileChars: 100_000, maxFilesPerMessage: 8, maxContextTokens: 32_768 },
      });
    });

    it("a wrong token counts as anonymous", async () => {
      expect(await api.client("not-a-token").health.query()).toEqual({ ok: true, demo: true, store: { ok: true } });
    });

    it("one anonymous batch of health calls probes the model server once, not once per call", async () => {
      const before = api.sim.requests.length;
      const res = await fetch(`${api.url}/trpc/${Array.from({ length: maxBatchSize }, () => "health").join(",")}?batch=1`);
      expect(res.status).toBe(200);
      const answers = (await res.json()) as Array<{ result: { data: unknown } }>;
      expect(answers).toHaveLength(maxBatchSize);
      for (const answer of answers) expect(answer.result.data).toEqual({ ok: true, demo: true, store: { ok: true } });
      const probes = api.sim.requests.slice(before).filter((r) => r.path === "/api/version");
      expect(probes.length).toBeLessThanOrEqual(2);
      // Each later call probes anew: the answer is shared only while a probe is under way, never cached.
      await api.client().health.query();
      expect(api.sim.requests.slice(before).filter((r) => r.path === "/api/version").length).toBe(probes.length + 1);
    });

    it("GET /healthz needs no token and says only whether the store answers", async () => {
      const res = await fetch(`${api.url}/healthz`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.json()).toEqual({ ok: true, store: { ok: true } });
    });
  });

  it("GET /healthz answers 503 while the store does not answer", async () => {
    const api = await startTestApi();
    try {
      // A store that no longer answers (closed: its ping is false, as for a database that went away).
      await api.server.store.close();
      const res = await fetch(`${api.url}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ok: false, store: { ok: false } });
      expect(await api.client().health.query()).toMatchObject({ ok: false, store: { ok: false } });
    } finally {
      await api.close();
    }
  });

  it("tells a signed-in caller the limits the server runs with (MAX_IMPORT_BYTES, MAX_IMAGE_BYTES, MAX_CONTEXT_TOKENS), not an anonymous one", async () => {
    const api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1", MAX_IMPORT_BYTES: "65536", MAX_IMAGE_BYTES: "4096", MAX_CONTEXT_TOKENS: "8192" } });
    try {
      expect(await api.client("alice-token-1").health.query()).toMatchObject({ limits: { maxImportBytes: 65_536, maxImageBytes: 4096, maxContextTokens: 8192 } });
      expect(await api.client().health.query()).not.toHaveProperty("limits");
    } finally {
      await api.close();
    }
  });

  it("without AUTH_TOKENS every caller is the local user and sees the details", async () => {
    const api = await startTestApi();
    try {
      expect(await api.client().health.query()).toMatchObject({ ok: true, provider: "ollama", providerVersion: expect.any(String) });
    } finally {
      await api.close();
    }
  });
});
