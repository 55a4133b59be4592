import { crc32, deflateSync } from "node:zlib";

/** One PNG chunk: length, type, data, CRC-32 over type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A real solid-colour RGB PNG: signature, IHDR, one zlib IDAT, IEND. `bytes` pads it to exactly that size with a
 * tEXt chunk (ancillary: decoders skip it), for images at a size limit.
 */
export function solidPng(width: number, height: number, rgb: [number, number, number], opts: { bytes?: number } = {}): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(Array.from({ length: height }, () => row)))),
  ];
  const end = chunk("IEND", Buffer.alloc(0));
  if (opts.bytes !== undefined) {
    // The tEXt chunk's data: keyword, NUL, text; 12 bytes of chunk framing around it.
    const data = opts.bytes - Buffer.concat(parts).length - end.length - 12;
    if (data < 8) throw new Error(`a ${width}×${height} PNG padded with a tEXt chunk needs more than ${opts.bytes} bytes`);
    parts.push(chunk("tEXt", Buffer.concat([Buffer.from("Comment\0", "latin1"), Buffer.alloc(data - 8, "x")])));
  }
  return Buffer.concat([...parts, end]);
}

export const pngBase64 = (width: number, height: number, rgb: [number, number, number], opts: { bytes?: number } = {}) =>
  solidPng(width, height, rgb, opts).toString("base64");

/** A tiny real JPEG header (SOI, APP0 JFIF, SOF0 with the size): enough for signature checks and the simulator's size reading. */
export function jpegHeader(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}
