import { z } from "zod";

/** Reasoning effort levels (gpt-oss on Ollama; `reasoning_effort` on OpenAI-compatible servers). */
export const thinkLevels = ["low", "medium", "high"] as const;
export const thinkLevelSchema = z.enum(thinkLevels);
export type ThinkLevel = z.infer<typeof thinkLevelSchema>;

/** What a caller may ask for: on / off, or a level. */
export const thinkSettingSchema = z.union([z.boolean(), thinkLevelSchema]);
export type ThinkSetting = z.infer<typeof thinkSettingSchema>;

export function isThinkLevel(value: unknown): value is ThinkLevel {
  return typeof value === "string" && (thinkLevels as readonly string[]).includes(value);
}

/**
 * Ollama decides whether a model takes levels by its family: gpt-oss models (`gptoss`/`gpt-oss`) rendered
 * with the harmony template (it contains `<|start|>` and `<|end|>`) read "low" | "medium" | "high"
 * (server/routes.go shouldUseHarmony). We apply the same rule to `/api/show`: `details.family` or
 * `model_info["general.architecture"]`, and the template when the answer carries one.
 */
export function takesThinkLevels(show: { family?: string | undefined; architecture?: string | undefined; template?: string | undefined }): boolean {
  const gptOss = (name: string | undefined) => name === "gptoss" || name === "gpt-oss";
  if (!gptOss(show.family) && !gptOss(show.architecture)) return false;
  if (show.template === undefined || show.template === "") return true;
  return show.template.includes("<|start|>") && show.template.includes("<|end|>");
}
