import { defaultSampling } from "@streamchat/core/browser";
import { useState } from "react";
import { emptyFields } from "../chat/samplingFields.js";
import { useModelSamplingDefaults } from "../chat/useModelSamplingDefaults.js";
import { useSamplingEdit } from "../chat/useSamplingEdit.js";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";
import { SamplingFieldList } from "./SamplingField.js";

/**
 * The user's own model settings (temperature, top P, seed): what every chat's answers are sampled with, setting by
 * setting, unless the chat sets its own (its Model settings dialog, whose empty fields say so). Stored on the server, so
 * they apply on every device, to answers started after they are saved; an empty field leaves the setting to the model.
 */
export function SamplingPanel() {
  const [open, setOpen] = useState(false);
  const utils = trpc.useUtils();
  const settings = trpc.settings.get.useQuery(undefined, { enabled: open });
  // The server's default model's own values: a chat's may be another's, but this is the one most start with.
  const modelDefaults = useModelSamplingDefaults(null, open);
  const save = trpc.settings.setSampling.useMutation({
    // Saved as the server stored it (with what another tab changed meanwhile): the fields show that, the chats' dialogs
    // and the instructions panel see it, and "Saved" shows until the next edit.
    onSuccess: (saved) => {
      utils.settings.get.setData(undefined, saved);
      edit.saved();
    },
  });
  const edit = useSamplingEdit(settings.data?.sampling ?? defaultSampling, () => save.reset());

  const failure = settings.error ?? save.error;
  return (
    <details className="sidebar__details sampling-panel" data-testid="sampling-panel" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Model settings</summary>
      {/* The fields check themselves, in words: not the browser's bubbles (a number between two steps is fine here). */}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (edit.changed && edit.sampling) save.mutate({ sampling: edit.changes(edit.sampling) });
        }}
      >
        <p className="sampling-panel__hint muted small">
          Every chat's answers use these, unless the chat sets its own. An empty field leaves it to the model.
        </p>
        <SamplingFieldList edit={edit} empty={emptyFields(null, modelDefaults)} loading={settings.isLoading} />
        <div className="sampling-panel__actions">
          <button type="submit" className="button button--small" disabled={!edit.changed || edit.sampling === null || save.isPending}>
            {save.isPending ? "Saving…" : save.isSuccess && !edit.editing ? "Saved" : "Save"}
          </button>
        </div>
        {failure && (
          <p className="sampling-panel__error" role="alert">
            {settings.error ? "Could not load your model settings." : "Could not save your model settings."} {describeError(failure).title}
          </p>
        )}
      </form>
    </details>
  );
}
