import { useEffect, useRef, type ChangeEvent } from "react";
import { Icon } from "../components/Icon.js";
import { focusedByKeyboard } from "../lib/focus.js";
import { acceptedImageTypes, type DraftImage } from "./images.js";

/** Images in the composer (offered only for models with the vision capability). */
export interface ImagesSetting {
  drafts: readonly DraftImage[];
  add(files: File[]): void;
  remove(id: string): void;
  /** Why the last file was not taken (not an image, too large, one too many). */
  problem: string | null;
}

/** The paperclip: opens the file chooser for images. */
export function AttachButton({ images }: { images: ImagesSetting }) {
  const input = useRef<HTMLInputElement>(null);
  const onChange = (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    e.target.value = "";
    if (files.length) images.add(files);
  };
  return (
    <>
      <button type="button" className="chip attach-button" onClick={() => input.current?.click()} aria-label="Attach image" title="Attach images (or paste or drop them)">
        <Icon name="image" size={15} />
      </button>
      <input ref={input} type="file" accept={acceptedImageTypes} multiple hidden onChange={onChange} data-testid="attach-input" />
    </>
  );
}

/** Thumbnails of the images about to be sent, each with a remove button. */
export function DraftTray({ images }: { images: ImagesSetting }) {
  const removeButtons = useRef(new Map<string, HTMLButtonElement>());
  // A Remove pressed from the keyboard leaves with its image: where the focus goes next (a draft's id, or null for the
  // message box), applied once the image is gone, or it would fall to <body>.
  const refocus = useRef<{ to: string | null } | null>(null);
  useEffect(() => {
    const pending = refocus.current;
    if (!pending) return;
    refocus.current = null;
    const target = pending.to === null ? null : removeButtons.current.get(pending.to);
    (target ?? document.getElementById("composer-input"))?.focus();
  }, [images.drafts]);
  const remove = (id: string) => {
    if (focusedByKeyboard()) {
      const index = images.drafts.findIndex((d) => d.id === id);
      refocus.current = { to: images.drafts[index + 1]?.id ?? null };
    }
    images.remove(id);
  };
  if (images.drafts.length === 0 && !images.problem) return null;
  return (
    <div className="draft-images" data-testid="draft-images">
      {images.drafts.map((d) => (
        <figure key={d.id} className="draft-image">
          <img src={d.url} alt={d.name} className="draft-image__img" />
          <button
            type="button"
            className="draft-image__remove icon-button icon-button--small"
            ref={(button) => {
              if (button) removeButtons.current.set(d.id, button);
              else removeButtons.current.delete(d.id);
            }}
            onClick={() => remove(d.id)}
            aria-label={`Remove ${d.name}`}
          >
            <Icon name="close" size={12} />
          </button>
        </figure>
      ))}
      {images.problem && (
        <p className="draft-images__problem" role="alert">
          {images.problem}
        </p>
      )}
    </div>
  );
}
