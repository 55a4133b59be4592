/** Command-line options of `ollama-sim`, parsed strictly so a typo fails loudly instead of being ignored. */
import { parseArgs } from "node:util";

export interface CliOptions {
  port: number;
  host: string;
  tokenDelayMs: number;
  /** 0 = models are always loaded; above 0 a model's first use (and after its keep_alive) waits this long. */
  loadDelayMs: number;
  help: boolean;
}

export const usage = `Usage: ollama-sim [--port 11434] [--host 127.0.0.1] [--token-delay-ms 20] [--load-delay-ms 0]

An Ollama-protocol simulator (not a real model) for tests, benchmarks and the offline demo.
Models: demo, llama3.2, qwen3, gemma3, demo-vision, llava, gpt-oss, gemma2 and the fault models sim-*
(see the package README). --load-delay-ms N makes a model's first use after idle wait N ms (a cold start).`;

function integer(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > max) throw new Error(`--${name} must be an integer from 0 to ${max}, got "${value}"`);
  return n;
}

export function parseCliArgs(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "token-delay-ms": { type: "string" },
      "load-delay-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    port: integer("port", values.port, 11434, 65535),
    host: values.host ?? "127.0.0.1",
    tokenDelayMs: integer("token-delay-ms", values["token-delay-ms"], 20, 600_000),
    loadDelayMs: integer("load-delay-ms", values["load-delay-ms"], 0, 600_000),
    help: values.help === true,
  };
}
