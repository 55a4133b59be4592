/** The models the simulator lists and how /api/tags, /api/show, /api/ps and /v1/models describe them. */
import { createHash } from "node:crypto";
import type { SimModel } from "./types.js";

const all = ["completion", "tools", "thinking"];

/**
 * Fault models resolve even when SimulatorOptions.models replaces the list. `sim-not-found` is deliberately
 * absent: it must answer 404 like a model that was never pulled.
 */
export const faultModels: SimModel[] = [
  { name: "sim-no-tools", capabilities: ["completion", "thinking"] },
  { name: "sim-no-thinking", capabilities: ["completion", "tools"] },
  ...[
    "sim-error-mid-stream",
    "sim-truncated",
    "sim-stall",
    "sim-slow",
    "sim-tool-on-done",
    "sim-two-tools",
    "sim-utf8-split",
    "sim-garbage-line",
    "sim-bench",
  ].map((name) => ({ name, capabilities: all })),
];

/** Listed by /api/tags when SimulatorOptions.models is not given: the demo aliases, then the fault models. */
export const defaultModels: SimModel[] = [
  { name: "demo", capabilities: all, contextLength: 131_072 },
  { name: "llama3.2", capabilities: ["completion", "tools"], contextLength: 131_072 },
  { name: "qwen3", capabilities: all, contextLength: 40_960 },
  { name: "gemma3", capabilities: ["completion"], contextLength: 131_072 },
  ...faultModels,
];

/**
 * Models that show capabilities beyond tools and thinking. Like the fault models they always resolve
 * (/api/show, /api/chat); /api/tags lists them when SimulatorOptions.models includes them, as the CLI
 * does: `models: [...defaultModels, ...capabilityModels]`. Context lengths as the real models report them.
 */
export const capabilityModels: SimModel[] = [
  // Answers about the images it receives (dimensions, dominant colour): see image-info.ts.
  { name: "demo-vision", capabilities: ["completion", "tools", "vision"], contextLength: 131_072, family: "gemma3" },
  { name: "llava", capabilities: ["completion", "vision"], contextLength: 4096, family: "llama" },
  // gpt-oss: /api/show says family "gptoss" with the harmony template, so think takes "low" | "medium" | "high".
  { name: "gpt-oss", capabilities: all, contextLength: 131_072, family: "gptoss" },
  // A small window (8k), for context trimming.
  { name: "gemma2", capabilities: ["completion"], contextLength: 8192 },
];

/** What a simulated model is, beyond its capabilities: family/architecture, context length, template. */
export function traitsOf(m: SimModel): { family: string; contextLength: number; thinkLevels: boolean; template: string; parameters: string } {
  const family = m.family ?? familyOf(m.name);
  return {
    family,
    contextLength: m.contextLength ?? 131_072,
    thinkLevels: family === "gptoss",
    // gpt-oss's real template is harmony; Ollama (and the engine) recognise it by these markers.
    template: family === "gptoss" ? harmonyTemplate : "{{ .System }}{{ .Prompt }}",
    parameters: parametersOf(family),
  };
}

/** /api/show's `parameters` (the Modelfile's PARAMETERs, padded as Ollama pads them), as the real models' are set. */
function parametersOf(family: string): string {
  const lines: Array<[string, string]> =
    family === "qwen3"
      ? [["stop", '"<|im_end|>"'], ["temperature", "0.6"], ["top_k", "20"], ["top_p", "0.95"]]
      : family === "gptoss"
        ? [["temperature", "1"]]
        : [["stop", '"<|eot_id|>"'], ["temperature", "0.7"]];
  return lines.map(([name, value]) => `${name.padEnd(31)}${value}`).join("\n");
}

const harmonyTemplate =
  "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\nReasoning: {{ .ThinkLevel }}<|end|>" +
  "{{- range .Messages }}<|start|>{{ .Role }}<|message|>{{ .Content }}<|end|>{{- end }}<|start|>assistant";

/** "llama3.2:latest" and "llama3.2" name the same model, as in Ollama. */
export function baseName(name: string): string {
  return name.endsWith(":latest") ? name.slice(0, -":latest".length) : name;
}

export class ModelCatalog {
  private readonly byName = new Map<string, SimModel>();

  constructor(readonly listed: SimModel[]) {
    for (const m of [...faultModels, ...capabilityModels, ...listed]) this.byName.set(baseName(m.name), m);
  }

  /** Every model that resolves, listed or not. */
  all(): SimModel[] {
    return [...new Set(this.byName.values())];
  }

  find(name: string): SimModel | undefined {
    return this.byName.get(baseName(name));
  }

  tags(): unknown {
    return { models: this.listed.map((m) => tagEntry(m)) };
  }

  show(m: SimModel): unknown {
    const d = details(m);
    const traits = traitsOf(m);
    const info: Record<string, unknown> = {
      "general.architecture": d.family,
      "general.parameter_count": parameterCount(m.name),
      "general.basename": m.name,
      [`${d.family}.context_length`]: traits.contextLength,
      [`${d.family}.embedding_length`]: 3072,
    };
    const out: Record<string, unknown> = {
      license: "Simulated model — no weights, no license.",
      modelfile: `# Modelfile generated by ollama-sim\nFROM ${m.name}\n`,
      parameters: traits.parameters,
      template: traits.template,
      details: { parent_model: "", ...d },
      model_info: info,
      capabilities: m.capabilities,
      modified_at: modifiedAt,
    };
    if (m.capabilities.includes("vision")) {
      out["projector_info"] = { "clip.has_vision_encoder": true, "clip.vision.image_size": 336, "clip.vision.patch_size": 14 };
    }
    return out;
  }

  /** /api/ps: the loaded models with when they expire and the context window they run with (newer Ollama). */
  ps(loaded: Iterable<{ name: string; expiresAt: number; numCtx: number }>): unknown {
    const models = [];
    for (const { name, expiresAt, numCtx } of loaded) {
      const m = this.find(name);
      if (!m) continue;
      const entry = tagEntry(m);
      const expires = new Date(Number.isFinite(expiresAt) ? expiresAt : Date.parse("2318-01-01T00:00:00Z")).toISOString();
      models.push({
        name: entry.name,
        model: entry.model,
        size: entry.size,
        digest: entry.digest,
        details: entry.details,
        expires_at: expires,
        size_vram: entry.size,
        context_length: numCtx,
      });
    }
    return { models };
  }

  openAIModels(): unknown {
    return {
      object: "list",
      data: this.listed.map((m) => ({ id: m.name, object: "model", created: Math.floor(Date.parse(modifiedAt) / 1000), owned_by: "library" })),
    };
  }
}

const modifiedAt = "2025-06-01T10:00:00.123456789+00:00";

function familyOf(name: string): string {
  const base = baseName(name);
  if (base.startsWith("qwen")) return "qwen3";
  if (base.startsWith("gemma2")) return "gemma2";
  if (base.startsWith("gemma")) return "gemma3";
  if (base.startsWith("gpt-oss")) return "gptoss";
  return "llama";
}

function parameterCount(name: string): number {
  switch (familyOf(name)) {
    case "qwen3":
      return 8_190_735_360;
    case "gemma3":
    case "gemma2":
      return 4_300_079_472;
    case "gptoss":
      return 20_914_757_184;
    default:
      return 3_212_749_888;
  }
}

function details(m: SimModel) {
  const family = traitsOf(m).family;
  const name = m.name;
  return {
    format: "gguf",
    family,
    families: [family],
    parameter_size: `${(parameterCount(name) / 1e9).toFixed(1)}B`,
    quantization_level: "Q4_K_M",
  };
}

function tagEntry(m: SimModel) {
  return {
    name: m.name,
    model: m.name,
    modified_at: modifiedAt,
    size: Math.round(parameterCount(m.name) * 0.6),
    digest: createHash("sha256").update(`ollama-sim:${m.name}`).digest("hex"),
    details: details(m),
  };
}
