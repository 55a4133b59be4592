// @vitest-environment jsdom
import { File as NodeFile } from "node:buffer";
import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
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
});
