/**
 * The bounded record of requests behind `Simulator.requests`: a long-running simulator (the API's demo
 * fallback answers every health probe and chat for weeks) must not keep every request it ever saw.
 * Entries beyond `maxEntries` are dropped oldest first; request bodies are kept newest first while their
 * raw sizes fit `maxBodyBytes`, older ones lose their body (`bodyDropped`) but keep the metadata tests read
 * (`clientClosedEarly`, `finished`, `scenario`…).
 */
import type { RecordedRequest } from "./types.js";

/** Entries kept by default: more than any one test suite makes, a few hundred KB of metadata at most. */
export const defaultMaxRecordedRequests = 1000;
/** Raw body bytes kept by default across the retained entries. */
export const defaultMaxRecordedBodyBytes = 2 * 1024 * 1024;

export interface RequestLogLimits {
  maxEntries: number;
  maxBodyBytes: number;
}

export class RequestLog {
  /** Live array, oldest first: `Simulator.requests` hands out this very array. */
  readonly entries: RecordedRequest[] = [];
  private bodyBytes = 0;

  constructor(private readonly limits: RequestLogLimits) {}

  /** Raw bytes of the bodies still held. */
  retainedBodyBytes(): number {
    return this.bodyBytes;
  }

  add(record: RecordedRequest): void {
    if (this.limits.maxEntries <= 0) return;
    this.entries.push(record);
    while (this.entries.length > this.limits.maxEntries) {
      const evicted = this.entries.shift();
      if (evicted && evicted.body !== undefined) this.bodyBytes -= evicted.bodyBytes;
    }
  }

  /** Attaches a request's body (read after the record was added) and drops old bodies over the budget. */
  setBody(record: RecordedRequest, body: unknown, bytes: number): void {
    record.bodyBytes = bytes;
    if (body === undefined) return;
    // A record the log does not hold lives only as long as its request (or a test's ControlledStream):
    // its body costs nothing once the request is over.
    if (!this.entries.includes(record)) {
      record.body = body;
      return;
    }
    if (bytes > this.limits.maxBodyBytes) {
      record.bodyDropped = true;
      return;
    }
    record.body = body;
    this.bodyBytes += bytes;
    for (const entry of this.entries) {
      if (this.bodyBytes <= this.limits.maxBodyBytes) break;
      if (entry === record || entry.body === undefined) continue;
      this.bodyBytes -= entry.bodyBytes;
      entry.body = undefined;
      entry.bodyDropped = true;
    }
  }
}
