import type { ChatModel, ModelChunk } from "@streamchat/core";
import { describe, expect, it } from "vitest";
import { withProviderName } from "./named-model.js";

/** A model whose every method answers with its own name and `this`, so that forwarding shows in the answers. */
function recordingModel(): { model: ChatModel; calls: string[] } {
  const calls: string[] = [];
  const model: ChatModel = {
    provider: "ollama",
    stream: async function* () {
      calls.push("stream");
      yield { type: "text", text: "a" } satisfies ModelChunk;
    },
    async streamTo(_request, _options, onChunk) {
      calls.push(`streamTo:${this === model}`);
      onChunk({ type: "text", text: "b" });
    },
    async listModels() {
      calls.push(`listModels:${this === model}`);
      return [];
    },
    async version() {
      calls.push(`version:${this === model}`);
      return "0.0.0";
    },
    async capabilities(name) {
      calls.push(`capabilities:${name}:${this === model}`);
      return { tools: true, thinking: false };
    },
    capabilitiesNow(name) {
      calls.push(`capabilitiesNow:${name}:${this === model}`);
      return { tools: true, thinking: false };
    },
    async state(name) {
      calls.push(`state:${name}:${this === model}`);
      return { loaded: true };
    },
    stateNow(name) {
      calls.push(`stateNow:${name}:${this === model}`);
      return { loaded: true };
    },
  };
  return { model, calls };
}

describe("withProviderName", () => {
  it("keeps the model as it is under its own provider name", () => {
    const { model } = recordingModel();
    expect(withProviderName(model, "ollama")).toBe(model);
  });

  it("renames the provider and forwards every method the engine uses, each called on the model", async () => {
    const { model, calls } = recordingModel();
    const named = withProviderName(model, "sim");
    expect(named.provider).toBe("sim");
    expect(Object.keys(named).sort()).toEqual(Object.keys(model).sort());

    const request = { model: "demo", messages: [] };
    const chunks: ModelChunk[] = [];
    for await (const chunk of named.stream(request)) chunks.push(chunk);
    await named.streamTo!(request, undefined, (chunk) => chunks.push(chunk));
    await named.listModels!();
    await named.version!();
    expect(await named.capabilities!("demo")).toEqual({ tools: true, thinking: false });
    expect(named.capabilitiesNow!("demo")).toEqual({ tools: true, thinking: false });
    expect(await named.state!("demo")).toEqual({ loaded: true });
    expect(named.stateNow!("demo")).toEqual({ loaded: true });
    expect(chunks).toHaveLength(2);
    expect(calls).toEqual([
      "stream",
      "streamTo:true",
      "listModels:true",
      "version:true",
      "capabilities:demo:true",
      "capabilitiesNow:demo:true",
      "state:demo:true",
      "stateNow:demo:true",
    ]);
  });
});
