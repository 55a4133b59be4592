#!/usr/bin/env node
/** `ollama-sim` — runs the simulator until SIGINT/SIGTERM. */
import { parseCliArgs, usage } from "./cli-args.js";
import { capabilityModels, defaultModels } from "./models.js";
import { startSimulator } from "./server.js";

async function main(): Promise<void> {
  let opts;
  try {
    opts = parseCliArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`ollama-sim: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    console.log(usage);
    return;
  }
  // The offline demo shows every capability: the vision and think-level models are listed too.
  const models = [...defaultModels, ...capabilityModels];
  const sim = await startSimulator({ port: opts.port, host: opts.host, tokenDelayMs: opts.tokenDelayMs, loadDelayMs: opts.loadDelayMs, models });
  const load = opts.loadDelayMs > 0 ? `, load delay ${opts.loadDelayMs} ms` : "";
  console.log(`Ollama-protocol simulator (not a real model) listening on ${sim.url} (token delay ${opts.tokenDelayMs} ms${load})`);
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  const code = (err as { code?: unknown }).code;
  console.error(`ollama-sim: ${code === "EADDRINUSE" ? "port already in use" : err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
