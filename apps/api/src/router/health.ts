import { readFileSync } from "node:fs";
import { publicProcedure } from "../trpc.js";

const probeTimeoutMs = 1500;

// Read at run time: works from src (tsx, vitest) and dist alike, both one level below the package root.
const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

/**
 * Public, for load balancers and the web app's first paint: anyone learns whether the service is up and
 * whether it runs the demo model. What it runs on (provider kind, model server version, store kind, our
 * version) helps an attacker pick exploits, so only a signed-in caller sees it (everyone when AUTH_TOKENS
 * is unset: then every caller is the local user).
 */
export const healthProcedure = publicProcedure.query(async ({ ctx }) => {
  const { model } = ctx.provider;
  let providerVersion: string | null = null;
  let providerReachable = false;
  try {
    const signal = AbortSignal.timeout(probeTimeoutMs);
    if (model.version) providerVersion = await model.version({ signal });
    else await model.listModels?.({ signal });
    providerReachable = true;
  } catch {
    providerReachable = false;
  }
  const [storeOk, redisHealth] = await Promise.all([ctx.store.ping(), ctx.runs.streamsHealth()]);
  // Redis only in cluster mode (REDIS_URL): then a replica without it cannot stream runs.
  const redis = redisHealth ? { redis: { ok: redisHealth.ok } } : {};
  const ok = storeOk && providerReachable && (redisHealth?.ok ?? true);
  if (ctx.userId === null) return { ok, demo: ctx.provider.demo, store: { ok: storeOk }, ...redis };
  return {
    ok,
    ...redis,
    provider: ctx.provider.kind,
    demo: ctx.provider.demo,
    providerReachable,
    providerVersion,
    store: { kind: ctx.store.kind, ok: storeOk },
    version,
  };
});
