import { describe, expect, it, vi } from "vitest";
import { attachmentViews, readAttachments } from "./attachments.js";

// A real 1×1 PNG.
const png = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"), (c) => c.charCodeAt(0));
const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x9c, 0xb1]);
const limits = { maxChars: 1_000, maxCount: 8 };

// Node's File reads its bytes like the browser's (jsdom's cannot); ids.ts asks the window for a secure context.
vi.stubGlobal("window", { isSecureContext: true });

describe("sorting picked files into images and text files", () => {
  it("takes images by their bytes for a vision model, text files for any, and says why the rest was refused", async () => {
    const picked = [
      new File([png], "dot.png", { type: "image/png" }),
      new File(["const x = 1;\n"], "index.ts", { type: "video/mp2t" }), // what some systems call a .ts file
      new File([zip], "archive.zip", { type: "application/zip" }),
      new File(["<svg xmlns='http://www.w3.org/2000/svg'/>"], "logo.svg", { type: "image/svg+xml" }), // an image that is text
    ];
    const read = await readAttachments(picked, { vision: true, images: 0, files: 0, fileLimits: limits });
    expect(read.images.map((i) => [i.name, i.attachment.mimeType])).toEqual([["dot.png", "image/png"]]);
    expect(read.files.map((f) => f.attachment)).toEqual([
      { type: "file", name: "index.ts", text: "const x = 1;\n" },
      { type: "file", name: "logo.svg", text: "<svg xmlns='http://www.w3.org/2000/svg'/>" },
    ]);
    expect(read.problems).toEqual(["archive.zip is not a text file."]);
  });

  it("refuses an image for a model that cannot see images, and calls an unreadable photo no supported image for one that can", async () => {
    const dot = new File([png], "dot.png", { type: "image/png" });
    const heic = new File([new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63, 0xff])], "IMG_0001.heic", { type: "image/heic" });
    const blind = await readAttachments([dot, new File(["hi"], "a.txt")], { vision: false, images: 0, files: 0, fileLimits: limits });
    expect(blind.images).toEqual([]);
    expect(blind.files).toHaveLength(1);
    expect(blind.problems).toEqual(["dot.png is an image, and this model cannot see images."]);
    const seeing = await readAttachments([heic], { vision: true, images: 0, files: 0, fileLimits: limits });
    expect(seeing.problems).toEqual(["IMG_0001.heic is not a PNG, JPEG, WebP or GIF image."]);
    const other = await readAttachments([heic], { vision: false, images: 0, files: 0, fileLimits: limits });
    expect(other.problems).toEqual(["IMG_0001.heic is not a text file."]);
  });

  it("takes files up to the limit per message, names the limit once, and does not read the ones over it", async () => {
    const over = [new File(["ninth"], "ninth.txt"), new File(["tenth"], "tenth.txt")];
    const reads = over.map((f) => vi.spyOn(f, "arrayBuffer"));
    const read = await readAttachments([new File(["eighth"], "eighth.txt"), ...over], { vision: false, images: 0, files: 7, fileLimits: limits });
    expect(read.files.map((f) => f.attachment.name)).toEqual(["eighth.txt"]);
    expect(read.problems).toEqual(["At most 8 files per message."]);
    for (const spy of reads) expect(spy).not.toHaveBeenCalled();
    // The server's own limit, when health told a lower one.
    const fewer = await readAttachments([new File(["a"], "a.txt"), new File(["b"], "b.txt")], { vision: false, images: 0, files: 0, fileLimits: { maxChars: 10, maxCount: 1 } });
    expect([fewer.files.length, fewer.problems]).toEqual([1, ["At most 1 file per message."]]);
  });

  it("shows a message's attachments before the server has it as the server will: images first, files with their length", () => {
    const image = { type: "image" as const, mimeType: "image/png" as const, data: "iVBORw0KGgo=" };
    expect(attachmentViews([{ type: "file", name: "a.md", text: "hello" }, image])).toEqual([image, { type: "file", name: "a.md", chars: 5, text: "hello" }]);
  });
});
