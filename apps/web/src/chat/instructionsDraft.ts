import { maxInstructionsChars } from "@streamchat/core/browser";
import { z } from "zod";
import { browserStorage, createSettingsDraft, useSettingsDraft, type SettingsStorage, type SettingsDraftKind } from "./settingsDraft.js";

/**
 * A new chat's own instructions, set before its first message (the header's Instructions button; settingsDraft keeps
 * them): its first message takes them along (chat.send `instructions`). "" when none.
 */
const storedSchema = z.object({ text: z.string().max(maxInstructionsChars) });

const instructionsKind: SettingsDraftKind<string> = {
  item: "streamchat.draftInstructions",
  none: "",
  read: (stored) => storedSchema.safeParse(stored).data?.text,
  write: (text) => ({ text }) satisfies z.infer<typeof storedSchema>,
  // As the API keeps them: trimmed, at most its 4,000 characters.
  tidy: (text) => text.trim().slice(0, maxInstructionsChars),
  same: (a, b) => a === b,
};

export const createInstructionsDraft = (storage: SettingsStorage, key?: string) =>
  createSettingsDraft(instructionsKind, storage, key);

export const newChatInstructions = createInstructionsDraft(browserStorage);

/** The new chat's instructions ("" when none), and a way to keep others. */
export const useNewChatInstructions = () => useSettingsDraft(newChatInstructions);
