import { defaultSampling, samplingSchema, type Sampling } from "@streamchat/core/browser";
import { sameSampling } from "./samplingFields.js";
import { browserStorage, createSettingsDraft, useSettingsDraft, type SettingsStorage, type SettingsDraftKind } from "./settingsDraft.js";

/**
 * A new chat's own sampling, set before its first message (the header's Model settings button; settingsDraft keeps
 * it): its first message takes it along (chat.send `sampling`). The model's defaults when none is set.
 */
const samplingKind: SettingsDraftKind<Sampling> = {
  item: "streamchat.draftSampling",
  none: defaultSampling,
  // Checked by core's schema, the API's: a stored value out of range is none, never a send the API refuses.
  read: (stored) => samplingSchema.safeParse(stored).data,
  write: (sampling) => sampling,
  same: sameSampling,
};

export const createSamplingDraft = (storage: SettingsStorage, key?: string) =>
  createSettingsDraft(samplingKind, storage, key);

export const newChatSampling = createSamplingDraft(browserStorage);

/** The new chat's sampling (the model's defaults when none is set), and a way to keep another. */
export const useNewChatSampling = () => useSettingsDraft(newChatSampling);
