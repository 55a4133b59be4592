import { useEffect, useRef, type ChangeEvent } from "react";
import { Icon } from "../components/Icon.js";
import { focusedByKeyboard } from "../lib/focus.js";
import { FileChipBody } from "./FileChip.js";
import type { DraftImage } from "./images.js";
import { fileLabel, type DraftFile } from "./text-files.js";

/** What is attached to the message in the composer: images (vision models) and text files (every model). */
export interface AttachmentsSetting {
  images: readonly DraftImage[];
  files: readonly DraftFile[];
  add(files: File[]): void;
  remove(id: string): void;
  /** Why the last files were not all taken (not a text file, too long, one too many), a sentence each. */
  problem: string | null;
  /** Files are still being read: sending waits, or the message would go without them. */
  reading: boolean;
}

/**
 * The paperclip: opens the file chooser. No `accept`: text files have hundreds of extensions (and code files no
 * text/* type), so what a file is comes from its bytes once picked (readAttachments), not from a list here.
 */
export function AttachButton({ attachments, vision }: { attachments: AttachmentsSetting; vision: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const onChange = (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    e.target.value = "";
    if (files.length) attachments.add(files);
  };
  return (
    <>
      <button
        type="button"
        className="chip attach-button"
        onClick={() => input.current?.click()}
        aria-label="Attach files"
        title={vision ? "Attach images or text files (or paste or drop them)" : "Attach text files (or paste or drop them)"}
      >
        <Icon name="paperclip" size={15} />
      </button>
      <input ref={input} type="file" multiple hidden onChange={onChange} data-testid="attach-input" />
    </>
  );
}

/** The images and files about to be sent: thumbnails and file chips, each with a Remove button. */
export function DraftTray({ attachments }: { attachments: AttachmentsSetting }) {
  const removeButtons = useRef(new Map<string, HTMLButtonElement>());
  // A Remove pressed from the keyboard leaves with its attachment: where the focus goes next (a draft's id, or null for
  // the message box), applied once it is gone, or it would fall to <body>.
  const refocus = useRef<{ to: string | null } | null>(null);
  const { images, files } = attachments;
  useEffect(() => {
    const pending = refocus.current;
    if (!pending) return;
    refocus.current = null;
    const target = pending.to === null ? null : removeButtons.current.get(pending.to);
    (target ?? document.getElementById("composer-input"))?.focus();
  }, [images, files]);
  const remove = (id: string) => {
    if (focusedByKeyboard()) {
      // In the order shown: images, then files.
      const order = [...images.map((d) => d.id), ...files.map((d) => d.id)];
      refocus.current = { to: order[order.indexOf(id) + 1] ?? null };
    }
    attachments.remove(id);
  };
  const removeButton = (id: string, name: string) => (
    <button
      type="button"
      className="draft-remove icon-button icon-button--small"
      ref={(button) => {
        if (button) removeButtons.current.set(id, button);
        else removeButtons.current.delete(id);
      }}
      onClick={() => remove(id)}
      aria-label={`Remove ${name}`}
    >
      <Icon name="close" size={12} />
    </button>
  );
  if (images.length === 0 && files.length === 0 && !attachments.problem) return null;
  return (
    <div className="draft-attachments" data-testid="attachment-tray">
      {images.map((d) => (
        <figure key={d.id} className="draft-image">
          <img src={d.url} alt={d.name} className="draft-image__img" />
          {removeButton(d.id, d.name)}
        </figure>
      ))}
      {files.map((d) => (
        <figure key={d.id} className="file-chip draft-file" aria-label={fileLabel(d.attachment)} title={d.attachment.name}>
          <FileChipBody file={d.attachment} />
          {removeButton(d.id, d.attachment.name)}
        </figure>
      ))}
      {attachments.problem && (
        <p className="draft-attachments__problem" role="alert" data-testid="attachment-problem">
          {attachments.problem}
        </p>
      )}
    </div>
  );
}
