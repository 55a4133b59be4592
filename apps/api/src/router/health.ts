import { readFileSync } from "node:fs";
import { publicProcedure } from "../trpc.js";

const probeTimeoutMs = 1500;

// Read at run time: works from src (tsx, vitest) and dist alike, both one level below the package root.
const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

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
  const storeOk = ctx.store.ping();
  return {
    ok: storeOk && providerReachable,
    provider: ctx.provider.kind,
    demo: ctx.provider.demo,
    providerReachable,
    providerVersion,
    store: { kind: ctx.store.kind, ok: storeOk },
    version,
  };
});
