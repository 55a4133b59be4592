import { maxInstructionsChars } from "@streamchat/core/browser";
import { useId, useState } from "react";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";

/** The API's limit, core's (the e2e checks the two agree). */
export { maxInstructionsChars };

/**
 * The user's custom instructions: what every answer should keep in mind (how to answer, what to know about them).
 * Stored on the server, so they apply on every device, to answers started after they are saved.
 */
export function InstructionsPanel() {
  const [open, setOpen] = useState(false);
  const utils = trpc.useUtils();
  const settings = trpc.settings.get.useQuery(undefined, { enabled: open });
  // The draft, until it is saved; null: the stored text is shown.
  const [draft, setDraft] = useState<string | null>(null);
  const save = trpc.settings.setInstructions.useMutation({
    // Saved as the server stored it (trimmed): the box shows that, and "Saved" until the next edit.
    onSuccess: (saved) => {
      utils.settings.get.setData(undefined, saved);
      // They are part of every request: the room left for a message changed.
      void utils.models.room.invalidate();
      setDraft(null);
    },
  });
  const stored = settings.data?.instructions ?? "";
  const text = draft ?? stored;
  const changed = draft !== null && draft.trim() !== stored;
  const hintId = useId();
  const countId = useId();

  const failure = settings.error ?? save.error;
  return (
    <details className="sidebar__details instructions-panel" data-testid="instructions-panel" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Instructions</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (changed) save.mutate({ instructions: text });
        }}
      >
        <label htmlFor="custom-instructions" className="visually-hidden">
          Custom instructions
        </label>
        <p id={hintId} className="instructions-panel__hint muted small">
          Every new answer gets these, on all your devices: how you like answers, or what to know about you.
        </p>
        <textarea
          id="custom-instructions"
          rows={5}
          maxLength={maxInstructionsChars}
          value={text}
          disabled={settings.isLoading}
          placeholder={settings.isLoading ? "Loading…" : "e.g. Answer briefly. I write TypeScript and use Postgres."}
          aria-describedby={`${hintId} ${countId}`}
          onChange={(e) => {
            setDraft(e.target.value);
            save.reset();
          }}
        />
        <div className="instructions-panel__actions">
          <span id={countId} className="instructions-panel__count muted small">
            {text.length} / {maxInstructionsChars}
          </span>
          <button type="submit" className="button button--small" disabled={!changed || save.isPending}>
            {save.isPending ? "Saving…" : save.isSuccess && draft === null ? "Saved" : "Save"}
          </button>
        </div>
        {failure && (
          <p className="instructions-panel__error" role="alert">
            {settings.error ? "Could not load your instructions." : "Could not save your instructions."} {describeError(failure).title}
          </p>
        )}
      </form>
    </details>
  );
}
