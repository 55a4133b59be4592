import { readFileSync } from "node:fs";
import { maxFilesPerMessage } from "@streamchat/core";
import { publicProcedure, type Context } from "../trpc.js";

const probeTimeoutMs = 1500;

// Read at run time: works from src (tsx, vitest) and dist alike, both one level below the package root.
const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

interface Probe {
  ok: boolean;
  storeOk: boolean;
  redisOk: boolean | undefined;
  providerReachable: boolean;
  providerVersion: string | null;
}

type ProbeContext = Pick<Context, "provider" | "store" | "runs">;

/**
 * The probes under way, per server (its provider handle): every health call while one runs shares its answer. Without
 * this one anonymous request could fan out to the model server and the database — a tRPC batch
 * (`/trpc/health,health,…`) runs each of its hundreds of calls at once, and each probed on its own.
 */
const inFlight = new WeakMap<object, Promise<Probe>>();

async function probe(ctx: ProbeContext): Promise<Probe> {
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
  const redisOk = redisHealth?.ok;
  return { ok: storeOk && providerReachable && (redisOk ?? true), storeOk, redisOk, providerReachable, providerVersion };
}

function sharedProbe(ctx: ProbeContext): Promise<Probe> {
  let pending = inFlight.get(ctx.provider);
  if (!pending) {
    pending = probe(ctx).finally(() => inFlight.delete(ctx.provider));
    inFlight.set(ctx.provider, pending);
  }
  return pending;
}

/**
 * Public, for load balancers and the web app's first paint: anyone learns whether the service is up and
 * whether it runs the demo model. What it runs on (provider kind, model server version, store kind, our
 * version) helps an attacker pick exploits, so only a signed-in caller sees it (everyone when AUTH_TOKENS
 * is unset: then every caller is the local user). A signed-in caller also learns the limits a client can
 * check before sending (`limits.maxImportBytes`: the web app refuses a larger file without uploading it;
 * `maxImageBytes`, MAX_IMAGE_BYTES: an import of another app's export leaves out a larger picture rather than have
 * its conversation refused;
 * `maxFileChars` and `maxFilesPerMessage`: a text file attached to a message; `maxContextTokens`: the most of a model's
 * context window a request fills, MAX_CONTEXT_TOKENS, so a client can say when attached files will not fit);
 * an anonymous one can import nothing, so it is not told.
 */
export const healthProcedure = publicProcedure.query(async ({ ctx }) => {
  const { ok, storeOk, redisOk, providerReachable, providerVersion } = await sharedProbe(ctx);
  // Redis only in cluster mode (REDIS_URL): then a replica without it cannot stream runs.
  const redis = redisOk === undefined ? {} : { redis: { ok: redisOk } };
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
    limits: {
      maxImportBytes: ctx.config.maxImportBytes,
      maxImageBytes: ctx.config.maxImageBytes,
      maxFileChars: ctx.config.maxFileChars,
      maxFilesPerMessage,
      maxContextTokens: ctx.config.maxContextTokens,
    },
  };
});
