import { useState } from "react";
import { ArchivedChats } from "./ArchivedChats.js";
import { readToken } from "../lib/authToken.js";
import { downloadBlob } from "../lib/download.js";

/** The file name the server gives in Content-Disposition, else one of the same kind. */
export function exportFilename(disposition: string | null, now = Date.now()): string {
  const named = disposition ? /filename="([^"]+)"/.exec(disposition)?.[1] : undefined;
  return named ?? `streamchat-conversations-${new Date(now).toISOString().slice(0, 10)}.jsonl`;
}

/**
 * The file as it arrives, and how many chats it holds: one a line, each line ended, so the count is the number of line
 * ends, counted in the bytes as they come (the file is not decoded into a string as well, which would hold it twice).
 */
async function readExport(response: Response): Promise<{ blob: Blob; chats: number }> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let chats = 0;
  const reader = response.body?.getReader();
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader!.read()) {
    parts.push(chunk.value);
    for (const byte of chunk.value) if (byte === 0x0a) chats += 1;
  }
  return { blob: new Blob(parts, { type: response.headers.get("content-type") ?? "application/x-ndjson" }), chats };
}

type Progress = { kind: "idle" } | { kind: "working" } | { kind: "done"; chats: number } | { kind: "failed"; message: string };

/** What went wrong with an export, in a few words the user can act on. */
function failureOf(status: number): string {
  if (status === 401) return "The server wants an API token: set it below, then try again.";
  return `The server could not export them (${status}). Try again later.`;
}

/**
 * "Your chats": every conversation in one file to keep or to take to another server (GET /api/export: JSON Lines, one
 * conversation's export a line), which "Import chat" reads back. Downloaded through the page (its token goes in the
 * header, as every request of the page sends it); counted as it is saved, so the user learns what they got. Then the
 * archived chats, to open or bring back.
 */
export function DataPanel({ onOpen }: { onOpen: (conversationId: string) => void }) {
  const [progress, setProgress] = useState<Progress>({ kind: "idle" });
  const [open, setOpen] = useState(false);
  const exportAll = async () => {
    if (progress.kind === "working") return;
    setProgress({ kind: "working" });
    try {
      const token = readToken();
      const response = await fetch("/api/export", token ? { headers: { authorization: `Bearer ${token}` } } : {});
      if (!response.ok) {
        setProgress({ kind: "failed", message: failureOf(response.status) });
        return;
      }
      const { blob, chats } = await readExport(response);
      downloadBlob(exportFilename(response.headers.get("content-disposition")), blob);
      setProgress({ kind: "done", chats });
    } catch {
      setProgress({ kind: "failed", message: "Could not reach the server — try again." });
    }
  };
  return (
    <details className="sidebar__details data-panel" data-testid="data-panel" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Your chats</summary>
      <p className="muted small">Every chat in one file, to keep or to take to another server. Import chat reads it back.</p>
      <button type="button" className="button button--small" onClick={exportAll} aria-disabled={progress.kind === "working" || undefined}>
        {progress.kind === "working" ? "Exporting…" : "Export all chats"}
      </button>
      <p className={`small${progress.kind === "failed" ? " data-panel__error" : " muted"}`} role="status" data-testid="export-all-status">
        {progress.kind === "done"
          ? progress.chats === 0
            ? "There are no chats to export yet."
            : `Exported ${progress.chats} ${progress.chats === 1 ? "chat" : "chats"}.`
          : progress.kind === "failed"
            ? progress.message
            : ""}
      </p>
      <p className="muted small" data-testid="import-elsewhere">
        Coming from ChatGPT, Claude or Open WebUI? Import chat reads their exports too: the ZIP file of ChatGPT's or Claude's
        data export as you downloaded it (or its <code>conversations.json</code>), or Open WebUI's chat export.
      </p>
      <ArchivedChats open={open} onOpen={onOpen} />
    </details>
  );
}
