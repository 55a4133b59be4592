// @vitest-environment jsdom
import { act, cleanup, fireEvent, render } from "@testing-library/react";
import { createRef } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AttachmentsSetting } from "../capabilities/AttachmentDraft.js";
import { draftImage } from "../capabilities/images.js";
import { draftFile } from "../capabilities/text-files.js";
import { touchKeyboardQuery } from "../lib/touchKeyboard.js";
import { trpcWrapper } from "../test-support/trpc.js";
import { Composer, type ComposerHandle, type ThinkSetting } from "./Composer.js";

afterEach(cleanup);

function renderComposer(think: ThinkSetting) {
  return render(<Composer busy={false} canStop={false} onSubmit={() => {}} onStop={() => {}} stopping={false} think={think} draftKey="new" />);
}

describe("Composer Think toggle", () => {
  it("is not shown for a model without the thinking capability", () => {
    const { queryByTestId } = renderComposer({ available: false, on: true, onChange: () => {} });
    expect(queryByTestId("think-toggle")).toBeNull();
  });

  it("is shown for a thinking model, pressed as remembered, and toggles", () => {
    const changes: unknown[] = [];
    const { getByTestId } = renderComposer({ available: true, on: true, onChange: (on) => changes.push(on) });
    const toggle = getByTestId("think-toggle");
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(toggle);
    expect(changes).toEqual([false]);
  });
});

describe("Composer draft", () => {
  const think: ThinkSetting = { available: false, on: false, onChange: () => {} };
  const composer = (draftKey: string, onSubmit: (text: string) => void = () => {}) => (
    <Composer busy={false} canStop={false} onSubmit={onSubmit} onStop={() => {}} stopping={false} think={think} draftKey={draftKey} />
  );
  const box = (view: ReturnType<typeof render>) => view.container.querySelector("textarea")!;

  afterEach(() => localStorage.clear());

  it("opens with the conversation's draft, keeps what is typed, and drops it once sent", () => {
    localStorage.setItem("streamchat.draft.c1", JSON.stringify({ text: "from before", at: 1 }));
    const sent: string[] = [];
    const first = render(composer("c1", (text) => sent.push(text)));
    expect(box(first).value).toBe("from before");
    fireEvent.change(box(first), { target: { value: "from before, and more" } });
    first.unmount();

    const again = render(composer("c1", (text) => sent.push(text)));
    expect(box(again).value).toBe("from before, and more");
    fireEvent.keyDown(box(again), { key: "Enter" });
    expect(sent).toEqual(["from before, and more"]);
    expect(localStorage.getItem("streamchat.draft.c1")).toBeNull();
  });

  it("moves a new chat's draft to its conversation when the pane becomes the conversation's", () => {
    const view = render(composer("new"));
    fireEvent.change(box(view), { target: { value: "typed in the new chat" } });
    view.rerender(composer("c9"));
    expect(box(view).value).toBe("typed in the new chat");
    expect(localStorage.getItem("streamchat.draft.new")).toBeNull();
    expect(JSON.parse(localStorage.getItem("streamchat.draft.c9")!).text).toBe("typed in the new chat");
  });

  const fromAnotherTab = (key: string, text: string) =>
    window.dispatchEvent(new StorageEvent("storage", { key, newValue: JSON.stringify({ text, at: 1 }), storageArea: localStorage }));

  it("takes what another tab types while left alone, every write of it, and never writes it back", () => {
    const view = render(composer("c1"));
    // The other tab typed three times; two of its writes reach this tab before it renders again.
    localStorage.setItem("streamchat.draft.c1", JSON.stringify({ text: "abc", at: 3 }));
    act(() => {
      fromAnotherTab("streamchat.draft.c1", "a");
      fromAnotherTab("streamchat.draft.c1", "ab");
    });
    expect(box(view).value).toBe("ab");
    // Writing "ab" back would take the other tab's "abc" away from it.
    expect(JSON.parse(localStorage.getItem("streamchat.draft.c1")!).text).toBe("abc");
    act(() => fromAnotherTab("streamchat.draft.c1", "abc"));
    expect(box(view).value).toBe("abc");
    act(() => fromAnotherTab("streamchat.draft.c2", "another conversation's"));
    expect(box(view).value).toBe("abc");
  });

  it("does not send on the Enter of an IME composition, Safari's included", () => {
    const sent: string[] = [];
    const view = render(composer("c1", (text) => sent.push(text)));
    fireEvent.change(box(view), { target: { value: "にほんご" } });
    fireEvent.keyDown(box(view), { key: "Enter", isComposing: true });
    // Safari sends the Enter that ends the composition with isComposing false, and keyCode 229.
    fireEvent.keyDown(box(view), { key: "Enter", keyCode: 229 });
    expect(sent).toEqual([]);
    fireEvent.keyDown(box(view), { key: "Enter" });
    expect(sent).toEqual(["にほんご"]);
  });

  it("Retry takes the message given back out of the box, keeping what was typed meanwhile", () => {
    const handle = createRef<ComposerHandle>();
    const sent: string[] = [];
    const view = render(<Composer ref={handle} busy={false} canStop={false} onSubmit={(text) => sent.push(text)} onStop={() => {}} stopping={false} think={think} draftKey="c1" />);
    fireEvent.change(box(view), { target: { value: "First message" } });
    fireEvent.keyDown(box(view), { key: "Enter" });
    fireEvent.change(box(view), { target: { value: "A follow-up" } }); // typed while the send was on its way
    act(() => handle.current!.restore("First message")); // the send failed
    expect(box(view).value).toBe("First message\n\nA follow-up");
    act(() => handle.current!.clearIf("First message")); // Retry sent it again
    expect(box(view).value).toBe("A follow-up");
    fireEvent.keyDown(box(view), { key: "Enter" });
    expect(sent).toEqual(["First message", "A follow-up"]);
    // Alone in the box, it leaves it whole; a message changed since it came back is the user's now and stays.
    act(() => handle.current!.restore("Second"));
    act(() => handle.current!.clearIf("Second"));
    expect(box(view).value).toBe("");
    act(() => handle.current!.restore("Third"));
    fireEvent.change(box(view), { target: { value: "Third, reworded" } });
    act(() => handle.current!.clearIf("Third"));
    expect(box(view).value).toBe("Third, reworded");
  });

  it("keeps messages given back in one go, and one given back just before another tab's draft arrives", () => {
    const handle = createRef<ComposerHandle>();
    const view = render(<Composer ref={handle} busy={false} canStop={false} onSubmit={() => {}} onStop={() => {}} stopping={false} think={think} draftKey="c1" />);
    // Two sends that failed after the user left come back together when the conversation is opened again (the last
    // first: each goes before what the box holds).
    act(() => {
      handle.current!.restore("second unsent");
      handle.current!.restore("first unsent");
      fromAnotherTab("streamchat.draft.c1", "typed there");
    });
    expect(box(view).value).toBe("first unsent\n\nsecond unsent");
    expect(JSON.parse(localStorage.getItem("streamchat.draft.c1")!).text).toBe("first unsent\n\nsecond unsent");
    // Written, the box is in step with the draft again: the next one from the other tab shows.
    act(() => fromAnotherTab("streamchat.draft.c1", "typed there later"));
    expect(box(view).value).toBe("typed there later");
  });
});

describe("Composer images for a model that cannot see them", () => {
  const think: ThinkSetting = { available: false, on: false, onChange: () => {} };
  const red: AttachmentsSetting = {
    images: [draftImage({ type: "image", mimeType: "image/png", data: "iVBORw0KGgo=" }, "red.png")],
    files: [],
    add: () => {},
    remove: () => {},
    problem: null,
    reading: false,
  };

  afterEach(() => localStorage.clear());

  it("keeps the attached image in view, says the model cannot see it, and sends nothing until that changes", () => {
    const sent: string[] = [];
    const composer = (vision: boolean) => (
      <Composer busy={false} canStop={false} onSubmit={(text) => sent.push(text)} onStop={() => {}} stopping={false} think={think} draftKey="new" attachments={red} vision={vision} />
    );
    const view = render(composer(false));
    const box = view.container.querySelector("textarea")!;
    fireEvent.change(box, { target: { value: "What colour is this image?" } });
    fireEvent.keyDown(box, { key: "Enter" });

    expect(sent).toEqual([]);
    expect(box.value).toBe("What colour is this image?");
    expect(view.getByRole("img", { name: "red.png" })).toBeTruthy();
    expect(view.getByRole("alert").textContent).toMatch(/cannot see images/);
    // Text files can still be attached: the paperclip stays, and says so.
    expect(view.getByRole("button", { name: "Attach files" }).getAttribute("title")).toBe("Attach text files (or paste or drop them)");

    view.rerender(composer(true));
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual(["What colour is this image?"]);
  });
});

describe("Composer Enter", () => {
  const think: ThinkSetting = { available: false, on: false, onChange: () => {} };
  const composer = (onSubmit: (text: string) => void) => (
    <Composer busy={false} canStop={false} onSubmit={onSubmit} onStop={() => {}} stopping={false} think={think} draftKey="enter-test" />
  );
  /** A device that answers `matches` to the touch-keyboard query (jsdom has no matchMedia of its own). */
  const touchDevice = (matches: boolean) =>
    vi.stubGlobal("matchMedia", (query: string) => ({ matches: matches && query === touchKeyboardQuery, media: query, addEventListener: () => {}, removeEventListener: () => {} }));

  afterEach(() => {
    vi.unstubAllGlobals();
    localStorage.clear();
  });

  it("sends on Enter with a computer's keyboard, and not on Shift+Enter", () => {
    touchDevice(false);
    const sent: string[] = [];
    const view = render(composer((text) => sent.push(text)));
    const box = view.container.querySelector("textarea")!;
    expect(box.getAttribute("enterkeyhint")).toBe("send");
    fireEvent.change(box, { target: { value: "one" } });
    expect(fireEvent.keyDown(box, { key: "Enter", shiftKey: true })).toBe(true);
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual(["one"]);
  });

  it("leaves a touch keyboard's Enter to the box (a new line: it has no Shift+Enter); Ctrl+Enter and Send send", () => {
    touchDevice(true);
    const sent: string[] = [];
    const view = render(composer((text) => sent.push(text)));
    const box = view.container.querySelector("textarea")!;
    fireEvent.change(box, { target: { value: "first line" } });
    // Not prevented: the browser puts the new line in.
    expect(fireEvent.keyDown(box, { key: "Enter" })).toBe(true);
    expect(sent).toEqual([]);
    expect(box.getAttribute("enterkeyhint")).toBe("enter");
    expect(view.container.querySelector("#composer-hint")!.textContent).toBe("Enter starts a new line; the Send button sends.");
    fireEvent.keyDown(box, { key: "Enter", ctrlKey: true });
    expect(sent).toEqual(["first line"]);
    fireEvent.change(box, { target: { value: "first\nsecond" } });
    fireEvent.click(view.getByRole("button", { name: "Send" }));
    expect(sent).toEqual(["first line", "first\nsecond"]);
  });
});

describe("Composer text files", () => {
  const think: ThinkSetting = { available: false, on: false, onChange: () => {} };
  const notes = draftFile({ type: "file", name: "notes.md", text: "# Notes\n\nFirst line of the notes.\n" });
  const longName = `${"quarterly-report-".repeat(4)}final.csv`;
  const report = draftFile({ type: "file", name: longName, text: "a,b\n1,2" });
  const setting = (over: Partial<AttachmentsSetting> = {}): AttachmentsSetting => ({
    images: [],
    files: [notes, report],
    add: () => {},
    remove: () => {},
    problem: null,
    reading: false,
    ...over,
  });
  const composer = (attachments: AttachmentsSetting, onSubmit: (text: string) => void = () => {}, vision = false) => (
    <Composer busy={false} canStop={false} onSubmit={onSubmit} onStop={() => {}} stopping={false} think={think} draftKey="files" attachments={attachments} vision={vision} />
  );

  afterEach(() => localStorage.clear());

  it("shows each attached file as a chip: icon, name (whole in its title), lines and size, and a Remove button", () => {
    const removed: string[] = [];
    const view = render(composer(setting({ remove: (id) => removed.push(id) })));
    const chip = view.getByRole("figure", { name: "notes.md, 3 lines, 34 bytes" });
    expect(chip.getAttribute("title")).toBe("notes.md");
    expect(chip.querySelector(".file-chip__name")?.textContent).toBe("notes.md");
    expect(chip.querySelector(".file-chip__facts")?.textContent).toBe("3 lines · 34 bytes");
    expect(chip.querySelector("svg")).not.toBeNull();
    const long = view.getByRole("figure", { name: `${longName}, 2 lines, 7 bytes` });
    expect(long.getAttribute("title")).toBe(longName);
    fireEvent.click(view.getByRole("button", { name: `Remove ${longName}` }));
    expect(removed).toEqual([report.id]);
  });

  it("sends with files for a model that cannot see images: no vision note, and the text is still required", () => {
    const sent: string[] = [];
    const view = render(composer(setting(), (text) => sent.push(text)));
    const box = view.container.querySelector("textarea")!;
    expect(view.queryByRole("alert")).toBeNull();
    // The server takes no message without text: files alone do not make one.
    expect(view.getByRole("button", { name: "Send" }).hasAttribute("disabled")).toBe(true);
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual([]);
    fireEvent.change(box, { target: { value: "Summarise these" } });
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual(["Summarise these"]);
  });

  it("waits for files still being read before sending, and says why a file was refused", () => {
    const sent: string[] = [];
    const view = render(composer(setting({ files: [], reading: true, problem: "report.pdf is not a text file." }), (text) => sent.push(text)));
    const box = view.container.querySelector("textarea")!;
    fireEvent.change(box, { target: { value: "Read this" } });
    expect(view.getByRole("button", { name: "Send" }).hasAttribute("disabled")).toBe(true);
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual([]);
    expect(view.getByRole("alert").textContent).toBe("report.pdf is not a text file.");
    view.rerender(composer(setting({ files: [notes], reading: false, problem: "report.pdf is not a text file." }), (text) => sent.push(text)));
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual(["Read this"]);
  });

  it("offers any file to the chooser (the bytes decide) and hands picked, pasted and dropped files to the tray", () => {
    const added: string[][] = [];
    const view = render(composer(setting({ files: [], add: (files) => added.push(files.map((f) => f.name)) }), () => {}, true));
    expect(view.getByRole("button", { name: "Attach files" }).getAttribute("title")).toBe("Attach images or text files (or paste or drop them)");
    const input = view.getByTestId("attach-input") as HTMLInputElement;
    // No accept list: code files have hundreds of extensions, and many no text/* type.
    expect(input.hasAttribute("accept")).toBe(false);
    const main = new File(["fn main() {}"], "main.rs");
    fireEvent.change(input, { target: { files: [main] } });
    const form = view.container.querySelector("form")!;
    const pasted = fireEvent.paste(form, { clipboardData: { files: [new File(["x"], "pasted.txt")], types: ["Files"] } });
    const dropped = fireEvent.drop(form, { dataTransfer: { files: [new File(["y"], "dropped.log")], types: ["Files"] } });
    expect(added).toEqual([["main.rs"], ["pasted.txt"], ["dropped.log"]]);
    // Taken by the tray, not by the text box.
    expect([pasted, dropped]).toEqual([false, false]);
  });

  it("says quietly when the files are longer than the model reads at once, and still sends", () => {
    const sent: string[] = [];
    const budget = draftFile({ type: "file", name: "budget.csv", text: "1,2\n".repeat(4_000) });
    const model = (contextLength: number | undefined) => ({ value: "llava", onChange: () => {}, note: null, contextLength });
    const withModel = (files: AttachmentsSetting["files"], contextLength: number | undefined) => (
      <Composer
        busy={false}
        canStop={false}
        onSubmit={(text) => sent.push(text)}
        onStop={() => {}}
        stopping={false}
        think={think}
        draftKey="files"
        attachments={setting({ files })}
        model={model(contextLength)}
        maxContextTokens={32_768}
      />
    );
    // 16,000 characters are ~4K tokens; a 4096-token window keeps 1024 for the answer. (The model menu asks for the list.)
    const models = { provider: "ollama", demo: false, defaultModel: "llava", models: [] };
    const view = render(withModel([budget], 4096), { wrapper: trpcWrapper(() => models) });
    const note = view.getByTestId("context-fit-note");
    expect(note.getAttribute("role")).toBe("status");
    expect(note.textContent).toBe("budget.csv is about 4K tokens; this model has room for about 3K here, so it will see only part of it.");
    expect(view.queryByRole("alert")).toBeNull();
    const box = view.container.querySelector("textarea")!;
    expect(box.getAttribute("aria-describedby")).toContain(note.id);
    fireEvent.change(box, { target: { value: "Total?" } });
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual(["Total?"]);

    // A window that holds it, a window the server does not tell, or no file: nothing to say (the region stays, empty).
    view.rerender(withModel([budget], 8192));
    expect(view.getByTestId("context-fit-note").textContent).toBe("");
    expect(box.getAttribute("aria-describedby")).not.toContain(note.id);
    view.rerender(withModel([budget], undefined));
    expect(view.getByTestId("context-fit-note").textContent).toBe("");
    view.rerender(withModel([], 4096));
    expect(view.getByTestId("context-fit-note").textContent).toBe("");

    // A pasted text longer than the window, without files, is said too; past the length limit only that limit is.
    fireEvent.change(box, { target: { value: "word ".repeat(4_000) } });
    expect(view.getByTestId("context-fit-note").textContent).toBe("This message is about 5K tokens; this model has room for about 3K here, so it will see only part of it.");
    fireEvent.change(box, { target: { value: "x".repeat(40_000) } });
    expect(view.getByTestId("context-fit-note").textContent).toBe("");
    expect(view.getByTestId("limit-note")).toBeTruthy();
  });

  it("leaves cells pasted with a picture of them to the text box for a model that cannot see images", () => {
    const added: string[][] = [];
    const view = render(composer(setting({ files: [], add: (files) => added.push(files.map((f) => f.name)) })));
    const form = view.container.querySelector("form")!;
    const cells = { files: [new File(["png"], "image.png", { type: "image/png" })], types: ["text/plain", "Files"], getData: (type: string) => (type === "text/plain" ? "a\tb" : "") };
    expect(fireEvent.paste(form, { clipboardData: cells })).toBe(true);
    expect(added).toEqual([]);
    // For a model that sees images, the picture is what was pasted (as before).
    view.rerender(composer(setting({ files: [], add: (files) => added.push(files.map((f) => f.name)) }), () => {}, true));
    expect(fireEvent.paste(form, { clipboardData: cells })).toBe(false);
    expect(added).toEqual([["image.png"]]);
  });
});
