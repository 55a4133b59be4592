import { describe, expect, it } from "vitest";
import { colourName, describeImage } from "./image-info.js";
import { encodePng, solidPng } from "./test-images.js";

describe("describeImage — PNG (decoded pixels)", () => {
  it("reads the size and the dominant colour of a solid RGB image", () => {
    expect(describeImage(solidPng(4, 3, [255, 0, 0]))).toEqual({
      kind: "PNG",
      width: 4,
      height: 3,
      dominant: { hex: "#ff0000", name: "red", share: 1 },
    });
  });

  it("undoes every filter type (None, Sub, Up, Average, Paeth) on a gradient", () => {
    // 7 of 8 columns blue-ish, one white: every row uses another filter, so each must be undone exactly.
    const png = encodePng(8, 10, (x, y) => (x === 7 ? [255, 255, 255] : [16 + (y % 8), 32 + x, 192 + y]), { filters: [0, 1, 2, 3, 4] });
    const info = describeImage(png);
    expect(info).toMatchObject({ kind: "PNG", width: 8, height: 10, dominant: { name: "blue" } });
    expect(info?.dominant?.share).toBeCloseTo(7 / 8, 5);
  });

  it("ignores transparent pixels (RGBA) and reads grey, grey+alpha, 16-bit and palette images", () => {
    const rgba = encodePng(4, 4, (x) => (x < 3 ? [0, 0, 0, 0] : [0, 200, 0, 255]), { colourType: 6 });
    expect(describeImage(rgba)?.dominant).toMatchObject({ name: "green", share: 1 });
    expect(describeImage(encodePng(2, 2, () => [0], { colourType: 0 }))?.dominant?.name).toBe("black");
    expect(describeImage(encodePng(2, 2, () => [255, 255], { colourType: 4 }))?.dominant?.name).toBe("white");
    expect(describeImage(encodePng(3, 1, () => [65535, 32768, 0], { bitDepth: 16, filters: [1] }))?.dominant).toMatchObject({ hex: "#ff8000", name: "orange" });
    const palette = encodePng(5, 2, (x) => [x < 4 ? 1 : 0], {
      colourType: 3,
      bitDepth: 2,
      palette: [
        [255, 255, 0],
        [128, 0, 128],
      ],
    });
    expect(describeImage(palette)).toMatchObject({ width: 5, height: 2, dominant: { hex: "#800080", name: "purple", share: 0.8 } });
    const hidden = encodePng(2, 2, () => [0], { colourType: 3, palette: [[1, 2, 3]], paletteAlpha: [0] });
    expect(describeImage(hidden)).toMatchObject({ width: 2, note: "it is fully transparent" });
  });
});

describe("describeImage — sizes from the headers of JPEG, GIF and WebP", () => {
  it("JPEG: the SOF0 frame size after other segments", () => {
    const app0 = [0xff, 0xe0, 0x00, 0x10, ...Buffer.from("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0];
    const sof0 = [0xff, 0xc0, 0x00, 0x11, 8, 0x01, 0xe0, 0x02, 0x80, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
    const jpeg = Buffer.from([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xd9]);
    expect(describeImage(jpeg)).toMatchObject({ kind: "JPEG", width: 640, height: 480, note: expect.stringContaining("PNG") });
  });

  it("GIF: the logical screen size", () => {
    const gif = Buffer.from([...Buffer.from("GIF89a"), 0x20, 0x03, 0x58, 0x02, 0, 0, 0]);
    expect(describeImage(gif)).toMatchObject({ kind: "GIF", width: 800, height: 600 });
  });

  it("WebP: lossy (VP8), lossless (VP8L) and extended (VP8X)", () => {
    const riff = (chunk: string, body: number[]) => Buffer.from([...Buffer.from("RIFF"), 0, 0, 0, 0, ...Buffer.from("WEBP"), ...Buffer.from(chunk), 0, 0, 0, 0, ...body]);
    const vp8 = riff("VP8 ", [0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]);
    expect(describeImage(vp8)).toMatchObject({ kind: "WebP", width: 320, height: 240 });
    // VP8L: 0x2f, then 14 bits width-1 (99) and 14 bits height-1 (49), little-endian.
    const bits = 99 | (49 << 14);
    const vp8l = riff("VP8L", [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >> 24) & 0xff, 0, 0, 0, 0, 0]);
    expect(describeImage(vp8l)).toMatchObject({ width: 100, height: 50 });
    const vp8x = riff("VP8X", [0, 0, 0, 0, 0x1f, 0x03, 0x00, 0xdf, 0x01, 0x00]);
    expect(describeImage(vp8x)).toMatchObject({ width: 800, height: 480 });
  });

  it("is undefined for bytes that are no known image, and for a PNG whose header lies", () => {
    expect(describeImage(Buffer.from("just some text, not an image"))).toBeUndefined();
    const png = solidPng(2, 2, [0, 0, 255]);
    png.writeUInt32BE(0xffffffff, 8); // IHDR length far past the end
    expect(describeImage(png)).toBeUndefined();
  });
});

describe("colourName", () => {
  it("names hues, shades and greys", () => {
    expect(colourName(255, 0, 0)).toBe("red");
    expect(colourName(0, 0, 128)).toBe("dark blue");
    expect(colourName(173, 216, 230)).toBe("light cyan");
    expect(colourName(128, 128, 128)).toBe("grey");
    expect(colourName(139, 69, 19)).toBe("brown");
    expect(colourName(255, 255, 255)).toBe("white");
    expect(colourName(255, 0, 255)).toBe("magenta");
    expect(colourName(128, 0, 128)).toBe("purple");
    expect(colourName(255, 105, 180)).toBe("pink");
  });
});
