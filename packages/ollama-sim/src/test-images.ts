/**
 * Real images for tests of image input (this package's and every other's): a PNG encoder (signature, IHDR, PLTE/tRNS
 * when asked, zlib-deflated IDAT, IEND, CRCs) and a JPEG header. Exported so the workspace has one encoder.
 */
import { crc32, deflateSync } from "node:zlib";

export interface PngOptions {
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA (default 2). */
  colourType?: 0 | 2 | 3 | 4 | 6;
  /** 1, 2, 4, 8 or 16 (default 8). */
  bitDepth?: number;
  /** Palette entries [r,g,b] for colour type 3, with optional alpha per entry. */
  palette?: Array<[number, number, number]>;
  paletteAlpha?: number[];
  /** The filter type written before each row (0–4), cycled over the rows (default [0]). */
  filters?: number[];
  /** Pads the file to exactly this many bytes with a tEXt chunk (ancillary: decoders skip it), for images at a size limit. */
  bytes?: number;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** `sample(x, y)` returns the pixel's samples (channel values, or a palette index) at the bit depth. */
export function encodePng(width: number, height: number, sample: (x: number, y: number) => number[], opts: PngOptions = {}): Buffer {
  const colourType = opts.colourType ?? 2;
  const depth = opts.bitDepth ?? 8;
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType];
  const stride = Math.ceil((width * channels * depth) / 8);
  const bpp = Math.max(1, (channels * depth) >> 3);
  const filters = opts.filters ?? [0];
  const rows: Buffer[] = [];
  let previous = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(stride);
    let bit = 0;
    for (let x = 0; x < width; x++) {
      for (const value of sample(x, y)) {
        if (depth === 16) row.writeUInt16BE(value, bit >> 3);
        else if (depth === 8) row[bit >> 3] = value;
        else row[bit >> 3]! |= value << (8 - depth - (bit & 7));
        bit += depth;
      }
    }
    const filter = filters[y % filters.length]!;
    const out = Buffer.alloc(stride + 1);
    out[0] = filter;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp]! : 0;
      const b = previous[i]!;
      const c = i >= bpp ? previous[i - bpp]! : 0;
      const paeth = () => {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      };
      const predicted = [0, a, b, (a + b) >> 1, paeth()][filter]!;
      out[i + 1] = (row[i]! - predicted) & 0xff;
    }
    rows.push(out);
    previous = row;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = depth;
  header[9] = colourType;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header)];
  if (opts.palette) parts.push(chunk("PLTE", Buffer.from(opts.palette.flat())));
  if (opts.paletteAlpha) parts.push(chunk("tRNS", Buffer.from(opts.paletteAlpha)));
  parts.push(chunk("IDAT", deflateSync(Buffer.concat(rows))));
  const end = chunk("IEND", Buffer.alloc(0));
  if (opts.bytes !== undefined) {
    // The tEXt chunk's data: keyword, NUL, text; 12 bytes of chunk framing around it.
    const data = opts.bytes - Buffer.concat(parts).length - end.length - 12;
    if (data < 8) throw new Error(`a ${width}×${height} PNG padded with a tEXt chunk needs more than ${opts.bytes} bytes`);
    parts.push(chunk("tEXt", Buffer.concat([Buffer.from("Comment\0", "latin1"), Buffer.alloc(data - 8, "x")])));
  }
  return Buffer.concat([...parts, end]);
}

/** A solid-colour 8-bit RGB PNG (`bytes`: padded to exactly that size). */
export function solidPng(width: number, height: number, rgb: [number, number, number], opts: { bytes?: number } = {}): Buffer {
  return encodePng(width, height, () => rgb, opts);
}

/** A tiny real JPEG header (SOI, APP0 JFIF, SOF0 with the size): enough for signature checks and the simulator's size reading. */
export function jpegHeader(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}
