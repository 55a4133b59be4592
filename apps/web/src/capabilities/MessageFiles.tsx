import { useEffect, useId, useRef, useState } from "react";
import { copyText } from "../lib/clipboard.js";
import { FileChipBody } from "./FileChip.js";
import { fileFacts, fileLabel } from "./text-files.js";

/** A text file on a message as conversations.get returns it (its `text` by default; only `chars` when asked without data). */
export interface MessageFile {
  type: "file";
  name: string;
  chars: number;
  text?: string | undefined;
}

/** How long "Copied" shows on the dialog's Copy button. */
const copiedForMs = 2_000;

/**
 * The files of a user message as chips; each opens its text in a modal dialog (the name as its heading, Copy, Close).
 * Escape or Close gives the focus back to the chip that opened it.
 */
export function MessageFiles({ files }: { files: readonly MessageFile[] }) {
  const [open, setOpen] = useState<number | null>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const chips = useRef<Array<HTMLButtonElement | null>>([]);
  const headingId = useId();
  useEffect(() => {
    const el = dialog.current;
    if (open !== null && el && !el.open) el.showModal();
  }, [open]);
  useEffect(() => {
    if (copied === null) return;
    const timer = setTimeout(() => setCopied(null), copiedForMs);
    return () => clearTimeout(timer);
  }, [copied]);
  if (files.length === 0) return null;
  const shown = open === null ? undefined : files[open];
  const close = () => dialog.current?.close();
  return (
    <div className="message-files" data-testid="message-files">
      {files.map((file, i) => (
        <button
          key={i}
          ref={(button) => {
            chips.current[i] = button;
          }}
          type="button"
          className="file-chip message-file"
          aria-label={fileLabel(file)}
          aria-haspopup="dialog"
          title={file.name}
          // Asked without its data, a stored file has no text here to show.
          disabled={file.text === undefined}
          onClick={() => setOpen(i)}
        >
          <FileChipBody file={file} />
        </button>
      ))}
      <dialog
        ref={dialog}
        className="dialog file-dialog"
        aria-labelledby={headingId}
        data-testid="file-dialog"
        onClose={() => {
          const opener = open === null ? null : chips.current[open];
          setOpen(null);
          setCopied(null);
          // Browsers give the focus back to what had it before showModal, but a chip clicked in Safari never had it.
          opener?.focus();
        }}
        onKeyDown={(e) => {
          // Escape is this dialog's (it closes it natively): not the answer's Stop, not the drawer's.
          if (e.key === "Escape") e.stopPropagation();
        }}
        onClick={(e) => {
          if (e.target === e.currentTarget) close(); // a click on the backdrop
        }}
      >
        {shown && (
          <div className="file-dialog__body">
            <div className="file-dialog__header">
              <div className="file-dialog__title">
                <h2 id={headingId}>{shown.name}</h2>
                <p className="file-dialog__facts">{fileFacts(shown).join(" · ")}</p>
              </div>
              <button type="button" className="button button--small" onClick={() => void copyText(shown.text ?? "").then(setCopied)}>
                {copied === true ? "Copied" : "Copy"}
              </button>
              <button type="button" className="button button--small" onClick={close}>
                Close
              </button>
            </div>
            {/* Focusable: a keyboard user scrolls a long file with the arrow keys. */}
            <pre className="file-dialog__text" tabIndex={0} aria-label={`Text of ${shown.name}`} data-testid="file-text">
              {shown.text}
            </pre>
            <span className="visually-hidden" role="status">
              {copied === true ? "File copied" : copied === false ? "Could not copy the file" : ""}
            </span>
          </div>
        )}
      </dialog>
    </div>
  );
}
