import { describe, expect, it, vi } from "vitest";
import { readDraftImages } from "./images.js";

// A real 1×1 PNG.
const png = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"), (c) => c.charCodeAt(0));

// Node's File reads its bytes like the browser's (jsdom's cannot); ids.ts asks the window for a secure context.
vi.stubGlobal("window", { isSecureContext: true });

describe("draft images", () => {
  it("reads image files by their bytes and refuses other files and a fifth image", async () => {
    const files = [new File([png], "dot.png", { type: "image/png" }), new File(["hello"], "notes.txt", { type: "text/plain" })];
    const read = await readDraftImages(files, 0);
    expect(read.images.map((i) => [i.name, i.attachment.mimeType, i.attachment.data.length > 0])).toEqual([["dot.png", "image/png", true]]);
    expect(read.images[0]?.url.startsWith("data:image/png;base64,iVBOR")).toBe(true);
    expect(read.problem).toBe("notes.txt is not a PNG, JPEG, WebP or GIF image.");
    const full = await readDraftImages([new File([png], "five.png")], 4);
    expect(full).toEqual({ images: [], problem: "At most 4 images per message." });
  });

});
