import { closeSync, openSync, readSync } from "node:fs";

/** The WAL's length in frames, and how many of them are in the database already. */
export interface WalLength {
  length: number;
  copied: number;
}

/**
 * The WAL's length from the wal-index header, as SQLite documents it ("WAL-mode file formats": `mxFrame` at byte 16,
 * `nBackfill`, the frames already copied, at byte 96; native byte order). Shared memory that SQLite maps: a read
 * sees it as the connections left it. A torn read only moves the moment of a checkpoint; SQLite checks what it reads.
 */
export class WalIndexReader {
  readonly #path: string;
  readonly #header = new Uint32Array(25);
  readonly #bytes = new Uint8Array(this.#header.buffer);
  #fd: number | null = null;

  constructor(databasePath: string) {
    this.#path = `${databasePath}-shm`;
  }

  /** The WAL's length and how much of it is in the database; null while there is no wal-index (yet). */
  read(): WalLength | null {
    if (!this.#read()) return null;
    return { length: this.#header[4]!, copied: this.#header[24]! };
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #read(): boolean {
    if (this.#fd === null) {
      try {
        this.#fd = openSync(this.#path, "r");
      } catch {
        return false; // no wal-index yet
      }
    }
    return readSync(this.#fd, this.#bytes, 0, this.#bytes.length, 0) === this.#bytes.length;
  }
}

/** A WAL of at least `frames` frames, some of them not in the database yet (the worker's threshold). */
export function checkpointDue(wal: WalLength | null, frames: number): wal is WalLength {
  return wal !== null && wal.length >= frames && wal.copied < wal.length;
}
