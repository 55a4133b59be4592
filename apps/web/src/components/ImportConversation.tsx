import { useCallback, useRef, useState, type DragEvent } from "react";
import { exportBundleLines, notAnExportMessage, type ForeignConversation } from "@streamchat/core/browser";
import { bundleImportSummary, type ImportFailure } from "../capabilities/import-bundle.js";
import { checkImportFile, imageLimitOf, importLimitOf, openImportFile } from "../capabilities/import-check.js";
import { fileLimitsOf } from "../capabilities/text-files.js";
import { describeError, trpcCodeOf } from "../lib/errors.js";
import { trpc } from "../trpc.js";
import { Icon } from "./Icon.js";
import "./versions.css";

export type ImportStatus =
  /**
   * `done` of `total` imported (a file of several chats, counted before); or, for another app's export read as it is
   * imported, `done` so far with `progress`, how much of the file has been read (0 to 1).
   */
  | { kind: "working"; name: string; done?: number; total?: number; progress?: number }
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
 * conversations held that was not imported. Nothing is opened: the chats are in the list. Such an export (a JSON array,
 * or the ZIP it came in) runs to hundreds of megabytes: it is read as the file streams by, one conversation at a time
 * (core's readForeignExportItems), each imported as it is read, with how much of the file has been read as progress; a
 * file broken part way is imported up to there, and the summary says where and why it stopped.
 */
export function useConversationImport(onImported: (conversationId: string) => void): ConversationImport {
  const utils = trpc.useUtils();
  const mutation = trpc.conversations.import.useMutation();
  // The query the app already makes at start (same key and staleTime as App's): no request of its own.
  const health = trpc.health.useQuery(undefined, { staleTime: 30_000 });
  const maxBytes = importLimitOf(health.data);
  const maxImageBytes = imageLimitOf(health.data);
  const maxFileChars = fileLimitsOf(health.data).maxChars;
  const [status, setStatus] = useState<ImportStatus>(null);
  // Read between conversations: a ref, so the loop on its way sees a press made after it started.
  const stopping = useRef(false);
  const importFile = useCallback(
    (file: File) => {
      stopping.current = false;
      setStatus({ kind: "working", name: file.name });
      /**
       * Each conversation as its own import, in order, as it is read; one the server refuses (or unreadable) does not
       * stop the others. Stop, or a file broken part way, stops before the next one; `leftOut` is then what the ones
       * read held.
       */
      const importEach = async (items: AsyncIterable<ImportItem> | Iterable<ImportItem>, counted: { total?: number; progress?: () => number; leftOut?: () => string[] }) => {
        const failures: ImportFailure[] = [];
        let skipped = 0;
        // Imported in place of an earlier copy (the chat went on in that app since): the server says which.
        let updated = 0;
        let handled = 0;
        let stopped = false;
        let broken: string | undefined;
        let last: string | undefined;
        let leftOut = counted.leftOut?.() ?? [];
        const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
        try {
          for (;;) {
            if (stopping.current && (counted.total === undefined || handled < counted.total)) {
              stopped = true;
              break;
            }
            let next: IteratorResult<ImportItem>;
            try {
              next = await iterator.next();
            } catch (error) {
              // The file is broken (or cut short) here: what came before it was imported.
              const why = error instanceof Error ? error.message : String(error);
              broken = last === undefined ? `The file could not be read: ${why}` : `The file could not be read after ${last}: ${why}`;
              break;
            }
            if (next.done === true) break;
            const { label, text, problem } = next.value;
            leftOut = counted.leftOut?.() ?? [];
            setStatus({
              kind: "working",
              name: file.name,
              done: handled,
              ...(counted.total === undefined ? {} : { total: counted.total }),
              ...(counted.progress === undefined ? {} : { progress: counted.progress() }),
            });
            handled++;
            last = label;
            if (text === undefined) {
              failures.push({ label, message: problem ?? "It could not be read." });
              continue;
            }
            try {
              const imported = await mutation.mutateAsync({ content: text });
              if (imported.replaced !== undefined) updated++;
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
        } finally {
          // Left before the end: the file stops being read.
          await iterator.return?.();
        }
        await utils.conversations.list.invalidate();
        const ended = !stopped && broken === undefined;
        return {
          total: ended ? handled : counted.total,
          failures,
          skipped,
          updated,
          leftOut,
          ...(ended ? {} : { stoppedAt: handled }),
          ...(broken === undefined ? {} : { broken }),
        };
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
          const opened = await openImportFile(file, { maxImageBytes, maxFileChars });
          if ("refusal" in opened) {
            setStatus({ kind: "error", name: file.name, message: opened.refusal });
            return;
          }
          if (opened.kind === "array") {
            const { readForeignExportItems, JsonArrayError, ZipReadError } = await import("../capabilities/other-apps.js");
            let foreign: Awaited<ReturnType<typeof readForeignExportItems>>;
            try {
              foreign = await readForeignExportItems(opened.pieces, { files: opened.files, maxDocumentBytes: maxBytes });
            } catch (error) {
              // Broken before its first conversation: said in the reader's words.
              if (!(error instanceof JsonArrayError || error instanceof ZipReadError)) throw error;
              setStatus({ kind: "error", name: file.name, message: error.message });
              return;
            }
            // A JSON array was let through as maybe another app's export (whatever its size); no reader knows it, and
            // this app's export is never one.
            if (foreign === undefined) {
              setStatus({ kind: "error", name: file.name, message: notAnExportMessage() });
              return;
            }
            const { total, failures, ...counts } = await importEach(foreignItems(foreign.conversations), { progress: opened.progress, leftOut: foreign.leftOut });
            const message = bundleImportSummary(total, failures, { source: foreign.source, ...counts });
            setStatus({ kind: "done", name: file.name, message, failed: failures.length > 0 || counts.broken !== undefined });
            return;
          }
          const content = opened.text;
          const bundle = exportBundleLines(content);
          if (bundle) {
            const { total, failures, ...counts } = await importEach(
              bundle.map(({ line, text }) => ({ label: `Line ${line}`, text })),
              { total: bundle.length },
            );
            setStatus({ kind: "done", name: file.name, message: bundleImportSummary(total, failures, counts), failed: failures.length > 0 });
            return;
          }
          // A file of one conversation of another app's (an object, not an array).
          const { readForeignExport } = await import("../capabilities/other-apps.js");
          const foreign = readForeignExport(content);
          if (foreign) {
            const { total, failures, ...counts } = await importEach(foreignItems(foreign.conversations), { total: foreign.conversations.length, leftOut: () => foreign.leftOut });
            const message = bundleImportSummary(total, failures, { source: foreign.source, ...counts });
            setStatus({ kind: "done", name: file.name, message, failed: failures.length > 0 });
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
    [maxBytes, maxFileChars, maxImageBytes, mutation, onImported, utils],
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

/** One conversation of a file of several: how the summary names it ("Chat 3 (“Trip”)"), and its export or why it has none. */
interface ImportItem {
  label: string;
  text?: string;
  problem?: string;
}

/** Another app's conversations as import items, as they are read. */
async function* foreignItems(conversations: AsyncIterable<ForeignConversation> | Iterable<ForeignConversation>): AsyncGenerator<ImportItem> {
  for await (const { index, title, document, problem } of conversations) {
    yield {
      label: `Chat ${index}${title.trim() === "" ? "" : ` (“${title.trim()}”)`}`,
      ...(document === undefined ? { problem: problem ?? "It could not be read." } : { text: JSON.stringify(document) }),
    };
  }
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
            ? status.total !== undefined
              ? `Importing ${(status.done ?? 0) + 1} of ${status.total}…`
              : status.progress !== undefined
                ? `Importing chat ${(status.done ?? 0) + 1}… ${Math.floor(status.progress * 100)} %`
                : "Importing…"
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
      {status?.kind === "working" && ((status.total ?? 0) > 1 || status.progress !== undefined) && (
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
