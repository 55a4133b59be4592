import { isThinkLevel } from "@streamchat/core/browser";
import type { ThinkChoice } from "./ThinkControl.js";

/** The remembered Think choice: "1" on, "0" (or nothing) off, or a level. */
export function storedThink(stored: string | null): ThinkChoice {
  if (stored === "1") return true;
  return isThinkLevel(stored) ? stored : false;
}

export function thinkToStore(value: ThinkChoice): string {
  return value === true ? "1" : value === false ? "0" : value;
}
