/**
 * Streams one answer to the terminal:
 *   pnpm --filter @streamchat/core demo "what time is it in Tokyo?" [--think]
 * Uses Ollama at OLLAMA_HOST when it is set and reachable (model CHAT_MODEL, default llama3.2); otherwise
 * starts the Ollama-protocol simulator in-process on an ephemeral port and says so.
 */
import { randomUUID } from "node:crypto";
import { styleText } from "node:util";
import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { builtinTools, createOllamaModel, runChat, type ChatModel } from "../src/index.js";

const args = process.argv.slice(2).filter((a) => a !== "--");
const think = args.includes("--think");
const question = args.filter((a) => a !== "--think").join(" ").trim() || "What time is it in Tokyo?";

async function connect(): Promise<{ model: ChatModel; modelName: string; sim?: Simulator }> {
  const host = process.env["OLLAMA_HOST"];
  if (host) {
    // Ollama accepts OLLAMA_HOST without a scheme ("127.0.0.1:11434").
    const baseUrl = /^https?:\/\//.test(host) ? host : `http://${host}`;
    const model = createOllamaModel({ baseUrl });
    try {
      const version = await model.version!({ signal: AbortSignal.timeout(2000) });
      const modelName = process.env["CHAT_MODEL"] ?? "llama3.2";
      console.log(styleText("dim", `[model: ${modelName} on Ollama ${version} at ${baseUrl}]`));
      return { model, modelName };
    } catch (error) {
      console.log(styleText("yellow", `[OLLAMA_HOST=${host} is not reachable (${error instanceof Error ? error.message : String(error)}); using the simulator]`));
    }
  }
  const sim = await startSimulator({ port: 0, tokenDelayMs: 25 });
  console.log(styleText("cyan", "[demo model: Ollama-protocol simulator]") + styleText("dim", ` ${sim.url}`));
  return { model: createOllamaModel({ baseUrl: sim.url }), modelName: "demo", sim };
}

async function main(): Promise<void> {
  const { model, modelName, sim } = await connect();
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  console.log(styleText("bold", `> ${question}`));
  let reasoning = false;
  try {
    const run = runChat({
      model,
      modelName,
      conversationId: randomUUID(),
      runId: randomUUID(),
      messages: [
        { role: "system", content: "You are a helpful assistant. Use the current_time and calculator tools when they help." },
        { role: "user", content: question },
      ],
      tools: builtinTools,
      think,
      signal: abort.signal,
    });
    for await (const event of run) {
      if (reasoning && event.type !== "reasoning") {
        process.stdout.write("\n");
        reasoning = false;
      }
      switch (event.type) {
        case "reasoning":
          reasoning = true;
          process.stdout.write(styleText("dim", event.text));
          break;
        case "token":
          process.stdout.write(event.text);
          break;
        case "tool-call":
          console.log(styleText("magenta", `→ tool ${event.name} ${JSON.stringify(event.args)}`));
          break;
        case "tool-result":
          console.log(
            styleText(
              event.ok ? "green" : "red",
              `← ${event.name} ${event.ok ? JSON.stringify(event.result) : `${event.error?.code}: ${event.error?.message}`} (${Math.round(event.durationMs)} ms)`,
            ),
          );
          break;
        case "error":
          console.log(styleText("red", `\n✖ ${event.code}: ${event.message}`));
          break;
        case "done": {
          const u = event.usage;
          const speed = u.tokensPerSecond === null ? "" : ` · ${u.tokensPerSecond.toFixed(0)} tok/s`;
          const ttft = u.ttftMs === null ? "" : ` · first token ${Math.round(u.ttftMs)} ms`;
          console.log(styleText("dim", `\n[${event.reason} · ${u.completionTokens} tokens${ttft}${speed}]`));
          if (event.reason === "error") process.exitCode = 1;
          break;
        }
        default:
          break;
      }
    }
  } finally {
    await sim?.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
