import { Inflate, inflateSync } from "fflate";
import { ZipReadError } from "./zip.js";

// A ZIP archive read where it lies (a browser's File, Node's fs.openAsBlob): its central directory first, then only
// the entries asked for, by their offsets. A data export's pictures sit anywhere in it, before or after its
// conversations.json, so reading them as the archive streams by would mean holding all of them; read here, an entry
// costs nothing until it is asked for. fflate (already the streamed reader's) inflates; the directory's records are
// read here because fflate reads archives whole or front to back only.

/** One file of the archive, as its central directory lists it. */
export interface ZipEntry {
  /** Its path in the archive ("folder/name.png"). */
  name: string;
  /** 0 stored, 8 deflated; anything else cannot be read. */
  method: number;
  encrypted: boolean;
  compressedSize: number;
  /** Its size once inflated, as the directory says. */
  size: number;
  localHeaderOffset: number;
}

const eocdSignature = 0x06054b50;
const eocdBytes = 22;
const zip64LocatorSignature = 0x07064b50;
const zip64LocatorBytes = 20;
const zip64EocdSignature = 0x06064b50;
const centralHeaderSignature = 0x02014b50;
const localHeaderSignature = 0x04034b50;
/** A 32-bit field holding this (or a 16-bit one 0xffff) says the value is in the ZIP64 records. */
const inZip64 = 0xffffffff;
/** The longest comment an archive may end with. */
const maxCommentBytes = 0xffff;

const damaged = (cause?: unknown) => new ZipReadError("This ZIP file could not be read: it is damaged or cut short.", cause === undefined ? undefined : { cause });

/** A little-endian reader over a DataView that throws ZipReadError instead of RangeError past its end. */
class Fields {
  constructor(
    private readonly view: DataView,
    private readonly base = 0,
  ) {}

  u16(at: number): number {
    return this.read(() => this.view.getUint16(this.base + at, true));
  }

  u32(at: number): number {
    return this.read(() => this.view.getUint32(this.base + at, true));
  }

  /** A 64-bit field as a number: archives past 2^53 bytes are not on anyone's disk. */
  u64(at: number): number {
    return this.read(() => Number(this.view.getBigUint64(this.base + at, true)));
  }

  at(offset: number): Fields {
    return new Fields(this.view, this.base + offset);
  }

  private read(get: () => number): number {
    try {
      return get();
    } catch (error) {
      throw damaged(error);
    }
  }
}

async function bytesAt(blob: Blob, start: number, length: number): Promise<Uint8Array> {
  if (start < 0 || length < 0 || start + length > blob.size) throw damaged();
  return new Uint8Array(await blob.slice(start, start + length).arrayBuffer());
}

function fieldsOf(bytes: Uint8Array): Fields {
  return new Fields(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

const names = new TextDecoder();

export class ZipArchive {
  private constructor(
    private readonly blob: Blob,
    readonly entries: readonly ZipEntry[],
  ) {}

  /**
   * Reads the archive's central directory (ZIP64 too). Throws ZipReadError when the blob is no ZIP archive or its
   * directory is damaged or cut short.
   */
  static async open(blob: Blob): Promise<ZipArchive> {
    const tailStart = Math.max(0, blob.size - eocdBytes - maxCommentBytes);
    const tail = await bytesAt(blob, tailStart, blob.size - tailStart);
    const tailFields = fieldsOf(tail);
    // The end record is the last signature that leaves room for its own comment.
    let eocd = -1;
    for (let at = tail.length - eocdBytes; at >= 0; at--) {
      if (tailFields.u32(at) === eocdSignature && at + eocdBytes + tailFields.u16(at + 20) <= tail.length) {
        eocd = at;
        break;
      }
    }
    if (eocd < 0) throw damaged();
    const end = tailFields.at(eocd);
    let count = end.u16(10);
    let directorySize = end.u32(12);
    let directoryOffset = end.u32(16);
    if (count === 0xffff || directorySize === inZip64 || directoryOffset === inZip64) {
      const locatorAt = tailStart + eocd - zip64LocatorBytes;
      const locator = fieldsOf(await bytesAt(blob, locatorAt, zip64LocatorBytes));
      if (locator.u32(0) !== zip64LocatorSignature) throw damaged();
      const record = fieldsOf(await bytesAt(blob, locator.u64(8), 56));
      if (record.u32(0) !== zip64EocdSignature) throw damaged();
      count = record.u64(32);
      directorySize = record.u64(40);
      directoryOffset = record.u64(48);
    }
    const directoryBytes = await bytesAt(blob, directoryOffset, directorySize);
    const directory = fieldsOf(directoryBytes);
    const entries: ZipEntry[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (directory.u32(at) !== centralHeaderSignature) throw damaged();
      const nameLength = directory.u16(at + 28);
      const extraLength = directory.u16(at + 30);
      const commentLength = directory.u16(at + 32);
      if (at + 46 + nameLength + extraLength > directoryBytes.length) throw damaged();
      const entry: ZipEntry = {
        name: names.decode(directoryBytes.subarray(at + 46, at + 46 + nameLength)),
        method: directory.u16(at + 10),
        encrypted: (directory.u16(at + 8) & 1) === 1,
        compressedSize: directory.u32(at + 20),
        size: directory.u32(at + 24),
        localHeaderOffset: directory.u32(at + 42),
      };
      readZip64Extra(entry, directory.at(at + 46 + nameLength), extraLength);
      entries.push(entry);
      at += 46 + nameLength + extraLength + commentLength;
    }
    return new ZipArchive(blob, entries);
  }

  /** The entry at `name`'s place, or the first whose last part is `name` (a file in a folder of the archive). */
  find(fileName: string): ZipEntry | undefined {
    return this.entries.find((entry) => entry.name === fileName) ?? this.entries.find((entry) => entry.name.split("/").pop() === fileName);
  }

  /**
   * An entry's bytes, inflated, when it is at most `maxBytes` (as the directory says, and as it inflates); undefined
   * when larger. Throws ZipReadError when it cannot be read (damaged, encrypted, another compression).
   */
  async bytes(entry: ZipEntry, maxBytes: number): Promise<Uint8Array | undefined> {
    if (entry.size > maxBytes) return undefined;
    const stored = await bytesAt(this.blob, await this.dataStart(entry), entry.compressedSize);
    if (entry.method === 0) {
      if (stored.length !== entry.size) throw damaged();
      return stored;
    }
    try {
      const inflated = inflateSync(stored, { out: new Uint8Array(entry.size) });
      if (inflated.length !== entry.size) throw damaged();
      return inflated;
    } catch (error) {
      throw error instanceof ZipReadError ? error : damaged(error);
    }
  }

  /**
   * An entry's text (UTF-8) in pieces as it is inflated from slices of the archive, never held whole; `onRead` is
   * told how many of its compressed bytes have been read so far. Throws ZipReadError as `bytes` does.
   */
  async *textPieces(entry: ZipEntry, onRead?: (compressedBytes: number) => void): AsyncGenerator<string, void, undefined> {
    const start = await this.dataStart(entry);
    const end = start + entry.compressedSize;
    if (end > this.blob.size) throw damaged();
    const decoder = new TextDecoder();
    const ready: string[] = [];
    let complete = entry.method === 0;
    const inflate =
      entry.method === 0
        ? undefined
        : new Inflate((data, final) => {
            const text = decoder.decode(data, { stream: true });
            if (text !== "") ready.push(text);
            if (final) complete = true;
          });
    const slice = 1 << 20;
    for (let at = start; at < end; at += slice) {
      const chunk = new Uint8Array(await this.blob.slice(at, Math.min(end, at + slice)).arrayBuffer());
      onRead?.(Math.min(end, at + slice) - start);
      if (inflate) {
        try {
          inflate.push(chunk, at + slice >= end);
        } catch (error) {
          throw damaged(error);
        }
      } else {
        const text = decoder.decode(chunk, { stream: true });
        if (text !== "") ready.push(text);
      }
      yield* ready.splice(0);
    }
    if (!complete) throw new ZipReadError(`This ZIP file is cut short: its ${entry.name.split("/").pop() ?? "file"} is not whole.`);
    const rest = decoder.decode();
    if (rest !== "") yield rest;
  }

  private async dataStart(entry: ZipEntry): Promise<number> {
    if (entry.encrypted) throw new ZipReadError(`This ZIP file's ${entry.name} is encrypted: unpack it first, with its password.`);
    if (entry.method !== 0 && entry.method !== 8) throw new ZipReadError(`This ZIP file's ${entry.name} is compressed in a way this reader does not know: unpack it first.`);
    const header = fieldsOf(await bytesAt(this.blob, entry.localHeaderOffset, 30));
    if (header.u32(0) !== localHeaderSignature) throw damaged();
    return entry.localHeaderOffset + 30 + header.u16(26) + header.u16(28);
  }
}

/** The ZIP64 extra field (id 1) holds, in this order, each of the three values whose 32-bit field is full. */
function readZip64Extra(entry: ZipEntry, extra: Fields, length: number): void {
  for (let at = 0; at + 4 <= length; ) {
    const id = extra.u16(at);
    const size = extra.u16(at + 2);
    if (id === 1) {
      let field = at + 4;
      const next = (): number => {
        if (field + 8 > at + 4 + size) throw damaged();
        const value = extra.u64(field);
        field += 8;
        return value;
      };
      if (entry.size === inZip64) entry.size = next();
      if (entry.compressedSize === inZip64) entry.compressedSize = next();
      if (entry.localHeaderOffset === inZip64) entry.localHeaderOffset = next();
      return;
    }
    at += 4 + size;
  }
}
