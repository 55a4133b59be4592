/**
 * How many times the simulator was asked the same thing: the same model and messages (what the model sees; sampling
 * and other options aside). A regenerated answer's request is its first answer's again, and the demo model may say it
 * differently each time (demo-sampling.ts). The newest `capacity` requests are remembered, so a long-running demo
 * keeps a bounded map.
 */
import { createHash } from "node:crypto";
import type { SimChatRequest } from "./types.js";

export class RequestRepeats {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = 10_000) {}

  /** The number of identical requests before this one (0 for the first), counting this one. */
  next(req: Pick<SimChatRequest, "model" | "messages">): number {
    const key = createHash("sha256").update(req.model).update("\u0000").update(JSON.stringify(req.messages)).digest("base64");
    const before = this.seen.get(key) ?? 0;
    // Re-inserted: the Map's order is then least recently asked first, which is what goes when it is full.
    this.seen.delete(key);
    this.seen.set(key, before + 1);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value as string);
    return before;
  }
}
