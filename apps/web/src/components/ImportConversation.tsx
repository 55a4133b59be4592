import { useCallback, useRef, useState, type DragEvent } from "react";
import { exportBundleLines, notAnExportMessage } from "@streamchat/core/browser";
import { bundleImportSummary, type ImportFailure } from "../capabilities/import-bundle.js";
import { checkImportFile, importLimitOf, readImportText } from "../capabilities/import-check.js";
import { describeError, trpcCodeOf } from "../lib/errors.js";
import { trpc } from "../trpc.js";
import { Icon } from "./Icon.js";
import "./versions.css";

export type ImportStatus =
  | { kind: "working"; name: string; done?: number; total?: number }
  | { kind: "error"; name: string; message: string }
  /** A file of several chats was imported (all or some): what became of it, until dismissed. */
  | { kind: "done"; name: string; message: string; failed: boolean }
  | null;

export interface ConversationImport {
  importFile(file: File): void;
  status: ImportStatus;
  dismiss(): void;
  /** Stops a file of several chats after the one on its way (what was imported stays). */
  stop(): void;
}

/**
 * Imports a JSON export (from this app, the CLI or the API) as a new conversation and opens it. The server checks
 * the file (format, version, size) and never overwrites anything; what it refuses is said as it said it. A file over
 * the server's import limit (health.limits, when the server tells it) or that is neither a JSON object nor an array is
 * refused here first, in the server's words, without reading it whole or uploading it to be refused.
 *
 * A file of several chats ("Export all chats", `chat export --all`: one export a line, core's exportBundleLines) is imported
 * line by line, each line its own import (each within the server's limit; the file as a whole may be larger), in
 * order, saying how far it got; a line the server refuses does not stop the others, and the summary names the first
 * one refused. Another app's export (ChatGPT's or Claude's conversations.json, Open WebUI's chat export: core's
 * readForeignExport) is imported the same way, a conversation at a time, and the summary names the app and what its
 * conversations held that was not imported. Nothing is opened: the chats are in the list.
 */
export function useConversationImport(onImported: (conversationId: string) => void): ConversationImport {
  const utils = trpc.useUtils();
  const mutation = trpc.conversations.import.useMutation();
  // The query the app already makes at start (same key and staleTime as App's): no request of its own.
  const health = trpc.health.useQuery(undefined, { staleTime: 30_000 });
  const maxBytes = importLimitOf(health.data);
  const [status, setStatus] = useState<ImportStatus>(null);
  // Read between conversations: a ref, so the loop on its way sees a press made after it started.
  const stopping = useRef(false);
  const importFile = useCallback(
    (file: File) => {
      stopping.current = false;
      setStatus({ kind: "working", name: file.name });
      /** Each conversation as its own import, in order; one the server refuses (or unreadable) does not stop the others. */
      const importEach = async (items: ReadonlyArray<{ label: string; text?: string; problem?: string }>) => {
        const failures: ImportFailure[] = [];
        let skipped = 0;
        let stoppedAt: number | undefined;
        for (const [i, { label, text, problem }] of items.entries()) {
          if (stopping.current) {
            stoppedAt = i;
            break;
          }
          setStatus({ kind: "working", name: file.name, done: i, total: items.length });
          if (text === undefined) {
            failures.push({ label, message: problem ?? "It could not be read." });
            continue;
          }
          try {
            await mutation.mutateAsync({ content: text });
          } catch (error) {
            // Imported before (another app's conversation the server already has, unchanged since): nothing to do.
            if (trpcCodeOf(error) === "CONFLICT") {
              skipped++;
              continue;
            }
            const described = describeError(error);
            // Refused for what it holds: the next one may do. Anything else (signed out, the server gone) would fail
            // every one alike: stop and say so once.
            if (described.code !== "bad_request") throw error;
            failures.push({ label, message: described.detail ?? described.title });
          }
        }
        await utils.conversations.list.invalidate();
        return { failures, skipped, ...(stoppedAt === undefined ? {} : { stoppedAt }) };
      };
      void (async () => {
        try {
          // A file of several chats may be larger than one import may be: each of its conversations is checked by the
          // server. So is another app's export, a JSON array (checkImportFile lets one through whatever its size).
          const refusal = await checkImportFile(file, isBundleName(file.name) ? undefined : maxBytes);
          if (refusal) {
            setStatus({ kind: "error", name: file.name, message: refusal });
            return;
          }
          const read = await readImportText(file);
          if ("refusal" in read) {
            setStatus({ kind: "error", name: file.name, message: read.refusal });
            return;
          }
          const content = read.text;
          const bundle = exportBundleLines(content);
          if (bundle) {
            const { failures, ...counts } = await importEach(bundle.map(({ line, text }) => ({ label: `Line ${line}`, text })));
            setStatus({ kind: "done", name: file.name, message: bundleImportSummary(bundle.length, failures, counts), failed: failures.length > 0 });
            return;
          }
          const { readForeignExport } = await import("../capabilities/other-apps.js");
          const foreign = readForeignExport(content);
          if (foreign) {
            const items = foreign.conversations.map(({ index, title, document, problem }) => ({
              label: `Chat ${index}${title.trim() === "" ? "" : ` (“${title.trim()}”)`}`,
              ...(document === undefined ? { problem: problem ?? "It could not be read." } : { text: JSON.stringify(document) }),
            }));
            const { failures, ...counts } = await importEach(items);
            const message = bundleImportSummary(items.length, failures, { source: foreign.source, leftOut: foreign.leftOut, ...counts });
            setStatus({ kind: "done", name: file.name, message, failed: failures.length > 0 });
            return;
          }
          // A JSON array was let through as maybe another app's export (whatever its size); no reader knows it, and
          // this app's export is never one.
          if (/^\uFEFF?\s*\[/.test(content)) {
            setStatus({ kind: "error", name: file.name, message: notAnExportMessage() });
            return;
          }
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
  return {
    importFile,
    status,
    dismiss: () => setStatus(null),
    stop: () => {
      stopping.current = true;
    },
  };
}

/** A file named as a file of several chats (JSON Lines) is not held to one import's size limit before it is read. */
function isBundleName(name: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(name);
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
        title="Import chats: this app's export, ChatGPT's or Claude's data export (the ZIP file, or its conversations.json), or Open WebUI's chat export (or drop the file on the sidebar)"
      >
        <Icon name="upload" size={17} />
        <span>
          {status?.kind === "working"
            ? status.total === undefined
              ? "Importing…"
              : `Importing ${status.done! + 1} of ${status.total}…`
            : dragging
              ? "Drop the file to import it"
              : "Import chat"}
        </span>
      </button>
      <input
        ref={input}
        type="file"
        accept=".json,.jsonl,.zip,application/json,application/x-ndjson,application/zip"
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
      {status?.kind === "working" && status.total !== undefined && status.total > 1 && (
        <button type="button" className="button button--small import__stop" onClick={importer.stop}>
          Stop importing
        </button>
      )}
      {status?.kind === "done" && (
        <div className={status.failed ? "import__error" : "import__done"} role={status.failed ? "alert" : "status"}>
          <span>
            {status.name}: {status.message}
          </span>
          <button type="button" className="icon-button icon-button--small" aria-label="Dismiss import result" onClick={importer.dismiss}>
            <Icon name="close" size={14} />
          </button>
        </div>
      )}
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
