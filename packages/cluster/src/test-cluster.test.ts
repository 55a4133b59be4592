import pg from "pg";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestCluster, clusterAvailability, inCi, startTestCluster } from "./test-cluster.js";

const { urls, missing } = clusterAvailability();
if (!urls && !inCi) console.warn(`[cluster] SKIPPED the two-replica topology tests: ${missing.join(", ")} missing (run under scripts/test-services.sh)`);

describe.runIf(!urls && inCi)("the cluster topology under CI", () => {
  it("has its services (CI=true requires PostgreSQL, Redis and nginx)", () => {
    throw new Error(`missing under CI=true: ${missing.join(", ")}`);
  });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** chat.events as raw SSE: the ids and event types, to the end of the stream. */
async function readEvents(url: string, runId: string): Promise<Array<{ id: number; type: string; data: unknown }>> {
  const response = await fetch(`${url}/trpc/chat.events?input=${encodeURIComponent(JSON.stringify({ runId }))}`);
  expect(response.status).toBe(200);
  const text = await response.text();
  const out: Array<{ id: number; type: string; data: unknown }> = [];
  for (const block of text.split("\n\n")) {
    const id = /^id: (\d+)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (id === undefined || data === undefined) continue;
    const parsed = JSON.parse(data) as { type: string };
    out.push({ id: Number(id), type: parsed.type, data: parsed });
  }
  return out;
}

describe.runIf(urls !== null)("two replicas behind nginx on the test run's PostgreSQL and Redis", () => {
  let sim: Simulator;
  let cluster: TestCluster;

  beforeAll(async () => {
    sim = await startSimulator({ tokenDelayMs: 1 });
    cluster = await startTestCluster({
      services: urls!,
      env: { CHAT_PROVIDER: "ollama", OLLAMA_HOST: sim.url, CHAT_MODEL: "demo", LOG_LEVEL: "info" },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await sim?.close();
  });

  it("starts two replicas with distinct ids and pids, each healthy with Redis", async () => {
    expect(cluster.replicas.map((r) => r.name)).toEqual(["api-1", "api-2"]);
    const ids = cluster.replicas.map((r) => r.replicaId());
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(2);
    for (const replica of cluster.replicas) {
      const health = await fetch(`${replica.url}/healthz`);
      expect(await health.json()).toMatchObject({ ok: true, store: { ok: true }, redis: { ok: true } });
    }
  });

  it("nginx spreads requests over both replicas (no sticky sessions)", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const metrics = await fetch(`${cluster.url}/metrics`);
      expect(metrics.status).toBe(200);
      const replica = /replica="([^"]+)"/.exec(await metrics.text())?.[1];
      if (replica) seen.add(replica);
    }
    expect(seen).toEqual(new Set(cluster.replicas.map((r) => r.replicaId())));
  });

  it("answers a chat through nginx: send and events on whichever replicas nginx picks, every seq once and in order", async () => {
    const sent = await fetch(`${cluster.url}/trpc/chat.send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Tell me about rivers" }),
    });
    expect(sent.status).toBe(200);
    const { runId } = ((await sent.json()) as { result: { data: { runId: string } } }).result.data;
    const events = await readEvents(cluster.url, runId);
    expect(events.at(-1)?.type).toBe("done");
    expect(events.filter((e) => e.type === "token").length).toBeGreaterThan(5);
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    // The same run read again through nginx (another replica, round robin) gives the same events.
    expect(await readEvents(cluster.url, runId)).toEqual(events);
  });

  it("reads the CPU of every part, PostgreSQL and nginx as whole process trees", () => {
    const cpu = cluster.cpuMs();
    expect(cpu.replicas).toBeGreaterThan(0);
    expect(cpu.postgres).toBeGreaterThan(0);
    expect(cpu.total).toBe(cpu.replicas + cpu.nginx + cpu.postgres + cpu.redis);
    for (const pid of [...cluster.pids.replicas, cluster.pids.nginx, cluster.pids.postgres, cluster.pids.redis]) expect(alive(pid)).toBe(true);
  });

  it("close() stops the replicas and nginx and drops the schema, and leaves the services running", async () => {
    const own = [...cluster.pids.replicas, cluster.pids.nginx];
    const schema = cluster.schema.name;
    await cluster.close();
    for (const pid of own) expect(alive(pid)).toBe(false);
    expect(alive(cluster.pids.postgres)).toBe(true);
    expect(alive(cluster.pids.redis)).toBe(true);
    const client = new pg.Client({ connectionString: urls!.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
