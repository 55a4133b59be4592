/**
 * What the vision demo model "sees" in an image: its type and dimensions from the header (PNG, JPEG, GIF,
 * WebP), and for PNG the dominant colour from the decoded pixels (node:zlib inflate of the IDAT data, then
 * PNG's per-row unfiltering). No image library: the formats' headers are small and documented
 * (PNG: RFC 2083 / W3C PNG spec; JPEG: ITU T.81 SOFn markers; GIF89a; WebP RIFF container, VP8/VP8L/VP8X).
 */
import { inflateSync } from "node:zlib";

export type ImageKind = "PNG" | "JPEG" | "GIF" | "WebP";

export interface DominantColour {
  hex: string;
  name: string;
  /** Share of the visible (not transparent) pixels in the winning colour bucket, 0..1. */
  share: number;
}

export interface ImageInfo {
  kind: ImageKind;
  width: number;
  height: number;
  /** PNG only, when the pixels could be decoded. */
  dominant?: DominantColour;
  /** Why there is no colour (format, interlacing, size, all transparent…). */
  note?: string;
}

/** Images larger than this are described by their header only (the demo decodes small images). */
const maxDecodedPixels = 4_000_000;

export function kindOf(bytes: Uint8Array): ImageKind | undefined {
  const at = (sig: number[], offset = 0) => sig.every((b, i) => bytes[offset + i] === b);
  if (at([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "PNG";
  if (at([0xff, 0xd8, 0xff])) return "JPEG";
  if (at([0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return "GIF";
  if (at([0x52, 0x49, 0x46, 0x46]) && at([0x57, 0x45, 0x42, 0x50], 8)) return "WebP";
  return undefined;
}

/** The image's type, size and (PNG) dominant colour; undefined when the bytes are no image it knows. */
export function describeImage(bytes: Buffer): ImageInfo | undefined {
  try {
    switch (kindOf(bytes)) {
      case "PNG":
        return describePng(bytes);
      case "JPEG":
        return withNote(jpegSize(bytes), "JPEG", "I only see the colours of PNG images");
      case "GIF":
        return withNote(bytes.length >= 10 ? { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) } : undefined, "GIF", "I only see the colours of PNG images");
      case "WebP":
        return withNote(webpSize(bytes), "WebP", "I only see the colours of PNG images");
      default:
        return undefined;
    }
  } catch {
    return undefined; // a header that lies about its lengths: not an image we can read
  }
}

function withNote(size: { width: number; height: number } | undefined, kind: ImageKind, note: string): ImageInfo | undefined {
  return size ? { kind, ...size, note } : undefined;
}

function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2; // markers without a length
      continue;
    }
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  return undefined;
}

function webpSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 30) return undefined;
  const chunk = bytes.toString("latin1", 12, 16);
  if (chunk === "VP8 ") return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  if (chunk === "VP8L") {
    const bits = bytes.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") return { width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  return undefined;
}

const channelsOf: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function describePng(bytes: Buffer): ImageInfo | undefined {
  let offset = 8;
  let header: { width: number; height: number; depth: number; colourType: number; interlace: number } | undefined;
  let palette: Buffer | undefined;
  let paletteAlpha: Buffer | undefined;
  const data: Buffer[] = [];
  while (offset + 8 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    if (offset + 12 + length > bytes.length) break; // a chunk running past the end: the file is cut or lies
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR" && body.length >= 13) {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8]!, colourType: body[9]!, interlace: body[12]! };
    } else if (type === "PLTE") palette = body;
    else if (type === "tRNS") paletteAlpha = body;
    else if (type === "IDAT") data.push(body);
    else if (type === "IEND") break;
    offset += 12 + length;
  }
  if (!header) return undefined;
  const info: ImageInfo = { kind: "PNG", width: header.width, height: header.height };
  const channels = channelsOf[header.colourType];
  if (channels === undefined) return { ...info, note: "its colour type is not a standard PNG one" };
  if (header.interlace !== 0) return { ...info, note: "it is interlaced, and I only decode plain PNG rows" };
  if (header.width * header.height > maxDecodedPixels) return { ...info, note: "it is too large for me to look at every pixel" };
  const bitsPerPixel = channels * header.depth;
  const stride = Math.ceil((header.width * bitsPerPixel) / 8);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(data), { maxOutputLength: (stride + 1) * header.height + 1 });
  } catch {
    return { ...info, note: "its pixel data is damaged" };
  }
  if (raw.length < (stride + 1) * header.height) return { ...info, note: "its pixel data is incomplete" };
  const rows = unfilter(raw, header.height, stride, Math.max(1, bitsPerPixel >> 3));
  if (!rows) return { ...info, note: "its pixel data is damaged" };
  const dominant = dominantColour(rows, header, channels, palette, paletteAlpha);
  return dominant ? { ...info, dominant } : { ...info, note: "it is fully transparent" };
}

/** PNG filter types 0–4 (None, Sub, Up, Average, Paeth), applied per row; `bpp` bytes per pixel (≥1). */
function unfilter(raw: Buffer, height: number, stride: number, bpp: number): Buffer | undefined {
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[prev + x]! : 0;
      const c = x >= bpp && y > 0 ? out[prev + x - bpp]! : 0;
      const value = raw[src + x]!;
      let predicted: number;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = a;
          break;
        case 2:
          predicted = b;
          break;
        case 3:
          predicted = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          return undefined;
      }
      out[row + x] = (value + predicted) & 0xff;
    }
  }
  return out;
}

function dominantColour(
  rows: Buffer,
  header: { width: number; height: number; depth: number; colourType: number },
  channels: number,
  palette: Buffer | undefined,
  paletteAlpha: Buffer | undefined,
): DominantColour | undefined {
  const { width, height, depth, colourType } = header;
  const stride = Math.ceil((width * channels * depth) / 8);
  const maxSample = (1 << depth) - 1;
  // The n-th sample of a row, scaled to 0..255 (16-bit samples keep their high byte; indices stay indices).
  const sample = (row: number, n: number, scale: boolean): number => {
    if (depth === 8) return rows[row + n]!;
    if (depth === 16) return rows[row + n * 2]!;
    const bit = n * depth;
    const value = (rows[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) & maxSample;
    return scale ? Math.round((value * 255) / maxSample) : value;
  };
  // 16×16×16 buckets: close shades count as one colour; each bucket keeps its exact sums for the average.
  const counts = new Uint32Array(4096);
  const sums = new Float64Array(4096 * 3);
  let visible = 0;
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = 0; x < width; x++) {
      let r: number;
      let g: number;
      let b: number;
      let alpha = 255;
      const n = x * channels;
      if (colourType === 3) {
        const index = sample(row, n, false);
        if (!palette || index * 3 + 2 >= palette.length) continue;
        r = palette[index * 3]!;
        g = palette[index * 3 + 1]!;
        b = palette[index * 3 + 2]!;
        if (paletteAlpha && index < paletteAlpha.length) alpha = paletteAlpha[index]!;
      } else if (colourType === 0 || colourType === 4) {
        r = g = b = sample(row, n, true);
        if (colourType === 4) alpha = sample(row, n + 1, true);
      } else {
        r = sample(row, n, true);
        g = sample(row, n + 1, true);
        b = sample(row, n + 2, true);
        if (colourType === 6) alpha = sample(row, n + 3, true);
      }
      if (alpha < 128) continue;
      const bucket = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
      counts[bucket]! += 1;
      sums[bucket * 3]! += r;
      sums[bucket * 3 + 1]! += g;
      sums[bucket * 3 + 2]! += b;
      visible += 1;
    }
  }
  if (visible === 0) return undefined;
  let best = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i]! > counts[best]!) best = i;
  const count = counts[best]!;
  const rgb = [0, 1, 2].map((c) => Math.round(sums[best * 3 + c]! / count)) as [number, number, number];
  const hex = `#${rgb.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
  return { hex, name: colourName(...rgb), share: count / visible };
}

/** A plain-English name for a colour, from its hue, saturation and lightness. */
export function colourName(r: number, g: number, b: number): string {
  const max = Math.max(r, g, b) / 255;
  const min = Math.min(r, g, b) / 255;
  const lightness = (max + min) / 2;
  const delta = max - min;
  const saturation = delta === 0 ? 0 : delta / (1 - Math.abs(2 * lightness - 1));
  if (lightness < 0.1) return "black";
  if (lightness > 0.93) return "white";
  if (saturation < 0.15) return lightness < 0.35 ? "dark grey" : lightness > 0.7 ? "light grey" : "grey";
  let hue: number;
  if (max === r / 255) hue = (((g - b) / 255 / delta) % 6) * 60;
  else if (max === g / 255) hue = ((b - r) / 255 / delta + 2) * 60;
  else hue = ((r - g) / 255 / delta + 4) * 60;
  if (hue < 0) hue += 360;
  // Purple and magenta share hues: bright saturated ones read as magenta, darker ones as purple.
  if (hue >= 255 && hue < 320) {
    if (lightness > 0.75) return "light purple";
    return lightness >= 0.45 && saturation > 0.6 ? "magenta" : "purple";
  }
  const base =
    hue < 15 || hue >= 345
      ? "red"
      : hue < 40
        ? lightness < 0.4
          ? "brown"
          : "orange"
        : hue < 70
          ? "yellow"
          : hue < 160
            ? "green"
            : hue < 200
              ? "cyan"
              : hue < 255
                ? "blue"
                : "pink";
  if (base === "brown") return base;
  if (lightness < 0.3) return `dark ${base}`;
  if (lightness > 0.75) return `light ${base}`;
  return base;
}
