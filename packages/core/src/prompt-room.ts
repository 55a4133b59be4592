import { capabilitiesOf } from "./capabilities.js";
import { answerReserve, contextMemoryOf, contextWindowOf } from "./context-window.js";
import type { ChatModel } from "./model.js";
import { estimateMessageTokens, toolTextTokens } from "./tokens.js";
import { toolSpec, type AnyTool } from "./tools.js";

/** How much of a model's window a new message may take, by the run loop's own arithmetic (run.ts). */
export interface PromptRoom {
  /** What a request may fill: the model's window, capped by `maxContextTokens`; undefined when the model does not say. */
  limit: number | undefined;
  /** Kept free for the answer. */
  reserve: number;
  /**
   * What every request of a run spends before the conversation, which the engine never shortens: the system message
   * (the server's prompt and the user's custom instructions) and the tools' schemas, as the model's calibration counts
   * them.
   */
  fixedTokens: number;
  /** What the newest message, with its files, may take before the engine cuts it; undefined with `limit`. */
  room: number | undefined;
}

export interface PromptRoomInput {
  model: ChatModel;
  modelName: string;
  /** The run's system message (the server's prompt with the user's instructions), "" for none. */
  system: string;
  /** The tools a run of this user would offer (left out when the model cannot use tools, as a run does). */
  tools: readonly AnyTool[];
  maxContextTokens: number | undefined;
  signal: AbortSignal;
}

/**
 * The room a run of `modelName` would leave for the newest message: a client says from it, before sending, when files
 * will not fit. The same limit, reserve, calibration and tools as runChat's first round; older messages, which the
 * engine drops first, are not counted.
 */
export async function promptRoom(input: PromptRoomInput): Promise<PromptRoom> {
  const capabilities = await capabilitiesOf(input.model, input.modelName, input.signal);
  const { limit } = contextWindowOf(capabilities, input.maxContextTokens);
  const ratio = contextMemoryOf(input.model).ratio(input.modelName);
  const tools = capabilities.tools === false ? [] : input.tools;
  const toolTokens = Math.ceil(toolTextTokens(tools.map((tool) => toolSpec(tool))) * ratio);
  const systemTokens = input.system === "" ? 0 : estimateMessageTokens({ role: "system", content: input.system }, ratio);
  const fixedTokens = toolTokens + systemTokens;
  const reserve = limit === undefined ? 0 : answerReserve(limit);
  return { limit, reserve, fixedTokens, room: limit === undefined ? undefined : Math.max(0, limit - reserve - fixedTokens) };
}
