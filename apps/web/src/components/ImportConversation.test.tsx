// @vitest-environment jsdom
import { cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { File as NodeFile } from "node:buffer";
import { foreignExportSample } from "@streamchat/core/test-support";
import { afterEach, describe, expect, it, vi } from "vitest";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import { trpc } from "../trpc.js";
import { ImportButton, useConversationImport, useFileDrop } from "./ImportConversation.js";

afterEach(cleanup);

/**
 * Node's File, not jsdom's: jsdom's Blob has no text() or arrayBuffer(), which every browser has. The component only
 * reads what a browser's File has.
 */
const fileOf = (content: string, name: string) => new NodeFile([content], name, { type: "application/json" }) as unknown as File;

/** The sidebar's wiring of the import (Sidebar.tsx): a drop zone around the button, and the file picker. */
function Harness({ onImported }: { onImported: (id: string) => void }) {
  const importer = useConversationImport(onImported);
  const drop = useFileDrop(importer.importFile);
  // Says when the app's start-up health answer is in: what the import's size check reads.
  const health = trpc.health.useQuery(undefined, { staleTime: 30_000 });
  return (
    <div data-testid="sidebar" {...drop.props}>
      {health.data !== undefined && <span>health answered</span>}
      <ImportButton importer={importer} dragging={drop.dragging} />
    </div>
  );
}

const signedIn = { ok: true, provider: "sim", demo: true, providerReachable: true, providerVersion: "1", store: { kind: "sqlite", ok: true }, version: "0.1.0" };

interface Server {
  /** The paths of the calls made, in order. */
  calls: string[];
  /** The content each import sent. */
  imported: string[];
  answer: (path: string, input: unknown) => unknown;
}

function server(health: unknown, importAnswer: (content: string) => unknown = () => ({ conversationId: "c-new" })): Server {
  const calls: string[] = [];
  const imported: string[] = [];
  return {
    calls,
    imported,
    answer: (path, input) => {
      calls.push(path);
      if (path === "health") return health;
      if (path === "conversations.list") return [];
      if (path === "conversations.import") {
        const { content } = input as { content: string };
        imported.push(content);
        return importAnswer(content);
      }
      return null;
    },
  };
}

async function renderWith(s: Server) {
  const onImported = vi.fn();
  const view = render(<Harness onImported={onImported} />, { wrapper: trpcWrapper(s.answer) });
  await view.findByText("health answered");
  return { view, onImported };
}

const pick = (view: ReturnType<typeof render>, file: File) => fireEvent.change(view.getByTestId("import-file"), { target: { files: [file] } });
const drop = (view: ReturnType<typeof render>, file: File) =>
  fireEvent.drop(view.getByTestId("sidebar"), { dataTransfer: { types: ["Files"], files: [file], dropEffect: "none" } });

/** A file whose whole content may not be read: the page must judge it by its size or first bytes. */
function unreadable(content: string, name: string): { file: File; text: ReturnType<typeof vi.fn> } {
  const file = fileOf(content, name);
  const text = vi.fn(() => Promise.reject(new Error("the whole file was read")));
  Object.defineProperty(file, "text", { value: text });
  return { file, text };
}

/** The start of an export, padded to `size` bytes. */
const exportLike = (size: number) => {
  const head = `{"format":"streamchat.conversation","version":1,"pad":"`;
  return `${head}${"x".repeat(size - head.length - 2)}"}`;
};

describe("importing a conversation file", () => {
  it("refuses a picked file over the server's import limit in plain words, without reading or sending it", async () => {
    const s = server({ ...signedIn, limits: { maxImportBytes: 10 * 1024 * 1024 } });
    const { view, onImported } = await renderWith(s);
    // 12,000,000 bytes of zeros: its size is all that is looked at.
    const { file, text } = unreadable("", "big.json");
    Object.defineProperty(file, "size", { value: 12_000_000 });
    pick(view, file);
    expect((await view.findByRole("alert")).textContent).toBe(
      "Could not import big.json: This file is 11.4 MB; the server imports files of at most 10 MB.",
    );
    expect(text).not.toHaveBeenCalled();
    expect(s.calls).not.toContain("conversations.import");
    expect(onImported).not.toHaveBeenCalled();
  });

  it("refuses a dropped file over the limit the same way, and one only just over it as 'a little over'", async () => {
    const s = server({ ...signedIn, limits: { maxImportBytes: 2048 } });
    const { view } = await renderWith(s);
    const file = fileOf(exportLike(2049), "notes.json");
    expect(file.size).toBe(2049);
    drop(view, file);
    expect((await view.findByRole("alert")).textContent).toBe(
      "Could not import notes.json: This file is a little over 2 KB; the server imports files of at most 2 KB.",
    );
    expect(s.calls).not.toContain("conversations.import");
  });

  it("refuses a file that is not JSON from its first bytes, without reading the rest or sending it", async () => {
    const s = server({ ...signedIn, limits: { maxImportBytes: 10 * 1024 * 1024 } });
    const { view } = await renderWith(s);
    const { file, text } = unreadable(`# Trip to Tokyo\n\n${"words ".repeat(1000)}`, "trip.md");
    drop(view, file);
    expect((await view.findByRole("alert")).textContent).toBe(
      "Could not import trip.md: This file is not a conversation exported from this app (it is not JSON).",
    );
    expect(text).not.toHaveBeenCalled();
    fireEvent.click(view.getByRole("button", { name: "Dismiss import error" }));
    // Empty, and JSON that is no object: refused too, each said as simply as it can be.
    pick(view, fileOf("", "empty.json"));
    expect((await view.findByRole("alert")).textContent).toBe("Could not import empty.json: This file is not a conversation exported from this app (it is empty).");
    fireEvent.click(view.getByRole("button", { name: "Dismiss import error" }));
    pick(view, fileOf("[1, 2]", "list.json"));
    expect((await view.findByRole("alert")).textContent).toBe("Could not import list.json: This file is not a conversation exported from this app.");
    expect(s.calls).not.toContain("conversations.import");
  });

  it("sends a file within the limit (a byte order mark and blanks before the JSON are fine) and opens the new conversation", async () => {
    const s = server({ ...signedIn, limits: { maxImportBytes: 2048 } });
    const { view, onImported } = await renderWith(s);
    const content = `\uFEFF \n${exportLike(2000)}`;
    pick(view, fileOf(content, "ok.json"));
    await waitFor(() => expect(onImported).toHaveBeenCalledWith("c-new"));
    expect(s.imported).toHaveLength(1);
    expect(view.queryByRole("alert")).toBeNull();
  });

  it("sends the file when the server does not tell its limit (an older server), and shows the server's refusal", async () => {
    const refusal = "This file is 3 KB; the server imports files of at most 1 KB.";
    const s = server(signedIn, () => {
      throw serverError("BAD_REQUEST", refusal, "bad_request");
    });
    const { view } = await renderWith(s);
    pick(view, fileOf(exportLike(3000), "old.json"));
    expect((await view.findByRole("alert")).textContent).toBe(`Could not import old.json: ${refusal}`);
    expect(s.imported).toHaveLength(1);
  });

  it("reads another app's export larger than one import may be, and imports its conversations one by one, naming a refused one", async () => {
    const sample = JSON.parse(foreignExportSample("chatgpt-export.json")) as Array<{ title: string }>;
    const s = server({ ...signedIn, limits: { maxImportBytes: 1024 } }, (content) => {
      const { conversation } = JSON.parse(content) as { conversation: { title: string } };
      if (conversation.title === sample[2]!.title) throw serverError("BAD_REQUEST", "This server takes smaller files.", "bad_request");
      return { conversationId: `c-${conversation.title}` };
    });
    const { view, onImported } = await renderWith(s);
    const content = JSON.stringify(sample);
    expect(content.length).toBeGreaterThan(1024);
    pick(view, fileOf(content, "conversations.json"));
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toMatch(
      new RegExp(`^conversations\\.json: Imported 5 of 6 chats from ChatGPT\\. Chat 3 \\(“${sample[2]!.title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}”\\): This server takes smaller files\\. Not imported: \\d+ `),
    );
    // Each conversation as this app's own export, in the file's order; nothing opened (the chats are in the list).
    expect(s.imported.map((one) => (JSON.parse(one) as { format: string; conversation: { title: string } }).conversation.title)).toEqual(sample.map((c) => c.title));
    expect(s.imported.every((one) => (JSON.parse(one) as { format: string }).format === "streamchat.conversation")).toBe(true);
    expect(onImported).not.toHaveBeenCalled();
  });

  it("counts the conversations the server had imported before (CONFLICT) as skipped, not failed", async () => {
    const sample = JSON.parse(foreignExportSample("claude-conversations.json")) as Array<{ name: string }>;
    const s = server(signedIn, (content) => {
      const { conversation } = JSON.parse(content) as { conversation: { title: string; origin?: string } };
      expect(conversation.origin).toMatch(/^Claude:.+@\d+$/);
      if (conversation.title !== sample[1]!.name) throw serverError("CONFLICT", "This chat was imported before; delete that copy to import it again.", "bad_request");
      return { conversationId: "c-new" };
    });
    const { view } = await renderWith(s);
    pick(view, fileOf(JSON.stringify(sample), "conversations.json"));
    // The fourth sample conversation has no messages: named as the one failure.
    expect((await view.findByRole("alert")).textContent).toMatch(/^conversations\.json: Imported 1 of 4 chats from Claude\. Chat 4: It has no messages\. Skipped 2 imported before\./);
  });

  it("says how many chats came in place of an earlier copy (the server's `replaced`: they went on in that app since)", async () => {
    const sample = JSON.parse(foreignExportSample("claude-conversations.json")) as Array<{ name: string }>;
    const s = server(signedIn, (content) => {
      const { conversation } = JSON.parse(content) as { conversation: { title: string } };
      return conversation.title === sample[0]!.name ? { conversationId: "c-new", replaced: "c-old" } : { conversationId: "c-new" };
    });
    const { view } = await renderWith(s);
    pick(view, fileOf(JSON.stringify(sample.slice(0, 3)), "conversations.json"));
    expect((await view.findByRole("status")).textContent).toMatch(/^conversations\.json: Imported 3 chats from Claude\. Updated 1 chat continued there since the last import\./);
  });

  it("stops a long import after the chat on its way when Stop importing is pressed; what was imported stays", async () => {
    const sample = JSON.parse(foreignExportSample("chatgpt-export.json")) as unknown[];
    let release: (() => void) | undefined;
    const s = server(signedIn, () => new Promise((resolve) => (release = () => resolve({ conversationId: "c-new" }))));
    const { view } = await renderWith(s);
    // In parts, as a browser reads a file: one conversation a part.
    const file = new NodeFile(["[", ...sample.map((c, i) => `${i === 0 ? "" : ","}${JSON.stringify(c)}`), "]"], "conversations.json") as unknown as File;
    pick(view, file);
    // How far it got is told by how much of the file was read: the total is not known before its end.
    const progress = await view.findByText(/^Importing chat 1… \d+ %$/);
    expect(Number(/(\d+) %/.exec(progress.textContent!)![1])).toBeLessThan(100);
    fireEvent.click(view.getByRole("button", { name: "Stop importing" }));
    release!();
    expect((await view.findByRole("status")).textContent).toBe("conversations.json: Stopped: imported 1 chat from ChatGPT.");
    expect(s.imported).toHaveLength(1);
    expect(view.queryByRole("button", { name: "Stop importing" })).toBeNull();
  });

  it("says how far a long import has read the file, chat by chat", async () => {
    const [first] = JSON.parse(foreignExportSample("open-webui-export.json")) as Array<Record<string, unknown>>;
    const parts = ["[", ...Array.from({ length: 40 }, (_, i) => `${i === 0 ? "" : ","}${JSON.stringify({ ...first, id: `owui-${i}` })}`), "]"];
    const releases: Array<() => void> = [];
    const s = server(signedIn, () => new Promise((resolve) => releases.push(() => resolve({ conversationId: "c-new" }))));
    const { view } = await renderWith(s);
    pick(view, new NodeFile(parts, "chat-export.json") as unknown as File);
    const seen: number[] = [];
    for (let chat = 1; chat <= 40; chat++) {
      const status = await view.findByText(new RegExp(`^Importing chat ${chat}… \\d+ %$`));
      seen.push(Number(/(\d+) %/.exec(status.textContent!)![1]));
      await waitFor(() => expect(releases).toHaveLength(chat));
      releases[chat - 1]!();
    }
    expect((await view.findByRole("status")).textContent).toBe("chat-export.json: Imported 40 chats from Open WebUI. Not imported: 80 tool calls.");
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(seen[0]).toBeLessThan(10);
    expect(seen.at(-1)).toBeGreaterThan(90);
  });

  it("imports a file broken part way up to where it breaks, then says where and why it stopped", async () => {
    const sample = JSON.parse(foreignExportSample("claude-conversations.json")) as unknown[];
    const s = server(signedIn);
    const { view } = await renderWith(s);
    const cut = `[${JSON.stringify(sample[0])},${JSON.stringify(sample[1])},${JSON.stringify(sample[2]).slice(0, 50)}`;
    pick(view, fileOf(cut, "conversations.json"));
    expect((await view.findByRole("alert")).textContent).toBe(
      "conversations.json: Stopped: imported 2 chats from Claude. The file could not be read after Chat 2 (“Landing page for the bakery”): The JSON text is cut short in the middle of conversation 3. Not imported: 2 images, 1 file.",
    );
    expect(s.imported).toHaveLength(2);
    fireEvent.click(view.getByRole("button", { name: "Dismiss import result" }));
    // Broken before its first conversation: nothing to import.
    pick(view, fileOf('[{"uuid": "u", "chat_messages": [}]', "broken.json"));
    expect((await view.findByRole("alert")).textContent).toBe("Could not import broken.json: Conversation 1 is not valid JSON.");
    expect(s.imported).toHaveLength(2);
  });

  it("refuses a JSON array no reader knows, after reading it, without sending it", async () => {
    const s = server({ ...signedIn, limits: { maxImportBytes: 16 } });
    const { view } = await renderWith(s);
    pick(view, fileOf(JSON.stringify([{ some: "thing", other: [1, 2, 3] }]), "list.json"));
    expect((await view.findByRole("alert")).textContent).toBe("Could not import list.json: This file is not a conversation exported from this app.");
    expect(s.calls).not.toContain("conversations.import");
  });
});
