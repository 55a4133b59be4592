import type { Scenario, Simulator } from "@streamchat/ollama-sim";
import type { ChatMessage } from "../model.js";
import { createOllamaModel } from "../providers/ollama.js";
import type { RunOptions } from "../run.js";
import type { AnyTool } from "../tools.js";
import { calculatorTool, createCurrentTimeTool } from "../tools/builtin.js";

/** The clock of the current_time tool the run tests give their runs. */
export const fixedTime = Date.UTC(2026, 10, 29, 12, 5, 0);
export const timeTool = createCurrentTimeTool({ now: () => fixedTime });
export const simTools: AnyTool[] = [timeTool, calculatorTool];
export const simQuestion: ChatMessage[] = [
  { role: "system", content: "You are helpful." },
  { role: "user", content: "What time is it in Tokyo?" },
];

let runCount = 0;

/** runChat's options for `model` on the simulator (Ollama wire): the Tokyo question, both built-in tools, a fresh run id. */
export function simRunOptions(sim: Simulator, model: string, extra: Partial<RunOptions> = {}): RunOptions {
  runCount += 1;
  return {
    model: createOllamaModel({ baseUrl: sim.url }),
    modelName: model,
    conversationId: "conv-1",
    runId: `run-${runCount}`,
    messages: simQuestion,
    tools: simTools,
    ...extra,
  };
}

/** Registers a scenario answering only `model`, so tests never see each other's scenarios. */
export function modelScenario(sim: Simulator, model: string, s: Omit<Scenario, "name" | "match">): void {
  sim.addScenario({ name: model, match: { model }, ...s });
}
