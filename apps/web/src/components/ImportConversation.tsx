import { useCallback, useRef, useState, type DragEvent } from "react";
import { checkImportFile, importLimitOf } from "../capabilities/import-check.js";
import { describeError } from "../lib/errors.js";
import { trpc } from "../trpc.js";
import { Icon } from "./Icon.js";
import "./versions.css";

export type ImportStatus = { kind: "working"; name: string } | { kind: "error"; name: string; message: string } | null;

export interface ConversationImport {
  importFile(file: File): void;
  status: ImportStatus;
  dismiss(): void;
}

/**
 * Imports a JSON export (from this app, the CLI or the API) as a new conversation and opens it. The server checks
 * the file (format, version, size) and never overwrites anything; what it refuses is said as it said it. A file over
 * the server's import limit (health.limits, when the server tells it) or that is no JSON object is refused here
 * first, in the server's words, without reading it whole or uploading it to be refused.
 */
export function useConversationImport(onImported: (conversationId: string) => void): ConversationImport {
  const utils = trpc.useUtils();
  const mutation = trpc.conversations.import.useMutation();
  // The query the app already makes at start (same key and staleTime as App's): no request of its own.
  const health = trpc.health.useQuery(undefined, { staleTime: 30_000 });
  const maxBytes = importLimitOf(health.data);
  const [status, setStatus] = useState<ImportStatus>(null);
  const importFile = useCallback(
    (file: File) => {
      setStatus({ kind: "working", name: file.name });
      void (async () => {
        try {
          const refusal = await checkImportFile(file, maxBytes);
          if (refusal) {
            setStatus({ kind: "error", name: file.name, message: refusal });
            return;
          }
          const content = await file.text();
          const { conversationId } = await mutation.mutateAsync({ content });
          setStatus(null);
          await utils.conversations.list.invalidate();
          onImported(conversationId);
        } catch (error) {
          const described = describeError(error);
          // The server's own sentence says what is wrong with the file (not JSON, another format, too large).
          const message = described.code === "bad_request" && described.detail ? described.detail : described.title;
          setStatus({ kind: "error", name: file.name, message });
        }
      })();
    },
    [maxBytes, mutation, onImported, utils],
  );
  return { importFile, status, dismiss: () => setStatus(null) };
}

/** Files dropped on an element (the sidebar) go to `onFile`; `dragging` while a file is held over it. */
export function useFileDrop(onFile: (file: File) => void) {
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);
  const hasFiles = (e: DragEvent) => e.dataTransfer.types.includes("Files");
  const props = {
    onDragEnter: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current++;
      setDragging(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault(); // allows the drop
      e.dataTransfer.dropEffect = "copy";
    },
    onDragLeave: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      // Leaving a child element also fires dragleave: only the last one leaving ends the highlight.
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    onDrop: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      const file = e.dataTransfer.files[0];
      if (file) onFile(file);
    },
  };
  return { dragging, props };
}

/** "Import chat" in the sidebar: a file picker for a JSON export, and what became of the last import. */
export function ImportButton({ importer, dragging }: { importer: ConversationImport; dragging: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const { status } = importer;
  return (
    <div className="import">
      <button
        type="button"
        className={`sidebar__new import__button${dragging ? " is-drop-target" : ""}`}
        onClick={() => input.current?.click()}
        disabled={status?.kind === "working"}
        title="Import a chat from a JSON export (or drop the file on the sidebar)"
      >
        <Icon name="upload" size={17} />
        <span>{status?.kind === "working" ? "Importing…" : dragging ? "Drop the file to import it" : "Import chat"}</span>
      </button>
      <input
        ref={input}
        type="file"
        accept=".json,application/json"
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Chat export file to import"
        data-testid="import-file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = ""; // the same file can be picked again
          if (file) importer.importFile(file);
        }}
      />
      {status?.kind === "error" && (
        <div className="import__error" role="alert">
          <span>
            Could not import {status.name}: {status.message}
          </span>
          <button type="button" className="icon-button icon-button--small" aria-label="Dismiss import error" onClick={importer.dismiss}>
            <Icon name="close" size={14} />
          </button>
        </div>
      )}
    </div>
  );
}
