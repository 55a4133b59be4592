// @vitest-environment jsdom
import { File as NodeFile } from "node:buffer";
import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { draftStore } from "../chat/draftStore.js";
import { useAttachmentDrafts } from "./useAttachmentDrafts.js";

/** Node's File reads its bytes like a browser's; jsdom's cannot. */
const file = (bytes: string | Uint8Array, name: string) => new NodeFile([bytes], name) as unknown as File;
const limits = { maxChars: 1_000, maxCount: 2 };

describe("the composer's attachments", () => {
  it("reads added files into the tray, says why one was refused, and is reading until it is done", async () => {
    const { result } = renderHook(() => useAttachmentDrafts({ vision: false, fileLimits: limits }));
    act(() => result.current.add([file("hello\nworld\n", "notes.txt"), file(new Uint8Array([0x25, 0x50, 0xff, 0xfe]), "report.pdf")]));
    expect(result.current.reading).toBe(true);
    await waitFor(() => expect(result.current.reading).toBe(false));
    expect(result.current.files.map((f) => f.attachment)).toEqual([{ type: "file", name: "notes.txt", text: "hello\nworld\n" }]);
    expect(result.current.problem).toBe("report.pdf is not a text file.");

    // Two files a message (this server's limit): the one already there counts.
    act(() => result.current.add([file("b", "b.txt"), file("c", "c.txt")]));
    await waitFor(() => expect(result.current.files).toHaveLength(2));
    expect(result.current.problem).toBe("At most 2 files per message.");

    // Removing one takes the refusal away with it; sending takes them all.
    act(() => result.current.remove(result.current.files[1]!.id));
    expect([result.current.files.length, result.current.problem]).toEqual([1, null]);
    let taken: ReturnType<typeof result.current.take> | undefined;
    act(() => {
      taken = result.current.take();
    });
    expect(taken?.files.map((f) => f.attachment.name)).toEqual(["notes.txt"]);
    expect(result.current.files).toEqual([]);
  });

  it("gives a message's files back first when it was not sent, once, and takes them out again when Retry sends it", () => {
    const { result } = renderHook(() => useAttachmentDrafts({ vision: true, fileLimits: { maxChars: 1_000, maxCount: 8 } }));
    const notes = { type: "file" as const, name: "notes.md", text: "# Notes" };
    const image = { type: "image" as const, mimeType: "image/png" as const, data: "iVBORw0KGgo=" };
    act(() => result.current.restore([{ type: "file", name: "later.txt", text: "typed after" }], () => "image"));
    act(() => result.current.restore([image, notes], () => "photo.png"));
    act(() => result.current.restore([notes], () => "image")); // given back twice: once in the tray
    expect(result.current.files.map((f) => f.attachment.name)).toEqual(["notes.md", "later.txt"]);
    expect(result.current.images.map((i) => i.name)).toEqual(["photo.png"]);
    act(() => result.current.drop([image, notes]));
    expect(result.current.files.map((f) => f.attachment.name)).toEqual(["later.txt"]);
    expect(result.current.images).toEqual([]);
  });

  describe("kept with the draft", () => {
    afterEach(() => localStorage.clear());
    const opts = (draftKey: string) => ({ vision: true, fileLimits: { maxChars: 1_000, maxCount: 8 }, draftKey });
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);

    it("keeps the text files (not images) as they change, brings them back, and forgets them once sent", async () => {
      const first = renderHook(() => useAttachmentDrafts(opts("c1")));
      act(() => first.result.current.add([file("# Notes\n", "notes.md"), file("a,b\n", "data.csv"), file(png, "photo.png")]));
      await waitFor(() => expect(first.result.current.reading).toBe(false));
      expect(first.result.current.images).toHaveLength(1);
      expect(draftStore.files("c1")).toEqual([
        { name: "notes.md", text: "# Notes\n" },
        { name: "data.csv", text: "a,b\n" },
      ]);
      act(() => first.result.current.remove(first.result.current.files[0]!.id));
      expect(draftStore.files("c1")).toEqual([{ name: "data.csv", text: "a,b\n" }]);
      first.unmount();

      // A reload: the pane opens with them in its tray.
      const again = renderHook(() => useAttachmentDrafts(opts("c1")));
      expect(again.result.current.files.map((d) => d.attachment)).toEqual([{ type: "file", name: "data.csv", text: "a,b\n" }]);
      expect([again.result.current.images, again.result.current.problem]).toEqual([[], null]);
      act(() => void again.result.current.take());
      expect(draftStore.files("c1")).toEqual([]);
      again.unmount();
      expect(renderHook(() => useAttachmentDrafts(opts("c1"))).result.current.files).toEqual([]);
    });

    it("checks files brought back against the limits, as picked ones, and says why one is not back", () => {
      draftStore.setFiles("c1", [
        { name: "ok.txt", text: "fine" },
        { name: "long.txt", text: "x".repeat(1_001) },
      ]);
      const { result } = renderHook(() => useAttachmentDrafts(opts("c1")));
      expect(result.current.files.map((d) => d.attachment.name)).toEqual(["ok.txt"]);
      expect(result.current.problem).toBe("long.txt is too long: 1,001 characters, at most 1,000.");
    });

    it("moves a new chat's files to its conversation, and leaves alone files it did not change", () => {
      draftStore.setFiles("new", [{ name: "plan.md", text: "plan" }]);
      const { result, rerender } = renderHook((key: string) => useAttachmentDrafts(opts(key)), { initialProps: "new" });
      expect(result.current.files).toHaveLength(1);
      rerender("c9");
      expect([draftStore.files("new"), draftStore.files("c9")]).toEqual([[], [{ name: "plan.md", text: "plan" }]]);

      // Another tab kept files for c2; this pane of c2 opened before they were written: sending an empty tray keeps them.
      const other = renderHook(() => useAttachmentDrafts(opts("c2")));
      draftStore.setFiles("c2", [{ name: "there.txt", text: "from the other tab" }]);
      act(() => void other.result.current.take());
      expect(draftStore.files("c2")).toEqual([{ name: "there.txt", text: "from the other tab" }]);
    });
  });
});
