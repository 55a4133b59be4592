import { describe, expect, it } from "vitest";
import { base64DecodedBytes, checkImages, defaultMaxImageBytes, formatBytes, imageAttachmentSchema, sniffImageType, type ImageAttachment } from "./attachments.js";
import { solidPng } from "@streamchat/ollama-sim";

const png: ImageAttachment = { type: "image", mimeType: "image/png", data: solidPng(4, 3, [255, 0, 0]).toString("base64") };
const b64 = (bytes: number[] | Buffer) => Buffer.from(bytes).toString("base64");

describe("sniffImageType", () => {
  it("knows the four signatures and nothing else", () => {
    expect(sniffImageType(solidPng(1, 1, [0, 0, 0]))).toBe("image/png");
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe("image/jpeg");
    expect(sniffImageType(Buffer.from("GIF89a..."))).toBe("image/gif");
    expect(sniffImageType(Buffer.from("GIF87a..."))).toBe("image/gif");
    expect(sniffImageType(Buffer.from("RIFF\0\0\0\0WEBPVP8 "))).toBe("image/webp");
    expect(sniffImageType(Buffer.from("RIFF\0\0\0\0WAVEfmt "))).toBeUndefined();
    expect(sniffImageType(Buffer.from("GIF88a"))).toBeUndefined();
    expect(sniffImageType(Buffer.from("<svg xmlns=…"))).toBeUndefined();
    expect(sniffImageType(new Uint8Array())).toBeUndefined();
  });
});

describe("base64DecodedBytes", () => {
  it("sizes padded standard base64 without decoding it, and rejects anything else", () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100]) expect(base64DecodedBytes(Buffer.alloc(n).toString("base64"))).toBe(n);
    expect(base64DecodedBytes("abc")).toBeUndefined(); // unpadded
    expect(base64DecodedBytes("ab-_")).toBeUndefined(); // URL-safe alphabet
    expect(base64DecodedBytes("ab c")).toBeUndefined();
    expect(base64DecodedBytes("a===")).toBeUndefined();
  });
});

describe("checkImages", () => {
  it("accepts PNG, JPEG, WebP and GIF images of their declared type, up to four", () => {
    const images: ImageAttachment[] = [
      png,
      { type: "image", mimeType: "image/jpeg", data: b64([0xff, 0xd8, 0xff, 0xdb, 0, 0]) },
      { type: "image", mimeType: "image/webp", data: b64(Buffer.from("RIFF\x10\0\0\0WEBPVP8L")) },
      { type: "image", mimeType: "image/gif", data: b64(Buffer.from("GIF89a\x01\0\x01\0")) },
    ];
    expect(checkImages(images)).toBeUndefined();
    expect(checkImages([])).toBeUndefined();
  });

  it("refuses a fifth image, naming the limit", () => {
    const error = checkImages([png, png, png, png, png]);
    expect(error).toMatchObject({ code: "bad_request", message: "Too many images: at most 4 per message, got 5." });
  });

  it("refuses a PNG declared as JPEG (the bytes decide, not the label)", () => {
    const error = checkImages([{ ...png, mimeType: "image/jpeg" }]);
    expect(error).toMatchObject({ code: "bad_request", message: "The image is declared image/jpeg but its content is a PNG image (image/png)." });
  });

  it("refuses bytes that are no image, invalid base64, a data: URL and an empty image", () => {
    expect(checkImages([png, { ...png, data: b64(Buffer.from("MZ\x90\0 this is an executable")) }])?.message).toBe(
      "Image 2 is not a PNG, JPEG, WebP or GIF image.",
    );
    expect(checkImages([{ ...png, data: "not base64!" }])?.message).toBe("The image is not valid base64.");
    expect(checkImages([{ ...png, data: `data:image/png;base64,${png.data}` }])?.message).toBe('The image must be plain base64, without the "data:…;base64," prefix.');
    expect(checkImages([{ ...png, data: "" }])?.message).toBe("The image is empty.");
  });

  it("refuses an image over the decoded size limit with a message naming the limit", () => {
    // A PNG signature followed by zeros: one byte over the default 5 MiB.
    const big = Buffer.alloc(defaultMaxImageBytes + 1);
    solidPng(1, 1, [0, 0, 0]).copy(big);
    const error = checkImages([{ ...png, data: big.toString("base64") }]);
    expect(error).toMatchObject({ code: "bad_request", message: "The image is 5 MiB (5242881 bytes); each image may be at most 5 MiB (5242880 bytes)." });
    // Exactly at the limit is fine; a configured limit is named in its own message.
    expect(checkImages([{ ...png, data: big.subarray(0, defaultMaxImageBytes).toString("base64") }])).toBeUndefined();
    expect(checkImages([png], { maxBytes: 10 })?.message).toMatch(/^The image is \d+ bytes \(\d+ bytes\); each image may be at most 10 bytes \(10 bytes\)\.$/);
    expect(checkImages([png, png], { maxCount: 1 })?.message).toBe("Too many images: at most 1 per message, got 2.");
  });

  it("formats sizes for those messages", () => {
    expect(formatBytes(5 * 1024 * 1024)).toBe("5 MiB");
    expect(formatBytes(6.25 * 1024 * 1024)).toBe("6.3 MiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(12)).toBe("12 bytes");
  });

  it("the attachment schema takes the DESIGN §9 shape and only the four types", () => {
    expect(imageAttachmentSchema.safeParse(png).success).toBe(true);
    expect(imageAttachmentSchema.safeParse({ ...png, mimeType: "image/svg+xml" }).success).toBe(false);
    expect(imageAttachmentSchema.safeParse({ ...png, type: "file" }).success).toBe(false);
  });
});
